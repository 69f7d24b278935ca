import { isCohortError } from '../../crypto/cohort-error.ts'
import { globalFeatureStats, selectPrep, statsLength } from '../../protocols/training/feature-stats.ts'
import type { StatsColumn } from '../../protocols/training/feature-stats.ts'
import { statsNoise } from '../../protocols/training/job-privacy.ts'
import { jobQuant } from '../../protocols/training/quantisation.ts'
import { TRAIN_WIRE_VERSION } from '../../protocols/training/wire.ts'
import { RoundFailedError, TooFewParticipantsError } from './errors.ts'
import { gatherOf, gatherSum } from './gather.ts'
import type { GatherRequest, GatherResult } from './gather.ts'
import { quantJob, summaryFor } from './job-plan.ts'
import type { JobRuntime } from './runtime.ts'
import type { Declined, JobRecord, Participant } from './types.ts'

/**
 * Attempts of a phase before the job fails; between attempts the runner waits a little, so a node
 * that is restarting can come back.
 * @example
 * MAX_ATTEMPTS // 3
 */
export const MAX_ATTEMPTS = 3
const RETRY_WAIT_MS = 500

/**
 * Participants and declines as they change during a job (a node whose policy or budget refuses a
 * later request leaves the job with its reason).
 *
 * @example
 * const roster: Roster = { participants: job.participants, declined: job.declined }
 */
export interface Roster {
  participants: Participant[]
  declined: Declined[]
}

/**
 * Fewest nodes a phase may run with: the job's minParticipants, 3 for SecAgg+ (its protocol
 * minimum), 2 for HE (a sum of one is that one).
 * @example
 * needed(job) // 3
 */
export function needed(job: JobRecord): number {
  const floor = { 'secagg+': 3, he: 2, none: 1 }[job.config.secureAggregation]
  return Math.max(job.config.minParticipants, floor)
}

/**
 * How many nodes the job was offered to (each is a participant or declined): the summary's `offered`.
 * @example
 * offeredOf(roster) // 3
 */
export function offeredOf(roster: Roster): number {
  return roster.participants.length + new Set(roster.declined.map((d) => d.peerId)).size
}

/**
 * Moves declining nodes from the participants to the declined list.
 * @example
 * applyDeclines(roster, result.declined)
 */
export function applyDeclines(roster: Roster, declined: readonly Declined[]): void {
  for (const d of declined) {
    roster.participants = roster.participants.filter((p) => p.peerId !== d.peerId)
    if (!roster.declined.some((x) => x.peerId === d.peerId && x.round === d.round)) roster.declined.push(d)
  }
}

/**
 * Checks enough nodes remain; the error names who left and why.
 * @throws TooFewParticipantsError
 * @example
 * ensureEnough(job, roster)
 */
export function ensureEnough(job: JobRecord, roster: Roster): void {
  const n = roster.participants.length
  if (n >= needed(job)) return
  const why = roster.declined.map((d) => `${d.org}: ${d.reason} [${d.code}]`).join('; ')
  throw new TooFewParticipantsError(
    `${n} node${n === 1 ? '' : 's'} remain${n === 1 ? 's' : ''} in job ${job.id}, it needs at least ${needed(job)}${why === '' ? '' : ` (declined: ${why})`}`
  )
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t)
        resolve()
      },
      { once: true }
    )
  })

/**
 * Runs a gather with retries: declines are applied after every attempt, and the phase fails when
 * too few nodes remain or every attempt failed.
 *
 * @throws TooFewParticipantsError | RoundFailedError | the abort reason
 * @example
 * const fit = await gatherWithRetries(rt, job, roster, 'round 3 fit', request)
 */
export async function gatherWithRetries(
  rt: JobRuntime,
  job: JobRecord,
  roster: Roster,
  what: string,
  g: GatherRequest
): Promise<GatherResult> {
  let last: unknown
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    ensureEnough(job, roster)
    try {
      const r = await gatherSum(rt, job, roster.participants, g)
      applyDeclines(roster, r.declined)
      for (const s of r.silent) rt.log(`${what}: no summand from ${s.peer.org} (${s.code})`)
      return r
    } catch (err) {
      if (rt.signal.aborted) throw rt.signal.reason ?? err
      const seen = gatherOf(err)
      if (seen !== undefined) applyDeclines(roster, seen.declined)
      last = err
      const code = isCohortError(err) ? err.code : 'COHORT_INTERNAL'
      rt.log(`${what}: attempt ${attempt} failed: ${(err as Error).message} [${code}]`)
      if (attempt < MAX_ATTEMPTS) await sleep(RETRY_WAIT_MS * attempt, rt.signal)
    }
  }
  ensureEnough(job, roster)
  throw new RoundFailedError(
    `${what} failed ${MAX_ATTEMPTS} times: ${(last as Error)?.message ?? String(last)}`,
    {
      cause: last
    }
  )
}

/**
 * The federated feature statistics: every node's counts, sums and sums of squares over its training
 * rows, summed securely (DP-noised when the job has DP), then the global means, stds and imputation
 * values of the job's features.
 *
 * @example
 * const featureStats = await statsPhase(rt, job, roster, offer.features, offer.columns)
 */
export async function statsPhase(
  rt: JobRuntime,
  job: JobRecord,
  roster: Roster,
  features: readonly string[],
  columns: readonly StatsColumn[]
): Promise<NonNullable<JobRecord['featureStats']>> {
  const cfg = job.config
  const quant = jobQuant('stats', quantJob(cfg))
  const offered = offeredOf(roster)
  const anySummary = summaryFor(cfg, roster.participants[0]!.org, offered)
  const noiseSigma = statsNoise(anySummary, columns).sigma
  const r = await gatherWithRetries(rt, job, roster, 'feature statistics', {
    purpose: 'stats',
    round: 0,
    d: statsLength(columns),
    quant,
    noiseSigma,
    timeoutMs: cfg.deadlines.trainMs,
    build: (secaggId, p) => ({
      v: TRAIN_WIRE_VERSION,
      jobId: job.id,
      kind: 'stats',
      job: summaryFor(cfg, p.org, offered),
      secaggId,
      quant,
      columns: columns as Array<StatsColumn & { levels: string[] }>
    })
  })
  // The noise in the sum, per coordinate and in value units: every survivor's share is in it.
  const sigma = (noiseSigma * Math.sqrt(r.survivors.length / cfg.minParticipants)) / quant.scale
  const { prep, rows } = globalFeatureStats(columns, r.sum, cfg.statistics.ranges, sigma)
  const mine = selectPrep(prep, features)
  return {
    names: [...mine.features],
    mean: [...mine.mean],
    std: [...mine.std],
    impute: { ...mine.impute },
    columns: [...columns],
    rows
  }
}
