/**
 * Runs one SecAgg round by stepping the participant and aggregator machines directly, in one
 * process, with no transport: every message still goes through the wire codec (so bytes are
 * counted and schemas apply), but there are no streams, deadlines or audit logs. Used by the bench
 * (timings per step) and by tests that need machine states and messages.
 */
import type { PrivateKey } from '@libp2p/interface'
import type { RingVector } from '../crypto/ring.ts'
import { secaggAggregatorMachine } from '../protocols/secagg/aggregator.ts'
import type { AggregatorOutput, SecaggResult } from '../protocols/secagg/aggregator.ts'
import { decodeSecaggReply, decodeSecaggRequest, encodeSecagg } from '../protocols/secagg/messages.ts'
import type { SecaggReply } from '../protocols/secagg/messages.ts'
import { secaggParticipantMachine, withSignature } from '../protocols/secagg/participant.ts'
import type {
  ParticipantInput,
  ParticipantOutput,
  ParticipantState
} from '../protocols/secagg/participant.ts'
import type { SecaggPhase } from '../protocols/secagg/phases.ts'
import { nextPhase } from '../protocols/secagg/phases.ts'
import type { PeerRef } from '../protocols/transport.ts'
import type { CohortError } from '../crypto/cohort-error.ts'

/** A party: its peer id and libp2p identity key. */
export interface DirectParty {
  peerId: PeerRef
  privateKey: PrivateKey
}

/** Options of {@link runDirectRound}. */
export interface DirectRoundOptions {
  jobId: string
  round: number
  parties: readonly DirectParty[]
  inputs: ReadonlyMap<PeerRef, RingVector>
  t: number
  k: number
  ringBits: number
  d: number
  graphSeed?: Uint8Array
  /** A party stops answering from this phase on (a dropout). */
  dropAt?: ReadonlyMap<PeerRef, SecaggPhase>
  /** Called after every participant step with its output and the bytes in and out. */
  onParticipantStep?: (
    peer: PeerRef,
    phase: SecaggPhase,
    output: ParticipantOutput,
    bytes: { in: number; out: number }
  ) => void
  /** Called after every aggregator advance with its duration. */
  onAdvance?: (phase: SecaggPhase | 'done', ms: number) => void
}

/** The round's outcome plus the final participant states (for inspection in tests). */
export interface DirectRoundOutcome {
  result?: SecaggResult
  error?: CohortError
  states: Map<PeerRef, ParticipantState>
  refusals: Array<{ peer: PeerRef; phase: SecaggPhase; code: string }>
}

/**
 * Runs one round in-process.
 *
 * @example
 * const { result } = await runDirectRound({ jobId: 'j', round: 1, parties, inputs, t: 3, k: 4, ringBits: 32, d: 10 })
 */
export async function runDirectRound(opts: DirectRoundOptions): Promise<DirectRoundOutcome> {
  const members = new Set(opts.parties.map((p) => p.peerId))
  const states = new Map<PeerRef, ParticipantState>()
  for (const p of opts.parties)
    states.set(p.peerId, secaggParticipantMachine.init({ self: p.peerId, members }))
  const keys = new Map(opts.parties.map((p) => [p.peerId, p.privateKey]))
  const refusals: DirectRoundOutcome['refusals'] = []
  let agg = secaggAggregatorMachine.init({
    jobId: opts.jobId,
    round: opts.round,
    participants: opts.parties.map((p) => p.peerId),
    t: opts.t,
    k: opts.k,
    ringBits: opts.ringBits,
    d: opts.d,
    graphSeed: opts.graphSeed ?? crypto.getRandomValues(new Uint8Array(32))
  })
  const dropped = new Set<PeerRef>()
  let t0 = performance.now()
  let step = secaggAggregatorMachine.step(agg, { kind: 'advance', phase: 'advertise-keys' })
  let out: AggregatorOutput = step.output
  agg = step.state
  opts.onAdvance?.('advertise-keys', performance.now() - t0)
  while (out.kind === 'requests') {
    const phase = out.phase
    for (const [peer, request] of out.requests) {
      if (opts.dropAt?.get(peer) === phase) dropped.add(peer)
      if (dropped.has(peer)) continue
      const frame = encodeSecagg(request)
      const decoded = decodeSecaggRequest(frame)
      const state = states.get(peer)!
      let input: ParticipantInput
      if (decoded.phase === 'masked-input')
        input = { phase: 'masked-input', request: decoded, input: opts.inputs.get(peer)! }
      else input = { phase: decoded.phase, request: decoded } as ParticipantInput
      let output: ParticipantOutput
      try {
        const r = secaggParticipantMachine.step(state, input)
        states.set(peer, r.state)
        output = r.output
      } catch (err) {
        refusals.push({ peer, phase, code: (err as CohortError).code ?? 'COHORT_INTERNAL' })
        continue
      }
      let reply: SecaggReply = output.reply
      if (output.toSign !== undefined) reply = withSignature(reply, await keys.get(peer)!.sign(output.toSign))
      const replyFrame = encodeSecagg(reply)
      opts.onParticipantStep?.(peer, phase, output, { in: frame.length, out: replyFrame.length })
      const r = secaggAggregatorMachine.step(agg, {
        kind: 'reply',
        phase,
        from: peer,
        reply: decodeSecaggReply(phase, replyFrame)
      })
      agg = r.state
    }
    const next = nextPhase(phase)
    t0 = performance.now()
    step = secaggAggregatorMachine.step(agg, { kind: 'advance', phase: next })
    agg = step.state
    out = step.output
    opts.onAdvance?.(next, performance.now() - t0)
  }
  if (out.kind === 'result') return { result: out.result, states, refusals }
  if (out.kind === 'aborted') return { error: out.error, states, refusals }
  throw new Error(`unexpected aggregator output ${out.kind}`)
}
