/**
 * `cohort sim run`: one scenario, end to end, with the production code. The dataset is split into
 * parties; each party becomes a node (its own store, ledger, audit log, policy, the real training
 * and SecAgg+/HE participants); the coordinator runs the real job runner (coordinator/jobs/run-job.ts)
 * through a tap that injects the scenario's faults; afterwards the simulation — which alone sees all
 * the data — scores the published model exactly on the test split, computes the centralized and
 * local-only baselines with the same trainers, and assembles report.json.
 */
import { JobConfig } from '../configs/job.ts'
import type { LoadedScenario } from '../configs/scenario.ts'
import { runJob } from '../coordinator/jobs/run-job.ts'
import type { JobRunContext, RoundRecord } from '../coordinator/jobs/types.ts'
import { jobQuant } from '../protocols/training/quantisation.ts'
import { openPooled } from './data/pooled.ts'
import { loadSimTable } from './data/sim-table.ts'
import { SimConfigError } from './errors.ts'
import { createCoordinatorTap } from './faults/coordinator-tap.ts'
import { createFaultLog } from './faults/fault-log.ts'
import { planFaults } from './faults/fault-plan.ts'
import { loopbackHooks } from './faults/loopback-hooks.ts'
import { maliciousStash } from './faults/malicious-input.ts'
import { createSumNormCheck } from './faults/sum-norm-check.ts'
import type { AggregateCheckInput, AggregateVerdict, SumNormCheckResult } from './faults/sum-norm-check.ts'
import { createSimFederation, simPolicy } from './harness/sim-federation.ts'
import { resolvePartition } from './partition/resolve-partition.ts'
import { buildReport, roundMetrics } from './report/build-report.ts'
import { exactEvaluation, ledgerOf, nodeFailuresOf, partiesReport } from './report/collect-run.ts'
import type { ReportMetrics, SimReport } from './report/report.ts'
import { scenarioBaselines } from './report/scenario-baselines.ts'
import type { ScenarioBaselines } from './report/scenario-baselines.ts'
import { runVerticalScenario, verticalGroupsOf } from './vertical/run-vertical-scenario.ts'

/**
 * Progress of a run, for a progress bar.
 * @example
 * runScenario(s, { onProgress: (e) => e.kind === 'round' && bar.update(e.round / e.rounds) })
 */
export type SimProgress =
  | { kind: 'stage'; stage: 'data' | 'federation' | 'training' | 'baselines' | 'evaluation'; detail?: string }
  | { kind: 'node'; done: number; total: number }
  | {
      kind: 'round'
      round: number
      rounds: number
      metrics: ReportMetrics
      survivors: number
      dropped: number
      discarded: boolean
    }

/**
 * Options of {@link runScenario}.
 * @example
 * await runScenario(scenario, { log: (l) => process.stderr.write(`${l}\n`) })
 */
export interface RunScenarioOptions {
  onProgress?: (e: SimProgress) => void
  /** Log lines of the runner and the nodes. @default none */
  log?: (line: string) => void
  signal?: AbortSignal
  /** Baselines computed before for the same data, partition and model (a sweep reuses them). */
  baselines?: ScenarioBaselines
}

/** The job runner's context with the proposed aggregate hook (coordinator/jobs/types.ts). */
type RunContext = JobRunContext & { checkAggregate?: (c: AggregateCheckInput) => AggregateVerdict }

function jobIdOf(name: string, seed: number): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
  return `sim-${slug === '' ? 'scenario' : slug}-s${seed}`
}

/**
 * Runs a scenario and returns its report (the caller writes it: see simulations/report/write-report.ts).
 * A job that ends `failed` still yields a report (`job.status`, `job.error`).
 *
 * @throws SimConfigError | SimUnsupportedError | ConfigError for a scenario that cannot run
 * @example
 * const report = await runScenario(loadScenario('configs/scenarios/credit-natural.yaml'))
 * report.metrics.test.auc
 */
export async function runScenario(scenario: LoadedScenario, o: RunScenarioOptions = {}): Promise<SimReport> {
  // Parties holding different columns of the same customers: PSI and a vertical protocol instead.
  if (verticalGroupsOf(scenario) !== undefined) return runVerticalScenario(scenario, o)
  const s = scenario.config
  const t0 = performance.now()
  const progress = o.onProgress ?? (() => {})
  const log = o.log ?? (() => {})
  progress({ kind: 'stage', stage: 'data' })
  const table = loadSimTable(scenario)
  const parties = resolvePartition(scenario, table)
  const names = Object.keys(parties)
  const floor = { 'secagg+': 3, he: 2, none: 1 }[s.secureAggregation]
  if (names.length < Math.max(floor, s.minParticipants))
    throw new SimConfigError(
      `the partition has ${names.length} parties; ${s.secureAggregation} with minParticipants ${s.minParticipants} needs at least ${Math.max(floor, s.minParticipants)}`
    )
  const plan = planFaults(s, names)
  const faults = createFaultLog()
  const dp = s.dp
  const ranges =
    s.statistics.ranges === 'auto' || (s.statistics.ranges === undefined && dp !== 'none')
      ? table.numericRanges()
      : (s.statistics.ranges ?? {})
  let orgOf: (peer: string) => string = (p) => p
  let tapRound = () => 0
  const hooks = loopbackHooks(plan, {
    seed: s.seed,
    orgOf: (p) => orgOf(p),
    onLost: () => faults.count(tapRound(), 'loss', 'messages')
  })
  const fitQuant = jobQuant('fit', { secureAggregation: s.secureAggregation, ringBits: s.secagg.ringBits })
  const { parties: partyOverrides, ...datasetPolicy } = s.policy
  progress({ kind: 'stage', stage: 'federation', detail: `${names.length} nodes` })
  const fed = await createSimFederation({
    seed: s.seed,
    dataset: table.name,
    schema: table.schema,
    parties: Object.fromEntries(names.map((n) => [n, table.csvOf(parties[n]!)])),
    transport: s.transport,
    hooks,
    he: s.secureAggregation === 'he',
    policy: (org) =>
      simPolicy(
        { datasets: { [table.name]: { ...datasetPolicy, ...partyOverrides[org] } } },
        { allowPlaintext: s.secureAggregation === 'none', delta: dp === 'none' ? 1e-5 : dp.delta }
      ),
    stashFor: (org, stash) => {
      const m = plan.malicious.get(org)
      if (m === undefined) return stash
      const seen = new Set<number>()
      // A retried fit serves the same (poisoned again) summand: one fault per round.
      return maliciousStash(stash, m, fitQuant, `${s.seed}/malicious/${org}`, (round) => {
        if (seen.has(round)) return
        seen.add(round)
        faults.record({ round, kind: 'malicious-update', party: org, detail: { update: m.kind } })
      })
    },
    log,
    onNode: (_org, done, total) => progress({ kind: 'node', done, total })
  })
  let report: SimReport
  try {
    orgOf = (p) => fed.orgOf(p)
    const tap = createCoordinatorTap(fed.coordinator.transport, {
      plan,
      log: faults,
      orgOf,
      seed: s.seed,
      stragglersHere: s.transport === 'libp2p'
    })
    tapRound = () => tap.currentRound()
    for (const [party, st] of plan.stragglers)
      faults.record({
        round: 0,
        kind: 'straggler',
        party,
        detail: { latencyMs: st.latencyMs, jitterMs: st.jitterMs }
      })
    const jobId = jobIdOf(s.name, s.seed)
    const config = JobConfig.parse({
      name: s.name,
      model: s.model,
      data: { dataset: table.name, ...(s.features === undefined ? {} : { features: s.features }) },
      secureAggregation: s.secureAggregation,
      ...(fed.heKeyFingerprint === undefined ? {} : { he: { keyFingerprint: fed.heKeyFingerprint } }),
      dp,
      minParticipants: s.minParticipants,
      secagg: s.secagg,
      statistics: { ranges, noiseMultiplier: s.statistics.noiseMultiplier },
      evaluation: s.evaluation,
      deadlines: s.deadlines,
      seed: s.seed
    })
    const at = new Date(0).toISOString()
    await fed.coordinator.jobs.putJob({
      id: jobId,
      config,
      status: 'pending',
      createdAt: at,
      updatedAt: at,
      round: 0,
      participants: [],
      declined: []
    })
    const bound =
      s.sanityCheck.enabled === false
        ? null
        : (s.sanityCheck.maxUpdateNorm ?? (dp !== 'none' && dp.mode === 'update' ? dp.clipNorm : null))
    const sanity = new Map<number, SumNormCheckResult>()
    const check =
      bound === null
        ? undefined
        : createSumNormCheck({
            maxUpdateNorm: bound,
            onCheck: (r) => {
              sanity.set(r.round, r)
              if (r.tripped)
                faults.record({
                  round: r.round,
                  kind: 'sanity-check',
                  detail: { meanNorm: r.meanNorm, bound: r.bound }
                })
            }
          })
    const setupMs = performance.now() - t0
    progress({ kind: 'stage', stage: 'training', detail: jobId })
    const ctx: RunContext = {
      transport: tap,
      store: fed.coordinator.jobs,
      manifest: () => fed.manifest,
      audit: fed.coordinator.audit,
      log,
      onRound: (r: RoundRecord) =>
        progress({
          kind: 'round',
          round: r.round,
          rounds: s.model.rounds,
          metrics: roundMetrics(s.model.kind, r.metrics),
          survivors: r.survivors.length,
          dropped: r.dropped.length,
          discarded: r.discarded !== undefined
        }),
      ...(check === undefined ? {} : { checkAggregate: check })
    }
    const j0 = performance.now()
    const job = await runJob(ctx, jobId, o.signal === undefined ? {} : { signal: o.signal })
    const jobMs = performance.now() - j0
    const rounds = await fed.coordinator.jobs.listRounds(jobId)
    const ledger = await ledgerOf(fed)
    const nodeFailures = await nodeFailuresOf(fed)

    progress({ kind: 'stage', stage: 'baselines' })
    const b0 = performance.now()
    const pooled = await openPooled(table)
    try {
      const baselines =
        o.baselines ??
        (await scenarioBaselines(s, pooled, parties, {
          onStep: (what) => progress({ kind: 'stage', stage: 'baselines', detail: what })
        }))
      const baselinesMs = performance.now() - b0
      progress({ kind: 'stage', stage: 'evaluation' })
      const e0 = performance.now()
      const exact = job.status === 'completed' ? await exactEvaluation(fed, job, pooled, s.seed) : {}
      const evaluationMs = performance.now() - e0
      const { train, test } = pooled.baseline
      report = buildReport({
        scenario,
        dataset: {
          name: table.name,
          rows: table.rows,
          trainRows: train.rows,
          testRows: test.rows,
          features: job.featureStats?.names ?? [...train.featureNames]
        },
        parties: partiesReport(table, parties, pooled),
        job,
        rounds,
        orgOf,
        ledger,
        nodeFailures,
        bytesByRound: tap.bytesByRound,
        bytesPerParty: tap.bytesByParty,
        faults: faults.all(),
        sanity,
        sanityBound: bound,
        exact,
        baselines,
        timing: { wallMs: performance.now() - t0, setupMs, jobMs, baselinesMs, evaluationMs }
      })
    } finally {
      await pooled.close()
    }
  } finally {
    await fed.close()
  }
  return report
}
