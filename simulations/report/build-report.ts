import type { LoadedScenario } from '../../configs/scenario.ts'
import type { JobRecord, RoundRecord } from '../../coordinator/jobs/types.ts'
import type { FiredFault } from '../faults/fault-log.ts'
import type { SumNormCheckResult } from '../faults/sum-norm-check.ts'
import { finiteMetrics } from './report.ts'
import type { PartyReport, ReportMetrics, RoundReport, SimReport } from './report.ts'
import type { ScenarioBaselines } from './scenario-baselines.ts'

/**
 * Assembles report.json from what a run collected. Pure: no I/O, no clock (the timings are passed
 * in), so what it writes depends only on its inputs.
 */

/**
 * What a finished run hands to {@link buildReport}.
 * @example
 * const report = buildReport(collected)
 */
export interface CollectedRun {
  scenario: LoadedScenario
  dataset: { name: string; rows: number; trainRows: number; testRows: number; features: string[] }
  parties: PartyReport[]
  job: JobRecord
  rounds: RoundRecord[]
  orgOf: (peerId: string) => string
  nodeFailures: SimReport['job']['nodeFailures']
  /** party -> [round, cumulative ε, δ] of each ledger commit, in ledger order. */
  ledger: Record<string, Array<[number, number, number]>>
  bytesByRound: Map<number, number>
  bytesPerParty: Map<string, number>
  faults: FiredFault[]
  sanity: Map<number, SumNormCheckResult>
  sanityBound: number | null
  exact: ReportMetrics
  baselines: ScenarioBaselines
  timing: SimReport['timing']
}

/**
 * The per-round metrics a report shows: classifiers as the runner reports them; k-means with the
 * test-split inertia as `inertia` (what the baselines report), the training one as `trainInertia`.
 *
 * @example
 * roundMetrics('kmeans', { inertia: 900, testInertia: 230, simplifiedSilhouette: 0.3 }) // { inertia: 230, trainInertia: 900, ... }
 */
export function roundMetrics(kind: string, m: Record<string, number>): ReportMetrics {
  if (kind !== 'kmeans') return finiteMetrics(m)
  const out: Record<string, number> = {}
  if (m.testInertia !== undefined) out.inertia = m.testInertia
  if (m.inertia !== undefined) out.trainInertia = m.inertia
  for (const k of ['simplifiedSilhouette', 'participants', 'best', 'evalFailed'])
    if (m[k] !== undefined) out[k] = m[k]!
  return finiteMetrics(out)
}

function epsilonAt(commits: Array<[number, number, number]> | undefined, round: number): number | null {
  if (commits === undefined) return null
  let eps: number | null = null
  for (const [r, e] of commits) if (r <= round) eps = Math.max(eps ?? 0, e)
  return eps ?? 0
}

/**
 * Builds the report.
 * @example
 * await writeFile(join(out, 'report.json'), JSON.stringify(buildReport(run), null, 2))
 */
export function buildReport(c: CollectedRun): SimReport {
  const s = c.scenario.config
  const dp = s.dp
  const hasDp = dp !== 'none'
  const names = c.parties.map((p) => p.name)
  const rounds: RoundReport[] = c.rounds.map((r) => {
    const epsilon: Record<string, number | null> = {}
    for (const n of names) epsilon[n] = hasDp ? epsilonAt(c.ledger[n], r.round) : null
    const sanity = c.sanity.get(r.round)
    return {
      round: r.round,
      participants: r.participants.length,
      survivors: r.survivors.map(c.orgOf),
      dropped: r.dropped.map(c.orgOf),
      metrics: roundMetrics(s.model.kind, r.metrics),
      bytes: c.bytesByRound.get(r.round) ?? 0,
      epsilon,
      ...(r.discarded === undefined ? {} : { discarded: r.discarded }),
      ...(sanity === undefined
        ? {}
        : { sanity: { meanNorm: sanity.meanNorm, bound: sanity.bound, tripped: sanity.tripped } }),
      faults: c.faults.filter((f) => f.round === r.round),
      timing: { ...r.timings }
    }
  })
  const perParty: SimReport['privacy']['perParty'] = {}
  for (const n of names) {
    const commits = c.ledger[n] ?? []
    const last = commits.at(-1)
    perParty[n] = hasDp
      ? { epsilon: commits.reduce((a, [, e]) => Math.max(a, e), 0), delta: last?.[2] ?? 0 }
      : { epsilon: null, delta: null }
  }
  const he = s.secureAggregation === 'he'
  const byRound = c.bytesByRound
  const federated = rounds.at(-1)?.metrics ?? {}
  return {
    version: 1,
    scenario: {
      name: s.name,
      ...(s.description === undefined ? {} : { description: s.description }),
      seed: s.seed,
      ...(c.scenario.path === undefined ? {} : { file: c.scenario.path })
    },
    model: s.model,
    mode: { partition: 'horizontal', secureAggregation: s.secureAggregation, dp, transport: s.transport },
    dataset: c.dataset,
    parties: c.parties,
    job: {
      id: c.job.id,
      status: c.job.status,
      roundsCompleted: c.job.round,
      declined: c.job.declined.map((d) => ({ party: d.org, code: d.code, reason: d.reason, round: d.round })),
      ...(c.job.error === undefined ? {} : { error: c.job.error }),
      nodeFailures: c.nodeFailures
    },
    rounds,
    metrics: { test: finiteMetrics(c.exact), federated },
    baselines: {
      centralized: c.baselines.centralized === null ? null : finiteMetrics(c.baselines.centralized),
      localOnly: Object.fromEntries(
        Object.entries(c.baselines.localOnly).map(([k, v]) => [k, finiteMetrics(v)])
      )
    },
    privacy: {
      perParty,
      target: hasDp ? { epsilon: dp.epsilon ?? null, delta: dp.delta } : null
    },
    comm: {
      bytesTotal: [...byRound.values()].reduce((a, b) => a + b, 0),
      bytesSetup: byRound.get(0) ?? 0,
      bytesPublish: byRound.get(-1) ?? 0,
      bytesPerParty: Object.fromEntries([...c.bytesPerParty].sort(([a], [b]) => a.localeCompare(b)))
    },
    faults: c.faults,
    sanityCheck: {
      enabled: c.sanityBound !== null,
      maxUpdateNorm: c.sanityBound,
      checkedRounds: c.sanity.size,
      discardedRounds: rounds.filter((r) => r.discarded !== undefined).map((r) => r.round)
    },
    reproducible: { excluded: he ? ['timing', 'bytes*'] : ['timing'] },
    timing: c.timing
  }
}
