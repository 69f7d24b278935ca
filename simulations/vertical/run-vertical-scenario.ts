/**
 * `cohort sim run` for a vertical partition (`partition: { kind: vertical, groups }`, or a
 * `partition: { file: vertical.json, overlap: vertical_overlap.json }`): each party becomes a node
 * holding only its columns (and, with an overlap, only its customers); the coordinator runs the real
 * vertical job (PSI alignment, then the peer-to-peer protocol over the scenario's transport); the
 * report carries the label party's test metrics (AUC / KS / log-loss, or inertia and segment sizes),
 * each party's ledger, and the baselines: the whole dataset pooled, and every feature on the aligned
 * customers (what a vertical model approaches).
 */
import { readFileSync } from 'node:fs'
import { JobConfig } from '../../configs/job.ts'
import type { LoadedScenario } from '../../configs/scenario.ts'
import { openPooled } from '../data/pooled.ts'
import { loadSimTable } from '../data/sim-table.ts'
import { SimConfigError, SimUnsupportedError } from '../errors.ts'
import { simPolicy } from '../harness/sim-federation.ts'
import type { PartyReport, ReportMetrics, SimReport } from '../report/report.ts'
import { finiteMetrics } from '../report/report.ts'
import { scenarioBaselines } from '../report/scenario-baselines.ts'
import type { RunScenarioOptions } from '../run-scenario.ts'
import { createVerticalFederation } from './vertical-federation.ts'
import { verticalSplit } from './vertical-parties.ts'

/**
 * A scenario's vertical column groups and overlap, or undefined for a horizontal partition.
 *
 * @throws SimConfigError for an unreadable partition file
 * @example
 * verticalGroupsOf(loadScenario('configs/scenarios/credit-vertical.yaml'))?.groups.lender
 */
export function verticalGroupsOf(
  s: LoadedScenario
): { groups: Record<string, string[]>; overlap?: Record<string, string[]> } | undefined {
  const p = s.config.partition
  if (!('file' in p)) return p.kind === 'vertical' ? { groups: p.groups } : undefined
  const read = (file: string) => {
    const path = s.resolve(file)
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
    } catch (err) {
      throw new SimConfigError(
        `cannot read the partition file ${path}: ${(err as Error).message.split('\n')[0]}`
      )
    }
  }
  const value = read(p.file)
  const first = Object.values(value ?? {})[0]
  const isVertical = p.overlap !== undefined || (Array.isArray(first) && typeof first[0] === 'string')
  if (!isVertical) return undefined
  const lists = (v: Record<string, unknown>, what: string) => {
    for (const [k, x] of Object.entries(v))
      if (!Array.isArray(x) || !x.every((e) => typeof e === 'string'))
        throw new SimConfigError(`${what} entry ${k} is not a list of names`)
    return v as Record<string, string[]>
  }
  return {
    groups: lists(value, 'the vertical partition'),
    ...(p.overlap === undefined ? {} : { overlap: lists(read(p.overlap), 'the overlap') })
  }
}

function slug(name: string, seed: number): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
  return `sim-${s === '' ? 'scenario' : s}-s${seed}`
}

const CLASSIFIER = ['auc', 'ks', 'logloss', 'accuracy', 'n']

/**
 * Runs a vertical scenario and returns its report.
 *
 * @throws SimConfigError for a scenario that cannot run vertically (an mlp model, no label party)
 * @example
 * const report = await runVerticalScenario(loadScenario('configs/scenarios/credit-vertical.yaml'))
 * report.metrics.test.auc
 */
export async function runVerticalScenario(
  scenario: LoadedScenario,
  o: RunScenarioOptions = {}
): Promise<SimReport> {
  const s = scenario.config
  const t0 = performance.now()
  const progress = o.onProgress ?? (() => {})
  const log = o.log ?? (() => {})
  if (s.model.kind === 'mlp')
    throw new SimConfigError('vertical scenarios train logreg or kmeans models, not mlp')
  if (s.faults.length > 0)
    throw new SimUnsupportedError('faults are not simulated for vertical partitions yet; remove faults:')
  progress({ kind: 'stage', stage: 'data' })
  const table = loadSimTable(scenario)
  const vg = verticalGroupsOf(scenario)
  if (vg === undefined) throw new SimConfigError('the scenario has no vertical partition')
  const split = verticalSplit(table, vg.groups, vg.overlap)
  const names = Object.keys(split.parties)
  const dp = s.dp
  const { parties: partyOverrides, ...datasetPolicy } = s.policy
  progress({ kind: 'stage', stage: 'federation', detail: `${names.length} nodes` })
  const fed = await createVerticalFederation({
    seed: s.seed,
    dataset: table.name,
    parties: split.parties,
    transport: s.transport,
    policy: (org) =>
      simPolicy(
        { datasets: { [table.name]: { ...datasetPolicy, ...partyOverrides[org] } } },
        { allowPlaintext: false, delta: dp === 'none' ? 1e-5 : dp.delta }
      ),
    timeoutMs: s.deadlines.phaseMs,
    log
  })
  try {
    const nodes: Record<string, { dataset: string; features: string[] }> = {}
    if (s.features !== undefined)
      for (const n of names) {
        const own = s.features.filter((f) => split.features[n]!.includes(f.split('=')[0]!))
        if (own.length === 0)
          throw new SimConfigError(`features: party ${n} would train on none of its columns`)
        nodes[n] = { dataset: table.name, features: own }
      }
    const config = JobConfig.parse({
      name: s.name,
      model: s.model,
      data: { dataset: table.name },
      nodes,
      dp,
      minParticipants: Math.min(s.minParticipants, names.length),
      deadlines: s.deadlines,
      seed: s.seed,
      vertical: { label: split.label }
    })
    const setupMs = performance.now() - t0
    const submitted = await fed.submit(config, slug(s.name, s.seed))
    progress({ kind: 'stage', stage: 'training', detail: submitted.id })
    const j0 = performance.now()
    const job = await fed.run(submitted.id, o.signal === undefined ? {} : { signal: o.signal })
    const jobMs = performance.now() - j0
    const perParty: SimReport['privacy']['perParty'] = {}
    for (const n of fed.nodes) {
      const r = await n.ledger.report({ dataset: n.dataset })
      perParty[n.org] =
        dp === 'none' ? { epsilon: null, delta: null } : { epsilon: r.spent.epsilon, delta: r.spent.delta }
    }

    progress({ kind: 'stage', stage: 'baselines' })
    const b0 = performance.now()
    const sets = names.map((n) => new Set(split.rows[n]))
    const aligned = [...sets[0]!].filter((r) => sets.every((x) => x.has(r))).sort((a, b) => a - b)
    const pooled = await openPooled(table)
    let report: SimReport
    try {
      const baselines = o.baselines ?? (await scenarioBaselines(s, pooled, { intersection: aligned }))
      const baselinesMs = performance.now() - b0
      const m = job.metrics ?? {}
      const test: ReportMetrics =
        s.model.kind === 'kmeans'
          ? finiteMetrics(
              Object.fromEntries(
                Object.entries(m).filter(([k]) => k === 'inertia' || k.startsWith('segment_') || k === 'k')
              )
            )
          : finiteMetrics(
              Object.fromEntries(CLASSIFIER.filter((k) => m[k] !== undefined).map((k) => [k, m[k]!]))
            )
      const isTest = (r: number) =>
        table.schema.split !== undefined &&
        r % table.schema.split.modulus === table.schema.split.testRemainder
      const parties: PartyReport[] = names.map((n) => {
        const rows = split.rows[n]!
        const testRows = rows.filter(isTest).length
        return { name: n, rows: rows.length, trainRows: rows.length - testRows, testRows }
      })
      const { train, test: testSplit } = pooled.baseline
      report = {
        version: 1,
        scenario: {
          name: s.name,
          ...(s.description === undefined ? {} : { description: s.description }),
          seed: s.seed,
          ...(scenario.path === undefined ? {} : { file: scenario.path })
        },
        model: s.model,
        mode: { partition: 'vertical', secureAggregation: s.secureAggregation, dp, transport: s.transport },
        dataset: {
          name: table.name,
          rows: table.rows,
          trainRows: train.rows,
          testRows: testSplit.rows,
          features: names.flatMap((n) => split.features[n]!)
        },
        parties,
        job: {
          id: job.id,
          status: job.status,
          roundsCompleted: job.status === 'completed' ? 1 : 0,
          declined: job.declined.map((d) => ({
            party: d.org,
            code: d.code,
            reason: d.reason,
            round: d.round
          })),
          ...(job.error === undefined ? {} : { error: job.error }),
          nodeFailures: []
        },
        rounds: [],
        metrics: {
          test,
          federated: finiteMetrics({
            ...test,
            intersection: m.intersection ?? Number.NaN,
            rows: m.rows ?? Number.NaN
          })
        },
        baselines: {
          centralized: baselines.centralized === null ? null : finiteMetrics(baselines.centralized),
          localOnly: Object.fromEntries(
            Object.entries(baselines.localOnly).map(([k, v]) => [k, finiteMetrics(v)])
          )
        },
        privacy: {
          perParty,
          target: dp === 'none' ? null : { epsilon: dp.epsilon ?? null, delta: dp.delta }
        },
        comm: { bytesTotal: 0, bytesSetup: 0, bytesPublish: 0, bytesPerParty: {} },
        faults: [],
        sanityCheck: { enabled: false, maxUpdateNorm: null, checkedRounds: 0, discardedRounds: [] },
        reproducible: { excluded: ['timing', 'bytes*'] },
        timing: { wallMs: performance.now() - t0, setupMs, jobMs, baselinesMs, evaluationMs: 0 }
      }
    } finally {
      await pooled.close()
    }
    return report
  } finally {
    await fed.close()
  }
}
