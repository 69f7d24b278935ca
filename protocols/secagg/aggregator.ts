/**
 * The SecAgg+ aggregator (the coordinator's role) as a pure state machine. The driver
 * (coordinator/secagg/run-round.ts) sends the requests an `advance` step returns, feeds every reply
 * back as a `reply` step as it arrives (so masked vectors are summed on arrival and never held
 * together), and advances when the phase's deadline passes or every party answered.
 *
 * Like Flower's SecAggPlusWorkflow, each advance narrows the active set to the parties that
 * replied and re-checks the threshold; below t the round aborts before anything more is revealed.
 * Unlike Flower, the aggregator also protects the round from a faulty participant: it verifies key
 * bundles (signature against the sender's peer id, distinct keys, no low-order points) before
 * relaying them, so one bad bundle cannot make every honest neighbour refuse the round.
 */
import { CohortError, isCohortError } from '../../crypto/cohort-error.ts'
import { ringAddInPlace, ringZeros } from '../../crypto/ring.ts'
import { PROTOCOLS } from '../ids.ts'
import { assertTransition, PhaseError } from '../machine.ts'
import type { Machine } from '../machine.ts'
import type { PeerRef } from '../transport.ts'
import { finishRound, unmaskRequests } from './aggregator-reconstruct.ts'
import type {
  AggregatorInit,
  AggregatorInput,
  AggregatorOutput,
  AggregatorResult,
  AggregatorState,
  Rejection
} from './aggregator-state.ts'
import {
  SecaggAbortedError,
  SecaggBelowThresholdError,
  SecaggBundleError,
  SecaggReplyError
} from './errors.ts'
import { zeroVector } from './masking.ts'
import { bytesToVector } from './messages.ts'
import type { KeyBundle, RelayedBundle, SecaggReply, SecaggRequest } from './messages.ts'
import { byIndex, neighboursOf, roundContext, xOf } from './params.ts'
import { AGGREGATOR_TRANSITIONS } from './phases.ts'
import type { SecaggPhase } from './phases.ts'
import { bundlePayload, consistencyPayload, verifyPeerSignature } from './signatures.ts'
import { isSmallOrderX25519 } from './small-order.ts'

export type {
  AggregatorInit,
  AggregatorInput,
  AggregatorOutput,
  AggregatorState,
  AggregatorStats,
  Rejection,
  SecaggResult
} from './aggregator-state.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

function head(s: AggregatorState) {
  return { v: 1 as const, jobId: s.ctx.jobId, round: s.ctx.round }
}

/** Ends the round: the error is returned (not thrown) so the driver can tell the parties. */
export function abortRound(state: AggregatorState, error: CohortError): AggregatorResult {
  const notify = state.ctx.participants.filter((p) => !state.finished.has(p))
  state.phase = 'aborted'
  zeroVector(state.sum)
  return { state, output: { kind: 'aborted', error, notify } }
}

function below(state: AggregatorState, what: string, have: number): AggregatorResult {
  return abortRound(
    state,
    new SecaggBelowThresholdError(
      `${what}: ${have} left, the threshold is ${state.ctx.t}; the round is aborted`
    )
  )
}

function requests(
  state: AggregatorState,
  phase: SecaggPhase,
  map: Map<PeerRef, SecaggRequest>
): AggregatorResult {
  state.phase = phase
  state.awaiting = new Set(map.keys())
  return { state, output: { kind: 'requests', phase, requests: map } }
}

// ------------------------------------------------------------------ replies

function acceptBundle(
  state: AggregatorState,
  from: PeerRef,
  reply: Extract<SecaggReply, { phase: 'advertise-keys' }>
) {
  const { ctx } = state
  const b = reply.bundle
  if (b.peer !== from) throw new SecaggBundleError(`${from} sent a bundle naming ${b.peer}`, from)
  if (!verifyPeerSignature(from, bundlePayload(ctx.jobId, ctx.round, from, b.cPk, b.sPk, b.aPk), b.sig)) {
    throw new SecaggBundleError(
      `the key bundle of ${from} is not signed by its identity key for this round`,
      from
    )
  }
  for (const pk of [b.cPk, b.sPk, b.aPk]) {
    if (isSmallOrderX25519(pk)) throw new SecaggBundleError(`${from} advertised an unusable public key`, from)
  }
  const keys = [hex(b.cPk), hex(b.sPk)]
  if (keys[0] === keys[1]) throw new SecaggBundleError(`${from} advertised the same key twice`, from)
  for (const key of keys) {
    const owner = state.keyOwner.get(key)
    if (owner !== undefined) {
      // Nobody can tell which party copied the other: neither bundle is relayed.
      state.bundles.delete(owner)
      state.rejected.push({
        peer: owner,
        phase: 'advertise-keys',
        code: 'COHORT_SECAGG_BAD_BUNDLE',
        reason: `${from} advertised the same public key`
      })
      throw new SecaggBundleError(`${from} advertised a public key already used by ${owner}`, from)
    }
  }
  for (const key of keys) state.keyOwner.set(key, from)
  state.bundles.set(from, b)
}

/** A bundle as `to` receives it: without the MACs addressed to others, with the one for `to`. */
function relayBundle(b: KeyBundle, to: PeerRef): RelayedBundle {
  const { macs, ...rest } = b
  const mac = macs?.find((m) => m.to === to)?.mac
  return mac === undefined ? rest : { ...rest, mac }
}

function acceptShares(
  state: AggregatorState,
  from: PeerRef,
  reply: Extract<SecaggReply, { phase: 'share-keys' }>
) {
  const expected = state.bundlesSent.get(from)!
  const dsts = new Set<PeerRef>()
  for (const { dst } of reply.shares) {
    if (dsts.has(dst) || !expected.has(dst))
      throw new SecaggReplyError(`${from} sent a share for ${dst}, which it was not given`)
    dsts.add(dst)
  }
  if (dsts.size !== expected.size) {
    throw new SecaggReplyError(`${from} sent ${dsts.size} shares for ${expected.size} neighbours`)
  }
  for (const { dst, sealed } of reply.shares) {
    let box = state.outbox.get(dst)
    if (box === undefined) {
      box = []
      state.outbox.set(dst, box)
    }
    box.push({ src: from, sealed })
  }
  state.u2.add(from)
}

function acceptUnmask(
  state: AggregatorState,
  from: PeerRef,
  reply: Extract<SecaggReply, { phase: 'unmask' }>
) {
  const lists = state.unmaskLists.get(from)!
  const check = (shares: typeof reply.selfShares, allowed: ReadonlySet<PeerRef>, kind: string) => {
    const seen = new Set<PeerRef>()
    for (const s of shares) {
      if (seen.has(s.owner) || !allowed.has(s.owner)) {
        throw new SecaggReplyError(`${from} revealed an unrequested ${kind} share of ${s.owner}`)
      }
      if (s.x !== xOf(state.ctx, s.owner, from)) {
        throw new SecaggReplyError(`${from} revealed a ${kind} share of ${s.owner} with the wrong x`)
      }
      seen.add(s.owner)
    }
  }
  check(reply.selfShares, lists.survivors, 'self-mask')
  check(reply.keyShares, lists.dropped, 'key')
  const add = (
    map: Map<PeerRef, Array<{ x: number; y: Uint8Array }>>,
    s: { owner: PeerRef; x: number; y: Uint8Array }
  ) => {
    let list = map.get(s.owner)
    if (list === undefined) {
      list = []
      map.set(s.owner, list)
    }
    list.push({ x: s.x, y: s.y })
  }
  for (const s of reply.selfShares) add(state.selfShares, s)
  for (const s of reply.keyShares) add(state.keyShares, s)
  state.finished.add(from)
}

function collect(
  state: AggregatorState,
  phase: SecaggPhase,
  from: PeerRef,
  reply: SecaggReply
): AggregatorResult {
  try {
    if (!state.awaiting.has(from))
      throw new SecaggReplyError(`${from} was not asked in ${phase}, or already answered`)
    state.awaiting.delete(from)
    if (reply.phase !== phase || reply.jobId !== state.ctx.jobId || reply.round !== state.ctx.round) {
      throw new SecaggReplyError(`${from} answered for another phase, job or round`)
    }
    switch (reply.phase) {
      case 'advertise-keys':
        acceptBundle(state, from, reply)
        break
      case 'share-keys':
        acceptShares(state, from, reply)
        break
      case 'masked-input':
        ringAddInPlace(
          state.sum!,
          bytesToVector(reply.y, state.ctx.ringBits, state.ctx.d),
          state.ctx.ringBits
        )
        state.u3.add(from)
        break
      case 'consistency-check':
        if (
          !verifyPeerSignature(
            from,
            consistencyPayload(state.ctx.jobId, state.ctx.round, state.signed),
            reply.sig
          )
        ) {
          throw new SecaggReplyError(`the consistency signature of ${from} does not verify`)
        }
        state.signatures.set(from, reply.sig)
        state.consistencyMacs.set(from, new Map((reply.macs ?? []).map((m) => [m.to, m.mac])))
        break
      case 'unmask':
        acceptUnmask(state, from, reply)
        break
      default:
        throw new SecaggReplyError(`unexpected ${(reply as SecaggReply).phase} reply`)
    }
    return { state, output: { kind: 'accepted', peer: from } }
  } catch (err) {
    if (!isCohortError(err)) throw err
    const rejection: Rejection = { peer: from, phase, code: err.code, reason: err.message }
    state.rejected.push(rejection)
    return { state, output: { kind: 'rejected', rejection } }
  }
}

// ------------------------------------------------------------------ advancing

function advance(state: AggregatorState, to: SecaggPhase | 'done'): AggregatorResult {
  const { ctx } = state
  const t = ctx.t
  switch (to) {
    case 'advertise-keys': {
      const req: SecaggRequest = {
        ...head(state),
        phase: 'advertise-keys',
        participants: [...ctx.participants],
        t,
        k: ctx.k,
        ringBits: ctx.ringBits,
        d: ctx.d,
        graphSeed: ctx.graphSeed
      }
      return requests(state, to, new Map(ctx.participants.map((p) => [p, req])))
    }
    case 'share-keys': {
      if (state.bundles.size < t) return below(state, 'parties that advertised keys', state.bundles.size)
      const out = new Map<PeerRef, SecaggRequest>()
      for (const u of byIndex(ctx, state.bundles.keys())) {
        const nb = neighboursOf(ctx, u).filter((v) => state.bundles.has(v))
        if (nb.length + 1 < t) continue
        state.bundlesSent.set(u, new Set(nb))
        const bundles = [
          relayBundle(state.bundles.get(u)!, u),
          ...nb.map((v) => relayBundle(state.bundles.get(v)!, u))
        ]
        out.set(u, { ...head(state), phase: 'share-keys', bundles })
      }
      if (out.size < t) return below(state, 'parties with enough neighbours to share keys', out.size)
      return requests(state, to, out)
    }
    case 'masked-input': {
      if (state.u2.size < t) return below(state, 'parties that shared keys', state.u2.size)
      const out = new Map<PeerRef, SecaggRequest>()
      for (const u of byIndex(ctx, state.u2)) {
        const shares = (state.outbox.get(u) ?? []).filter((s) => state.u2.has(s.src))
        if (shares.length + 1 < t) continue
        state.maskedWith.set(
          u,
          byIndex(
            ctx,
            shares.map((s) => s.src)
          )
        )
        out.set(u, { ...head(state), phase: 'masked-input', shares })
      }
      state.outbox.clear()
      if (out.size < t) return below(state, 'parties with enough neighbour shares to mask', out.size)
      state.sum = ringZeros(ctx.d, ctx.ringBits)
      return requests(state, to, out)
    }
    case 'consistency-check': {
      if (state.u3.size < t) return below(state, 'parties that sent a masked input', state.u3.size)
      state.signed = byIndex(ctx, state.u3)
      const out = new Map<PeerRef, SecaggRequest>()
      for (const u of state.signed) {
        const live = state.maskedWith.get(u)!.filter((v) => state.u3.has(v)).length
        if (live + 1 < t) continue
        out.set(u, { ...head(state), phase: 'consistency-check', survivors: [...state.signed] })
      }
      if (out.size < t) return below(state, 'survivors with enough live neighbours', out.size)
      return requests(state, to, out)
    }
    case 'unmask': {
      if (state.signatures.size < t)
        return below(state, 'parties that signed the survivor set', state.signatures.size)
      const out = unmaskRequests(state)
      if (out instanceof CohortError) return abortRound(state, out)
      return requests(state, to, out)
    }
    case 'done':
      return finishRound(state)
  }
}

/**
 * The aggregator machine.
 *
 * @example
 * let s = secaggAggregatorMachine.init({ jobId, round, participants, t, k, ringBits: 32, d, graphSeed })
 * const { output } = secaggAggregatorMachine.step(s, { kind: 'advance', phase: 'advertise-keys' })
 */
export const secaggAggregatorMachine: Machine<AggregatorState, AggregatorInput, AggregatorOutput> =
  Object.freeze({
    protocol: PROTOCOLS.secagg,
    transitions: AGGREGATOR_TRANSITIONS,
    init(params: unknown): AggregatorState {
      const p = params as AggregatorInit
      const ctx = roundContext({
        jobId: p.jobId,
        round: p.round,
        participants: p.participants,
        t: p.t,
        k: p.k,
        ringBits: p.ringBits,
        d: p.d,
        graphSeed: p.graphSeed
      })
      return {
        phase: 'init',
        ctx,
        awaiting: new Set(),
        bundles: new Map(),
        keyOwner: new Map(),
        bundlesSent: new Map(),
        outbox: new Map(),
        u2: new Set(),
        maskedWith: new Map(),
        sum: undefined,
        u3: new Set(),
        signed: [],
        signatures: new Map(),
        consistencyMacs: new Map(),
        unmaskLists: new Map(),
        selfShares: new Map(),
        keyShares: new Map(),
        finished: new Set(),
        rejected: []
      }
    },
    step(state: AggregatorState, input: AggregatorInput): AggregatorResult {
      assertTransition(AGGREGATOR_TRANSITIONS, state.phase, input.phase)
      if (input.kind === 'reply') {
        if (input.phase !== state.phase)
          throw new PhaseError(state.phase, input.phase, `a ${input.phase} reply in phase ${state.phase}`)
        return collect(state, input.phase, input.from, input.reply)
      }
      if (input.kind === 'abort')
        return abortRound(state, new SecaggAbortedError(`the round was aborted: ${input.reason}`))
      if (input.phase === state.phase)
        throw new PhaseError(state.phase, input.phase, `already in phase ${state.phase}`)
      return advance(state, input.phase)
    }
  })
