import type { PeerRef } from '../../protocols/transport.ts'
import type { QuantPurpose } from '../../protocols/training/quantisation.ts'
import type { TrainRequest } from '../../protocols/training/wire.ts'
import { requestAll, secaggIdFor } from './runtime.ts'
import type { JobRuntime } from './runtime.ts'
import { secureSum } from './secure-sum.ts'
import type { Declined, JobRecord, Participant } from './types.ts'

/**
 * One "ask, then sum" step of a job (statistics, a fit, an evaluation): every node is asked to
 * prepare its summand under a fresh SecAgg id, and the nodes that answered `ready` are summed
 * securely. Nodes that decline (policy, exhausted budget) are reported so the runner can drop them;
 * nodes that did not answer stay in the job and are asked again next time.
 */

/**
 * What one gather needs.
 * @example
 * await gatherSum(rt, job, participants, { purpose: 'fit', round: 3, d: 28, quant, noiseSigma: 0, timeoutMs, build })
 */
export interface GatherRequest {
  purpose: QuantPurpose
  round: number
  d: number
  quant: { k: number; clip: number; scale: number }
  noiseSigma: number
  timeoutMs: number
  build: (secaggId: string | null, peer: Participant) => TrainRequest
}

/**
 * The gather's outcome.
 * @example
 * const { sum, survivors, declined } = await gatherSum(...)
 */
export interface GatherResult {
  sum: Float64Array
  survivors: PeerRef[]
  dropped: PeerRef[]
  declined: Declined[]
  /** Nodes that did not answer (or answered something unusable), with the error code. */
  silent: Array<{ peer: Participant; code: string; message: string }>
  timings: { prepareMs: number; sumMs: number; phases?: Record<string, number> }
}

/**
 * Asks every participant for its summand and sums the ready ones.
 *
 * @throws TooFewParticipantsError when too few are ready; SecAgg errors when the sum fails
 * @example
 * const r = await gatherSum(rt, job, job.participants, request)
 */
export async function gatherSum(
  rt: JobRuntime,
  job: JobRecord,
  participants: readonly Participant[],
  g: GatherRequest
): Promise<GatherResult> {
  const plaintext = job.config.secureAggregation === 'none'
  const secaggId = plaintext ? null : secaggIdFor(job.id, g.purpose)
  const t0 = performance.now()
  const outcomes = await requestAll(
    rt,
    job.id,
    participants,
    (p) => g.build(secaggId, p),
    ['ready', 'declined'],
    g.timeoutMs,
    plaintext
  )
  const prepareMs = performance.now() - t0
  const ready: PeerRef[] = []
  const vectors = new Map<PeerRef, Uint8Array>()
  const declined: Declined[] = []
  const silent: GatherResult['silent'] = []
  for (const o of outcomes) {
    if ('error' in o) silent.push({ peer: o.peer, ...o.error })
    else if (o.reply.kind === 'declined')
      declined.push({ ...o.peer, code: o.reply.code, reason: o.reply.reason, round: g.round })
    else if (
      o.reply.length !== g.d ||
      o.reply.round !== g.round ||
      (plaintext && o.reply.vector === undefined)
    )
      silent.push({
        peer: o.peer,
        code: 'COHORT_MALFORMED_MESSAGE',
        message: `unexpected ready reply (length ${o.reply.length}, expected ${g.d})`
      })
    else {
      ready.push(o.peer.peerId)
      if (o.reply.vector !== undefined) vectors.set(o.peer.peerId, o.reply.vector)
    }
  }
  const base = { declined, silent }
  const s = await secureSum(rt, {
    secaggId: secaggId ?? `${job.id}/${g.purpose}/plain`,
    round: g.round,
    ready,
    d: g.d,
    quant: g.quant,
    noiseSigma: g.noiseSigma,
    minParticipants: job.config.minParticipants,
    secagg: job.config.secagg,
    phaseMs: job.config.deadlines.phaseMs,
    ...(plaintext ? { plaintext: vectors } : {})
  }).catch((err: unknown) => {
    throw Object.assign(err as object, { gather: base })
  })
  return {
    ...base,
    sum: s.sum,
    survivors: s.survivors,
    dropped: s.dropped,
    timings: { prepareMs, sumMs: s.ms, ...(s.phases === undefined ? {} : { phases: s.phases }) }
  }
}

/**
 * The declines and silent nodes a failed gather saw (attached to its error).
 * @example
 * const seen = gatherOf(err)?.declined ?? []
 */
export function gatherOf(err: unknown): Pick<GatherResult, 'declined' | 'silent'> | undefined {
  return (err as { gather?: Pick<GatherResult, 'declined' | 'silent'> } | null)?.gather
}
