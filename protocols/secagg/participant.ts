/**
 * The SecAgg+ participant as a pure state machine (style.md C2). The runner
 * (node/runners/secagg-participant.ts) decodes requests, calls `step`, writes the audit records the
 * step returns, signs `toSign` with the identity key and sends the reply; this file does no I/O.
 *
 * Rules enforced in `step`, each with its own test (tests/unit/secagg/participant-rules.test.ts):
 * - advertise-keys: parameters are safe (params.ts: 2t > |holders|), every participant is a pinned
 *   node member; fresh X25519 key pairs (c for share encryption, s for mask agreement) and a fresh
 *   self-mask seed b are drawn for every round (never reused);
 * - share-keys (participant-share-keys.ts): each bundle is a neighbour's, signed by that member's
 *   identity key over (jobId, round, peer, c_pk, s_pk), and every public key in the round is
 *   distinct; my own bundle must come back unaltered; at least t - 1 neighbours remain;
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
import { x25519KeygenWithObject } from '../../crypto/agreement.ts'
import { aRingVector } from '../../crypto/ring.ts'
import type { RingVector } from '../../crypto/ring.ts'
import { PROTOCOLS } from '../ids.ts'
import { assertTransition } from '../machine.ts'
import type { Machine } from '../machine.ts'
import type { PeerRef } from '../transport.ts'
import {
  SecaggBelowThresholdError,
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
  MaskedInputRequest
} from './messages.ts'
import { auditHash, auditHashBytes, byIndex, indexOf, neighboursOf, roundContext, xOf } from './params.ts'
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
import { agreeWithPeer, shareKeysStep } from './participant-share-keys.ts'
import { unmaskStep } from './participant-unmask.ts'
import { createPairAuthSession, pairMacs } from './pair-auth.ts'
import { PARTICIPANT_TRANSITIONS } from './phases.ts'
import { bundlePayload, consistencyPayload } from './signatures.ts'
import { openSharePair } from './shares.ts'

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

function head(ctx: RoundContext) {
  return { v: 1 as const, jobId: ctx.jobId, round: ctx.round }
}

function advertise(state: ParticipantState, req: AdvertiseKeysRequest): Result {
  const t0 = performance.now()
  const { jobId, round, participants, t, k, ringBits, d, graphSeed } = req
  const ctx = roundContext({ jobId, round, participants, t, k, ringBits, d, graphSeed }, state.members)
  if (!ctx.index.has(state.self)) throw new SecaggParamsError('this node is not among the round participants')
  const c = x25519KeygenWithObject()
  const s = x25519KeygenWithObject()
  const keys: RoundKeys = {
    cSk: c.secretKey,
    cPk: c.publicKey,
    sSk: s.secretKey,
    sPk: s.publicKey,
    b: crypto.getRandomValues(new Uint8Array(32)),
    cObj: c.privateKey,
    sObj: s.privateKey
  }
  const aPk = state.auth.aPk
  const payload = bundlePayload(ctx.jobId, ctx.round, state.self, keys.cPk, keys.sPk, aPk)
  const macs = pairMacs(state.auth, neighboursOf(ctx, state.self), payload)
  return {
    state: { ...state, phase: 'advertise-keys', ctx, keys },
    output: {
      reply: {
        ...head(ctx),
        phase: 'advertise-keys',
        bundle: { peer: state.self, cPk: keys.cPk, sPk: keys.sPk, aPk, sig: EMPTY_SIG, macs }
      },
      toSign: payload,
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
  const sObj = keys.sObj
  const masks: Mask[] = [{ seed: keys.b, sign: 1 }]
  for (const peer of maskedWith) {
    const ss = agreeWithPeer(sObj, state.peers.get(peer)!.sPk, peer)
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
  const payload = consistencyPayload(ctx.jobId, ctx.round, survivors)
  return {
    state: { ...state, phase: 'consistency-check', signedSurvivors: survivors },
    output: {
      reply: {
        ...head(ctx),
        phase: 'consistency-check',
        sig: EMPTY_SIG,
        macs: pairMacs(state.auth, survivors, payload)
      },
      toSign: payload,
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
        auth: p.auth ?? createPairAuthSession(p.self),
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
          return shareKeysStep(state, input.request)
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
