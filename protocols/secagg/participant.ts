/**
 * The SecAgg+ participant as a pure state machine (style.md C2). The runner
 * (node/runners/secagg-participant.ts) decodes requests, calls `step`, writes the audit records the
 * step returns, signs `toSign` with the identity key and sends the reply; this file does no I/O.
 *
 * Rules enforced in `step`, each with its own test (tests/unit/secagg/participant-rules.test.ts):
 * - advertise-keys: parameters are safe (params.ts: 2t > |holders|), every participant is a pinned
 *   node member; fresh X25519 key pairs (c for share encryption, s for mask agreement) and a fresh
 *   self-mask seed b are drawn for every round (never reused);
 * - share-keys: each bundle is a neighbour's, signed by that member's identity key over
 *   (jobId, round, peer, c_pk, s_pk), and every public key in the round is distinct; my own bundle
 *   must come back unaltered; at least t - 1 neighbours remain;
 * - masked-input: each share opens under AAD (jobId, round, 'share-keys', src, me) and carries my
 *   x coordinate; at least t - 1 neighbours' shares arrived;
 * - consistency-check: the survivor set contains me, has >= t members and >= t - 1 of the
 *   neighbours I masked with (so my pairwise masks still hide my input once b_u is revealed);
 * - unmask (participant-unmask.ts): lists disjoint, only peers whose shares I hold, consistent with
 *   the set I signed, >= t survivors, t valid consistency signatures in each named peer's
 *   neighbourhood, never both secrets of one peer;
 * - secrets (c_sk, s_sk, b, AEAD keys, pair seeds, held shares) are zeroed as soon as they are no
 *   longer needed, and all of them when the round ends or aborts.
 */
import { x25519Keygen, x25519Objects, x25519PrivateKeyObject } from '../../crypto/agreement.ts'
import { shareKeyFromSecret } from '../../crypto/aead.ts'
import { isCohortError } from '../../crypto/cohort-error.ts'
import { split } from '../../crypto/shamir.ts'
import { aRingVector } from '../../crypto/ring.ts'
import type { RingVector } from '../../crypto/ring.ts'
import { PROTOCOLS } from '../ids.ts'
import { assertTransition } from '../machine.ts'
import type { Machine } from '../machine.ts'
import type { PeerRef } from '../transport.ts'
import {
  SecaggBelowThresholdError,
  SecaggBundleError,
  SecaggConsistencyError,
  SecaggParamsError,
  SecaggShareError,
  SecaggVectorLengthError
} from './errors.ts'
import { applyMasks, maskSign, pairSeed, wipe } from './masking.ts'
import type { Mask } from './masking.ts'
import { vectorToBytes } from './messages.ts'
import type {
  AbortRequest,
  AdvertiseKeysRequest,
  ConsistencyCheckRequest,
  MaskedInputRequest,
  ShareKeysRequest
} from './messages.ts'
import {
  areNeighbours,
  auditHash,
  auditHashBytes,
  byIndex,
  holdersOf,
  indexOf,
  roundContext,
  xOf
} from './params.ts'
import type { RoundContext } from './params.ts'
import { EMPTY_SIG, wipeParticipant } from './participant-state.ts'
import type {
  ParticipantInit,
  ParticipantInput,
  ParticipantOutput,
  ParticipantResult,
  ParticipantState,
  RoundKeys
} from './participant-state.ts'
import { unmaskStep } from './participant-unmask.ts'
import { PARTICIPANT_TRANSITIONS } from './phases.ts'
import { bundlePayload, consistencyPayload, verifyPeerSignature } from './signatures.ts'
import { openSharePair, sealSharePair } from './shares.ts'
import type { SharePair } from './shares.ts'

export { withSignature, wipeParticipant } from './participant-state.ts'
export type {
  AuditRecord,
  ParticipantInit,
  ParticipantInput,
  ParticipantOutput,
  ParticipantState,
  ParticipantStats
} from './participant-state.ts'

type Result = ParticipantResult

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const equalBytes = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && Buffer.from(a).equals(Buffer.from(b))

function head(ctx: RoundContext) {
  return { v: 1 as const, jobId: ctx.jobId, round: ctx.round }
}

function advertise(state: ParticipantState, req: AdvertiseKeysRequest): Result {
  const t0 = performance.now()
  const { jobId, round, participants, t, k, ringBits, d, graphSeed } = req
  const ctx = roundContext({ jobId, round, participants, t, k, ringBits, d, graphSeed }, state.members)
  if (!ctx.index.has(state.self)) throw new SecaggParamsError('this node is not among the round participants')
  const c = x25519Keygen()
  const s = x25519Keygen()
  const keys: RoundKeys = {
    cSk: c.secretKey,
    cPk: c.publicKey,
    sSk: s.secretKey,
    sPk: s.publicKey,
    b: crypto.getRandomValues(new Uint8Array(32))
  }
  return {
    state: { ...state, phase: 'advertise-keys', ctx, keys },
    output: {
      reply: {
        ...head(ctx),
        phase: 'advertise-keys',
        bundle: { peer: state.self, cPk: keys.cPk, sPk: keys.sPk, sig: EMPTY_SIG }
      },
      toSign: bundlePayload(ctx.jobId, ctx.round, state.self, keys.cPk, keys.sPk),
      audit: [
        {
          kind: 'secagg-advertise-keys',
          body: {
            jobId: ctx.jobId,
            round: ctx.round,
            n: ctx.n,
            t: ctx.t,
            k: ctx.k,
            d: ctx.d,
            ringBits: ctx.ringBits,
            neighbours: ctx.graph.neighbours(indexOf(ctx, state.self)).length,
            participantsHash: auditHash(ctx.participants),
            graphSeed: hex(ctx.graphSeed),
            keysHash: auditHash([keys.cPk, keys.sPk])
          }
        }
      ],
      stats: { totalMs: performance.now() - t0 }
    }
  }
}

function shareKeys(state: ParticipantState, req: ShareKeysRequest): Result {
  const t0 = performance.now()
  const ctx = state.ctx!
  const keys = state.keys!
  const seenPeers = new Set<PeerRef>()
  const seenKeys = new Set<string>([hex(keys.cPk), hex(keys.sPk)])
  const accepted = new Map<PeerRef, { cPk: Uint8Array; sPk: Uint8Array }>()
  for (const bundle of req.bundles) {
    const peer = bundle.peer
    if (seenPeers.has(peer)) throw new SecaggBundleError(`two bundles for ${peer}`, peer)
    seenPeers.add(peer)
    if (peer === state.self) {
      if (!equalBytes(bundle.cPk, keys.cPk) || !equalBytes(bundle.sPk, keys.sPk)) {
        throw new SecaggBundleError('my own key bundle came back altered', peer)
      }
      continue
    }
    if (!areNeighbours(ctx, state.self, peer)) {
      throw new SecaggBundleError(`${peer} is not my neighbour in this round's graph`, peer)
    }
    const payload = bundlePayload(ctx.jobId, ctx.round, peer, bundle.cPk, bundle.sPk)
    if (!verifyPeerSignature(peer, payload, bundle.sig)) {
      throw new SecaggBundleError(
        `the key bundle of ${peer} is not signed by that member's identity key for job ${ctx.jobId} round ${ctx.round}`,
        peer
      )
    }
    for (const key of [bundle.cPk, bundle.sPk]) {
      const h = hex(key)
      if (seenKeys.has(h))
        throw new SecaggBundleError(`a public key of ${peer} is used twice in this round`, peer)
      seenKeys.add(h)
    }
    accepted.set(peer, { cPk: bundle.cPk, sPk: bundle.sPk })
  }
  const verifyMs = performance.now() - t0
  if (accepted.size + 1 < ctx.t) {
    throw new SecaggBelowThresholdError(
      `only ${accepted.size} neighbours advertised keys; ${ctx.t - 1} are needed for threshold ${ctx.t}`
    )
  }
  const t1 = performance.now()
  const cObj = x25519PrivateKeyObject(keys.cSk)
  const aeadKeys = new Map<PeerRef, Uint8Array>()
  try {
    for (const [peer, pk] of accepted) {
      const ss = agree(cObj, pk.cPk, peer)
      aeadKeys.set(peer, shareKeyFromSecret(ss))
      wipe(ss)
    }
  } catch (err) {
    for (const k of aeadKeys.values()) wipe(k)
    throw err
  }
  const t2 = performance.now()
  const holders = holdersOf(ctx, state.self)
  const bShares = split(keys.b, ctx.t, holders.length)
  const sShares = split(keys.sSk, ctx.t, holders.length)
  const t3 = performance.now()
  const ownX = xOf(ctx, state.self, state.self)
  const held = new Map<PeerRef, SharePair>([
    [state.self, { x: ownX, b: bShares[ownX - 1]!.y, s: sShares[ownX - 1]!.y }]
  ])
  const out: Array<{ dst: PeerRef; sealed: Uint8Array }> = []
  for (const peer of accepted.keys()) {
    const x = xOf(ctx, state.self, peer)
    const sealed = sealSharePair(
      aeadKeys.get(peer)!,
      { x, b: bShares[x - 1]!.y, s: sShares[x - 1]!.y },
      { jobId: ctx.jobId, round: ctx.round, src: state.self, dst: peer }
    )
    out.push({ dst: peer, sealed })
  }
  for (let i = 0; i < holders.length; i++) if (i !== ownX - 1) wipe(bShares[i]!.y, sShares[i]!.y)
  return {
    state: { ...state, phase: 'share-keys', peers: accepted, aeadKeys, held },
    output: {
      reply: { ...head(ctx), phase: 'share-keys', shares: out },
      audit: [
        {
          kind: 'secagg-share-keys',
          body: {
            jobId: ctx.jobId,
            round: ctx.round,
            bundlesReceived: req.bundles.length,
            neighboursAccepted: accepted.size,
            sharesSent: out.length,
            bundlesHash: auditHash(req.bundles.flatMap((b) => [b.peer, b.cPk, b.sPk]))
          }
        }
      ],
      stats: { totalMs: performance.now() - t0, verifyMs, keyAgreementMs: t2 - t1, shamirMs: t3 - t2 }
    }
  }
}

function agree(
  privateKey: ReturnType<typeof x25519PrivateKeyObject>,
  peerPk: Uint8Array,
  peer: PeerRef
): Uint8Array {
  try {
    return x25519Objects(privateKey, peerPk)
  } catch (err) {
    if (isCohortError(err))
      throw new SecaggBundleError(`the public key of ${peer} is unusable: ${err.message}`, peer)
    throw err
  }
}

function maskedInput(state: ParticipantState, req: MaskedInputRequest, input: RingVector): Result {
  const t0 = performance.now()
  const ctx = state.ctx!
  const keys = state.keys!
  try {
    aRingVector(input, ctx.ringBits, 'input')
  } catch {
    throw new SecaggVectorLengthError(`the input vector is not a ${ctx.ringBits}-bit ring vector`)
  }
  if (input.length !== ctx.d) {
    throw new SecaggVectorLengthError(
      `the input vector has ${input.length} elements, the round needs ${ctx.d}`
    )
  }
  const held = state.held
  const senders: PeerRef[] = []
  for (const { src, sealed } of req.shares) {
    if (held.has(src)) throw new SecaggShareError(`two shares from ${src}`, src)
    const key = state.aeadKeys.get(src)
    if (key === undefined)
      throw new SecaggShareError(`${src} is not a neighbour whose key bundle I accepted`, src)
    const pair = openSharePair(key, sealed, { jobId: ctx.jobId, round: ctx.round, src, dst: state.self })
    if (pair.x !== xOf(ctx, src, state.self)) {
      wipe(pair.b, pair.s)
      throw new SecaggShareError(`the share from ${src} carries x = ${pair.x}, not mine`, src)
    }
    held.set(src, pair)
    senders.push(src)
  }
  if (senders.length + 1 < ctx.t) {
    throw new SecaggBelowThresholdError(
      `only ${senders.length} neighbours shared keys with me; ${ctx.t - 1} are needed for threshold ${ctx.t}`
    )
  }
  const maskedWith = byIndex(ctx, senders)
  const t1 = performance.now()
  const selfIndex = indexOf(ctx, state.self)
  const sObj = x25519PrivateKeyObject(keys.sSk)
  const masks: Mask[] = [{ seed: keys.b, sign: 1 }]
  for (const peer of maskedWith) {
    const ss = agree(sObj, state.peers.get(peer)!.sPk, peer)
    masks.push({
      seed: pairSeed(ss, { jobId: ctx.jobId, round: ctx.round, a: state.self, b: peer }),
      sign: maskSign(selfIndex, indexOf(ctx, peer))
    })
    wipe(ss)
  }
  const t2 = performance.now()
  const y = input instanceof Uint32Array ? new Uint32Array(input) : new BigUint64Array(input)
  applyMasks(y, masks, ctx.ringBits)
  const t3 = performance.now()
  for (const m of masks) wipe(m.seed)
  // Everything but the held shares is spent: the key pairs and b never leave this node again.
  wipe(keys.cSk, keys.sSk, keys.b)
  for (const k of state.aeadKeys.values()) wipe(k)
  state.aeadKeys.clear()
  const yBytes = vectorToBytes(y)
  return {
    state: { ...state, phase: 'masked-input', maskedWith },
    output: {
      reply: { ...head(ctx), phase: 'masked-input', y: yBytes },
      audit: [
        {
          kind: 'secagg-masked-input',
          body: {
            jobId: ctx.jobId,
            round: ctx.round,
            sharesReceived: senders.length,
            maskedWith: maskedWith.length,
            d: ctx.d,
            ringBits: ctx.ringBits,
            maskedInputHash: auditHashBytes(yBytes)
          }
        }
      ],
      stats: { totalMs: performance.now() - t0, keyAgreementMs: t2 - t1, prgMs: t3 - t2 }
    }
  }
}

function consistencyCheck(state: ParticipantState, req: ConsistencyCheckRequest): Result {
  const t0 = performance.now()
  const ctx = state.ctx!
  const set = new Set<PeerRef>()
  for (const p of req.survivors) {
    if (set.has(p)) throw new SecaggConsistencyError(`${p} appears twice in the survivor set`)
    if (!ctx.index.has(p)) throw new SecaggConsistencyError(`${p} is not a participant of this round`)
    set.add(p)
  }
  if (!set.has(state.self)) throw new SecaggConsistencyError('the survivor set does not contain me')
  if (set.size < ctx.t) {
    throw new SecaggBelowThresholdError(`only ${set.size} survivors; the threshold is ${ctx.t}`)
  }
  const liveMasked = state.maskedWith.filter((p) => set.has(p)).length
  if (liveMasked + 1 < ctx.t) {
    throw new SecaggBelowThresholdError(
      `only ${liveMasked} of the neighbours I masked with survive; ${ctx.t - 1} are needed to keep my input hidden`
    )
  }
  const survivors = byIndex(ctx, set)
  return {
    state: { ...state, phase: 'consistency-check', signedSurvivors: survivors },
    output: {
      reply: { ...head(ctx), phase: 'consistency-check', sig: EMPTY_SIG },
      toSign: consistencyPayload(ctx.jobId, ctx.round, survivors),
      audit: [
        {
          kind: 'secagg-consistency-check',
          body: {
            jobId: ctx.jobId,
            round: ctx.round,
            survivors: survivors.length,
            survivorsHash: auditHash(survivors),
            liveMaskedNeighbours: liveMasked
          }
        }
      ],
      stats: { totalMs: performance.now() - t0 }
    }
  }
}

function abort(state: ParticipantState, req: AbortRequest): Result {
  wipeParticipant(state)
  const jobId = state.ctx?.jobId ?? req.jobId
  const round = state.ctx?.round ?? req.round
  return {
    state: { ...state, phase: 'aborted', keys: undefined },
    output: {
      reply: { v: 1, jobId, round, phase: 'aborted' },
      audit: [
        {
          kind: 'secagg-aborted',
          body: { jobId, round, fromPhase: state.phase, reason: req.reason.slice(0, 200) }
        }
      ],
      stats: { totalMs: 0 }
    }
  }
}

function checkRoute(state: ParticipantState, req: { jobId: string; round: number }): void {
  const ctx = state.ctx
  if (ctx !== undefined && (req.jobId !== ctx.jobId || req.round !== ctx.round)) {
    throw new SecaggParamsError(
      `message for job ${req.jobId} round ${req.round} reached the state of job ${ctx.jobId} round ${ctx.round}`
    )
  }
}

/**
 * The participant machine.
 *
 * @example
 * let s = secaggParticipantMachine.init({ self, members })
 * const r = secaggParticipantMachine.step(s, { phase: 'advertise-keys', request })
 */
export const secaggParticipantMachine: Machine<ParticipantState, ParticipantInput, ParticipantOutput> =
  Object.freeze({
    protocol: PROTOCOLS.secagg,
    transitions: PARTICIPANT_TRANSITIONS,
    init(params: unknown): ParticipantState {
      const p = params as ParticipantInit
      if (typeof p?.self !== 'string' || !(p.members instanceof Set)) {
        throw new SecaggParamsError('participant init needs { self, members }')
      }
      return {
        phase: 'init',
        self: p.self,
        members: p.members,
        ctx: undefined,
        keys: undefined,
        peers: new Map(),
        aeadKeys: new Map(),
        held: new Map(),
        maskedWith: [],
        signedSurvivors: undefined,
        revealedSelf: new Set(),
        revealedKey: new Set()
      }
    },
    step(state: ParticipantState, input: ParticipantInput): Result {
      assertTransition(PARTICIPANT_TRANSITIONS, state.phase, input.phase)
      checkRoute(state, input.request)
      switch (input.phase) {
        case 'advertise-keys':
          return advertise(state, input.request)
        case 'share-keys':
          return shareKeys(state, input.request)
        case 'masked-input':
          return maskedInput(state, input.request, input.input)
        case 'consistency-check':
          return consistencyCheck(state, input.request)
        case 'unmask':
          return unmaskStep(state, input.request)
        case 'aborted':
          return abort(state, input.request)
      }
    }
  })
