import { fitEvent } from '../../protocols/training/dp-plan.ts'
import { fitConfigFor } from '../../protocols/training/job-privacy.ts'
import { jobQuant } from '../../protocols/training/quantisation.ts'
import { jobModel, quantJob, summaryFor } from '../../coordinator/jobs/job-plan.ts'
import type { JobRecord } from '../../coordinator/jobs/types.ts'

/**
 * The coordinator's sanity check on the unmasked fit sum. Under secure aggregation the coordinator
 * cannot see who sent what, but it can bound what an honest sum may look like: every honest update
 * Δ_i has ||Δ_i|| ≤ C (the clip norm), so the released sum S = Σ w_i·Δ_i (w_i = the party's weight:
 * its row count under sample weighting, 1 under uniform weighting) has
 *
 *   ||S|| ≤ C · D + ||noise||,  D = Σ w_i (sample weighting) or the number of survivors (uniform),
 *
 * by the triangle inequality. The distributed DP noise in the sum has per-coordinate standard
 * deviation σ, and its norm is below σ·(√d + 6) except with probability < 10^-7 (chi distribution,
 * Laurent–Massart). A sum beyond the bound holds at least one update that is not an honest clipped
 * one, and the round is discarded rather than applied (no single party can be blamed: none is
 * visible). It cannot catch an attacker that stays inside the bound — that is what clipping limits.
 *
 * The job runner calls it through `JobRunContext.checkAggregate` (proposed hook, see
 * docs/simulations.md "Sanity check"); simulations pass it, and a production coordinator can too.
 */

/**
 * What the check sees of a round (the fit aggregate, decoded, before the strategy applies it).
 * @example
 * const input: AggregateCheckInput = { round: 3, sum, weight: 3563, participants, job }
 */
export interface AggregateCheckInput {
  round: number
  /** Σ of the update vectors (the weight coordinate excluded). */
  sum: Float64Array
  /** Σ of the weights. */
  weight: number
  participants: readonly string[]
  job: JobRecord
}

/**
 * A reason to discard the round, or undefined to apply it.
 * @example
 * const v: AggregateVerdict = { code: 'COHORT_SUM_NORM_EXCEEDED', reason: '...' }
 */
export type AggregateVerdict = { code: string; reason: string } | undefined

/**
 * One evaluation of the check, for reports.
 * @example
 * const c: SumNormCheckResult = { round: 3, meanNorm: 0.4, bound: 1.2, tripped: false }
 */
export interface SumNormCheckResult {
  round: number
  /** ||S|| / D: the norm of the step the round would apply (before the server learning rate). */
  meanNorm: number
  /** The bound on that norm. */
  bound: number
  tripped: boolean
}

/**
 * Code of a discarded round.
 * @example
 * report.rounds[2].discarded?.code === SUM_NORM_CODE
 */
export const SUM_NORM_CODE = 'COHORT_SUM_NORM_EXCEEDED'

/**
 * The per-coordinate standard deviation (in update units) of the distributed DP noise in a fit sum
 * over `survivors` parties; 0 without update-level DP. Mirrors coordinator/jobs/round.ts.
 *
 * @example
 * fitNoiseStd(job, 3) // e.g. 2.4
 */
export function fitNoiseStd(job: JobRecord, survivors: number): number {
  const cfg = job.config
  if (cfg.dp === 'none' || cfg.dp.mode !== 'update' || job.participants.length === 0) return 0
  const offered = job.participants.length + new Set(job.declined.map((d) => d.peerId)).size
  const s = summaryFor(cfg, job.participants[0]!.org, offered)
  const model = jobModel(job, s, job.featureStats?.columns ?? [])
  const e = fitEvent(model.spec, fitConfigFor(s, model.noiseMultiplier), 1)
  if (e.kind !== 'distributed-discrete-gaussian') return 0
  const scale = jobQuant('fit', quantJob(cfg)).scale
  return (e.sigma * Math.sqrt(survivors / cfg.minParticipants)) / scale
}

/**
 * Whether a job's updates are averaged by weight (samples) or by count (uniform): the default of
 * protocols/training/instructions.ts resolveFitConfig, which the job runner never overrides.
 * @example
 * weightingOf(job) // 'uniform' under DP
 */
export function weightingOf(job: JobRecord): 'samples' | 'uniform' {
  return job.config.dp === 'none' ? 'samples' : 'uniform'
}

/**
 * Builds the check for a per-party clip norm C.
 *
 * @example
 * const check = createSumNormCheck({ maxUpdateNorm: 1, onCheck: (r) => results.push(r) })
 * const verdict = check({ round, sum, weight, participants, job })
 */
export function createSumNormCheck(o: {
  maxUpdateNorm: number
  onCheck?: (r: SumNormCheckResult) => void
}): (c: AggregateCheckInput) => AggregateVerdict {
  return (c) => {
    if (c.job.config.model.kind === 'kmeans') return undefined
    const divisor = weightingOf(c.job) === 'uniform' ? c.participants.length : c.weight
    if (!(divisor > 0)) return undefined
    let n2 = 0
    for (let i = 0; i < c.sum.length; i++) n2 += c.sum[i]! * c.sum[i]!
    const sigma = fitNoiseStd(c.job, c.participants.length)
    // 1e-9 relative and 1e-6 per unit of divisor absorb float rounding and fixed-point decoding.
    const limit =
      o.maxUpdateNorm * divisor * (1 + 1e-9) + 1e-6 * divisor + sigma * (Math.sqrt(c.sum.length) + 6)
    const norm = Math.sqrt(n2)
    const tripped = !(norm <= limit)
    o.onCheck?.({ round: c.round, meanNorm: norm / divisor, bound: limit / divisor, tripped })
    if (!tripped) return undefined
    return {
      code: SUM_NORM_CODE,
      reason: `the fit sum of round ${c.round} has norm ${norm.toPrecision(4)}, above the bound ${limit.toPrecision(4)} for ${c.participants.length} parties with clip norm ${o.maxUpdateNorm}: at least one update is not an honest clipped one; the round is discarded`
    }
  }
}
