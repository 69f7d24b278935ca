/**
 * The coordinator's SecAgg driver: runs the aggregator machine over a Transport. Per phase it sends
 * one request per active participant, feeds each reply to the machine as it arrives (masked vectors
 * are summed on arrival), waits until every party answered or the phase deadline passed, then
 * advances; the machine narrows the active set and re-checks the threshold t. On an abort it tells
 * the parties (best effort) so they zero their secrets, and throws the machine's typed error
 * (COHORT_SECAGG_BELOW_THRESHOLD when too few parties remain).
 *
 * Job scheduling is not here (training issue): this is one round over a given participant list.
 */
import { isCohortError } from '../../crypto/cohort-error.ts'
import type { CohortError } from '../../crypto/cohort-error.ts'
import type { RingVector } from '../../crypto/ring.ts'
import { RemoteError } from '../../protocols/errors.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import { secaggAggregatorMachine } from '../../protocols/secagg/aggregator.ts'
import type { AggregatorOutput, AggregatorState, Rejection } from '../../protocols/secagg/aggregator.ts'
import { SecaggAbortedError } from '../../protocols/secagg/errors.ts'
import { decodeSecaggReply, encodeSecagg, replyLimit } from '../../protocols/secagg/messages.ts'
import type { SecaggRequest } from '../../protocols/secagg/messages.ts'
import { auditHash, auditHashBytes } from '../../protocols/secagg/params.ts'
import { nextPhase } from '../../protocols/secagg/phases.ts'
import type { SecaggPhase } from '../../protocols/secagg/phases.ts'
import type { AbortOptions, PeerRef, Transport } from '../../protocols/transport.ts'

/** Per-phase deadlines in ms. */
export type SecaggDeadlines = Record<SecaggPhase, number>

/** Default deadlines: control phases 15 s, masked input 60 s (training and large vectors). */
export const DEFAULT_SECAGG_DEADLINES: Readonly<SecaggDeadlines> = Object.freeze({
  'advertise-keys': 15_000,
  'share-keys': 15_000,
  'masked-input': 60_000,
  'consistency-check': 15_000,
  unmask: 15_000
})

/** Where the driver writes its own audit entries (the coordinator's log; optional). */
export interface RoundAuditSink {
  append(kind: string, body: unknown, options?: { actor?: string; round?: number | null }): Promise<unknown>
}

/** Options of {@link runSecaggRound}. */
export interface SecaggRoundOptions extends AbortOptions {
  jobId: string
  round: number
  participants: readonly PeerRef[]
  /** Shamir threshold; must exceed half of a holder set (k + 1). */
  t: number
  /** Neighbours per party; participants.length - 1 = complete graph. */
  k: number
  /** Ring bits. @default 32 */
  ringBits?: number
  /** Vector length. */
  d: number
  deadlines?: Partial<SecaggDeadlines>
  /** Public graph seed. @default 32 fresh random bytes */
  graphSeed?: Uint8Array
  audit?: RoundAuditSink
}

/** A request that failed at the transport level or was refused by the participant. */
export interface RequestFailure {
  peer: PeerRef
  phase: SecaggPhase
  code: string
}

/** The round's result. */
export interface SecaggRoundResult {
  /** Σ x_u mod 2^ringBits over `survivors`. */
  sum: RingVector
  survivors: PeerRef[]
  dropped: PeerRef[]
  /** Replies the aggregator refused (bad bundle, wrong vector length, ...). */
  rejected: Rejection[]
  /** Requests that got no usable answer. */
  failures: RequestFailure[]
  /** Wall time per phase and the aggregator's unmask figures, in ms. */
  timings: Record<string, number>
}

async function fanOut(
  transport: Transport,
  phase: SecaggPhase,
  requests: Map<PeerRef, SecaggRequest>,
  signal: AbortSignal,
  onReply: (peer: PeerRef, frame: Uint8Array) => void,
  onFailure: (peer: PeerRef, err: unknown) => void
): Promise<void> {
  const encoded = new Map<SecaggRequest, Uint8Array>()
  await Promise.all(
    [...requests].map(async ([peer, req]) => {
      let body = encoded.get(req)
      if (body === undefined) {
        body = encodeSecagg(req)
        encoded.set(req, body)
      }
      try {
        const frame = await transport.request(peer, PROTOCOLS.secagg, body, {
          signal,
          maxResponseBytes: replyLimit(phase)
        })
        onReply(peer, frame)
      } catch (err) {
        onFailure(peer, err)
      }
    })
  )
}

/**
 * Runs one secure-aggregation round and returns the sum of the surviving parties' inputs.
 *
 * @throws SecaggBelowThresholdError (COHORT_SECAGG_BELOW_THRESHOLD) when fewer than t parties remain
 * @throws SecaggAbortedError when `signal` aborts
 * @example
 * const { sum, survivors } = await runSecaggRound(transport, {
 *   jobId: 'job-1', round: 4, participants, t: 9, k: 15, d: 100_000
 * })
 */
export async function runSecaggRound(
  transport: Transport,
  options: SecaggRoundOptions
): Promise<SecaggRoundResult> {
  const deadlines = { ...DEFAULT_SECAGG_DEADLINES, ...options.deadlines }
  const audit = options.audit
  const actor = transport.self
  const failures: RequestFailure[] = []
  // What refusing parties said, for the abort's message.
  const refusals: RemoteError[] = []
  const timings: Record<string, number> = {}
  const started = performance.now()
  let state: AggregatorState = secaggAggregatorMachine.init({
    jobId: options.jobId,
    round: options.round,
    participants: options.participants,
    t: options.t,
    k: options.k,
    ringBits: options.ringBits ?? 32,
    d: options.d,
    graphSeed: options.graphSeed ?? crypto.getRandomValues(new Uint8Array(32))
  })
  const base = { jobId: options.jobId, round: options.round }
  await audit?.append(
    'secagg-round-start',
    {
      ...base,
      n: options.participants.length,
      t: options.t,
      k: options.k,
      d: options.d,
      participantsHash: auditHash(options.participants)
    },
    { actor, round: options.round }
  )

  const step = (input: Parameters<typeof secaggAggregatorMachine.step>[1]): AggregatorOutput => {
    const r = secaggAggregatorMachine.step(state, input)
    state = r.state
    return r.output
  }

  let out = step({ kind: 'advance', phase: 'advertise-keys' })
  let reached: SecaggPhase = 'advertise-keys'
  while (out.kind === 'requests') {
    const phase = out.phase
    reached = phase
    const t0 = performance.now()
    if (options.signal?.aborted) {
      out = step({ kind: 'abort', phase: 'aborted', reason: 'the caller aborted the round' })
      break
    }
    const deadline = AbortSignal.timeout(deadlines[phase])
    const signal = options.signal === undefined ? deadline : AbortSignal.any([deadline, options.signal])
    const rejections: Rejection[] = []
    await fanOut(
      transport,
      phase,
      out.requests,
      signal,
      (peer, frame) => {
        let reply: ReturnType<typeof decodeSecaggReply>
        try {
          reply = decodeSecaggReply(phase, frame)
        } catch (err) {
          const code = isCohortError(err) ? err.code : 'COHORT_MALFORMED_MESSAGE'
          rejections.push({ peer, phase, code, reason: (err as Error).message })
          failures.push({ peer, phase, code })
          return
        }
        const o = step({ kind: 'reply', phase, from: peer, reply })
        if (o.kind === 'rejected') rejections.push(o.rejection)
      },
      (peer, err) => {
        failures.push({ peer, phase, code: isCohortError(err) ? err.code : 'COHORT_INTERNAL' })
        if (err instanceof RemoteError) refusals.push(err)
      }
    )
    for (const r of rejections) {
      await audit?.append(
        'secagg-rejected',
        { ...base, peer: r.peer, phase: r.phase, code: r.code, reason: r.reason.slice(0, 300) },
        { actor, round: options.round }
      )
    }
    timings[phase] = performance.now() - t0
    if (options.signal?.aborted) {
      out = step({ kind: 'abort', phase: 'aborted', reason: 'the caller aborted the round' })
      break
    }
    out = step({ kind: 'advance', phase: nextPhase(phase) })
  }

  if (out.kind === 'aborted') {
    withRefusals(out.error, refusals)
    await notifyAbort(transport, out.notify, options, out.error)
    await audit?.append(
      'secagg-round-aborted',
      { ...base, phase: reached, code: out.error.code, reason: out.error.message.slice(0, 300) },
      { actor, round: options.round }
    )
    throw out.error
  }
  if (out.kind !== 'result') throw new SecaggAbortedError(`the aggregator stopped with ${out.kind}`)
  const result = out.result
  timings.unmaskMs = result.stats.unmaskMs
  timings.shamirMs = result.stats.shamirMs
  timings.prgMs = result.stats.prgMs
  timings.totalMs = performance.now() - started
  await audit?.append(
    'secagg-round-end',
    {
      ...base,
      survivors: result.survivors.length,
      dropped: result.dropped.length,
      rejected: result.rejected.length,
      survivorsHash: auditHash(result.survivors),
      sumHash: auditHashBytes(new Uint8Array(result.sum.buffer, result.sum.byteOffset, result.sum.byteLength))
    },
    { actor, round: options.round }
  )
  return {
    sum: result.sum,
    survivors: result.survivors,
    dropped: result.dropped,
    rejected: result.rejected,
    failures,
    timings
  }
}

/** Names, in an abort's message, what the parties that refused said: the round's real cause. */
function withRefusals(error: CohortError, refusals: readonly RemoteError[]): void {
  if (refusals.length === 0) return
  const first = refusals[0]!
  error.message += ` (${refusals.length} refused: ${first.message} [${first.code}])`
}

async function notifyAbort(
  transport: Transport,
  peers: readonly PeerRef[],
  options: SecaggRoundOptions,
  error: CohortError
): Promise<void> {
  const body = encodeSecagg({
    v: 1,
    jobId: options.jobId,
    round: options.round,
    phase: 'aborted',
    reason: error.code
  })
  const signal = AbortSignal.timeout(2_000)
  await Promise.all(
    peers.map((peer) =>
      transport
        .request(peer, PROTOCOLS.secagg, body, { signal, maxResponseBytes: replyLimit('aborted') })
        .catch(() => undefined)
    )
  )
}
