import type { ScenarioConfig } from '../../configs/scenario.ts'
import type { FiredFault } from '../faults/fault-log.ts'

/**
 * `report.json` of `cohort sim run` (design.md "Output contracts"). Every wall-clock figure lives
 * under a key named `timing`, so {@link stripVolatile} can remove them and the rest of a report is
 * reproduced exactly by the same scenario and seed (a test checks this). Under homomorphic
 * aggregation the byte counts are volatile too (SEAL's zstd-compressed ciphertexts of fresh
 * randomness vary in size); `reproducible.excluded` says which keys a comparison must drop.
 */

/**
 * Metrics by name (JSON: NaN / ±∞ are left out).
 * @example
 * const m: ReportMetrics = { auc: 0.83 }
 */
export type ReportMetrics = Record<string, number>

/**
 * One training round.
 * @example
 * report.rounds[2].metrics.auc
 */
export interface RoundReport {
  round: number
  /** Parties asked to train. */
  participants: number
  /** Parties whose updates are in the round's sum, and those SecAgg+ recovered from. */
  survivors: string[]
  dropped: string[]
  /** Federated (securely aggregated) test metrics after the round. */
  metrics: ReportMetrics
  /** Bytes the round's messages carried (requests and replies, all parties). */
  bytes: number
  /** Cumulative ε spent per party after the round (null without DP). */
  epsilon: Record<string, number | null>
  /** Set when the round's aggregate was discarded (sum-norm check, bad aggregate). */
  discarded?: { code: string; reason: string }
  /** The sum-norm sanity check of the round, when it ran. */
  sanity?: { meanNorm: number; bound: number; tripped: boolean }
  faults: FiredFault[]
  /** Wall time per phase in ms: train, secagg, eval, total. */
  timing: Record<string, number>
}

/**
 * One party of the scenario.
 * @example
 * report.parties.find((p) => p.name === 'lender_a')?.trainRows
 */
export interface PartyReport {
  name: string
  rows: number
  trainRows: number
  testRows: number
  /** Share of positive labels among its training rows (classifiers). */
  positiveRate?: number
}

/**
 * The whole report.
 * @example
 * const r: SimReport = JSON.parse(readFileSync('out/report.json', 'utf8'))
 */
export interface SimReport {
  version: 1
  scenario: { name: string; description?: string; seed: number; file?: string }
  model: ScenarioConfig['model']
  mode: {
    partition: 'horizontal' | 'vertical'
    secureAggregation: ScenarioConfig['secureAggregation']
    dp: ScenarioConfig['dp']
    transport: ScenarioConfig['transport']
  }
  dataset: { name: string; rows: number; trainRows: number; testRows: number; features: string[] }
  parties: PartyReport[]
  job: {
    id: string
    status: string
    roundsCompleted: number
    declined: Array<{ party: string; code: string; reason: string; round: number }>
    error?: { code: string; message: string }
    /** Requests the nodes failed (their audit logs' `train-failed`), one per party, request and code. */
    nodeFailures: Array<{
      party: string
      request: string
      round: number | null
      code: string
      reason: string
    }>
  }
  rounds: RoundReport[]
  metrics: {
    /** The published model scored exactly on the dataset's test split (as the baselines are). */
    test: ReportMetrics
    /** The last round's federated (securely aggregated) evaluation. */
    federated: ReportMetrics
  }
  baselines: {
    centralized: ReportMetrics | null
    localOnly: Record<string, ReportMetrics>
  }
  privacy: {
    perParty: Record<string, { epsilon: number | null; delta: number | null }>
    /** The job's target (null without DP). */
    target: { epsilon: number | null; delta: number } | null
  }
  comm: {
    bytesTotal: number
    /** Offer and federated statistics (before round 1). */
    bytesSetup: number
    /** Publishing the model to the parties. */
    bytesPublish: number
    bytesPerParty: Record<string, number>
  }
  faults: FiredFault[]
  sanityCheck: {
    enabled: boolean
    maxUpdateNorm: number | null
    /** Rounds the job runner ran the check on (0 while the runner has no checkAggregate hook). */
    checkedRounds: number
    discardedRounds: number[]
  }
  reproducible: { excluded: string[] }
  timing: { wallMs: number; setupMs: number; jobMs: number; baselinesMs: number; evaluationMs: number }
}

/**
 * A copy of a report without its volatile keys (`reproducible.excluded`: `timing` always; byte
 * counts under HE): what two runs with the same seed must agree on exactly.
 *
 * @example
 * expect(stripVolatile(a)).toEqual(stripVolatile(b))
 */
export function stripVolatile(report: SimReport | Record<string, unknown>): unknown {
  const excluded = new Set((report as SimReport).reproducible?.excluded ?? ['timing'])
  const drop = (key: string) => excluded.has(key) || (excluded.has('bytes*') && key.startsWith('bytes'))
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk)
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(v)) if (!drop(k)) out[k] = walk(x)
      return out
    }
    return v
  }
  return walk(report)
}

/**
 * Finite metrics only (JSON cannot hold NaN or ±∞).
 * @example
 * finiteMetrics({ auc: 0.8, ks: NaN }) // { auc: 0.8 }
 */
export function finiteMetrics(m: Record<string, number> | undefined): ReportMetrics {
  const out: ReportMetrics = {}
  for (const [k, v] of Object.entries(m ?? {})) if (Number.isFinite(v)) out[k] = v
  return out
}
