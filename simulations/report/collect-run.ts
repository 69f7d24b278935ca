import { fromBase64F64 } from '../../coordinator/jobs/job-plan.ts'
import type { JobRecord } from '../../coordinator/jobs/types.ts'
import { createDenseTrainer } from '../../node/training/dense-trainer.ts'
import { assignClusters, exactInertia, silhouette } from '../../protocols/evaluation/kmeans-metrics.ts'
import { modelSpec } from '../../protocols/training/model-spec.ts'
import type { ModelDescriptor } from '../../protocols/training/model-spec.ts'
import type { PooledData } from '../data/pooled.ts'
import type { SimTable } from '../data/sim-table.ts'
import type { SimFederation } from '../harness/sim-federation.ts'
import type { Partition } from '../partition/partitioners.ts'
import { floats, simRandom } from '../rng.ts'
import type { PartyReport, ReportMetrics, SimReport } from './report.ts'

/**
 * What a finished run reads back for its report: the parties' sizes, the published model scored
 * exactly on the pooled test split, the nodes' ledgers and failures from their audit logs.
 */

/**
 * Rows, training and test rows and the training positive rate of every party.
 * @example
 * partiesReport(table, parties, pooled)[0] // { name: 'lender_a', rows: 2805, trainRows: 2248, ... }
 */
export function partiesReport(table: SimTable, parties: Partition, pooled: PooledData): PartyReport[] {
  const { train } = pooled.baseline
  const trainLabel = new Map<number, number>()
  for (let r = 0; r < train.rows; r++) trainLabel.set(train.index[r]!, train.y?.[r] ?? Number.NaN)
  const s = table.schema.split
  return Object.entries(parties).map(([name, rows]) => {
    let trainRows = 0
    let pos = 0
    for (const i of rows) {
      const y = trainLabel.get(i)
      if (y === undefined) continue
      trainRows++
      if (y === 1) pos++
    }
    const testRows = s === undefined ? 0 : rows.length - trainRows
    const hasY = train.y !== null && table.schema.target !== undefined
    return {
      name,
      rows: rows.length,
      trainRows,
      testRows,
      ...(hasY && trainRows > 0 ? { positiveRate: pos / trainRows } : {})
    }
  })
}

/**
 * The published model scored exactly on the pooled test split, under the job's federated
 * preprocessing (classifiers: auc, accuracy, logloss, ks; k-means: test and train inertia, exact
 * silhouette on a seeded 2000-row training sample).
 * @example
 * const m = await exactEvaluation(fed, job, pooled, 1) // m.auc
 */
export async function exactEvaluation(
  fed: SimFederation,
  job: JobRecord,
  pooled: PooledData,
  seed: number
): Promise<ReportMetrics> {
  const model = await fed.coordinator.jobs.getModel(job.id)
  const f = job.featureStats
  if (model === undefined || f === undefined) return {}
  const spec = modelSpec(model.descriptor as ModelDescriptor)
  const params = spec.unflatten(fromBase64F64(model.params))
  const { train, test } = await pooled.design({
    names: f.names,
    mean: f.mean,
    std: f.std,
    impute: f.impute ?? {}
  })
  if (spec.kind !== 'kmeans') {
    const m = await createDenseTrainer(spec).evaluate(params, test)
    return { auc: m.auc!, accuracy: m.accuracy!, logloss: m.logloss!, ks: m.ks! }
  }
  const d = train.features
  const centroids = params.centroids!
  const k = centroids.length / d
  const pick = floats(simRandom(`${seed}/silhouette`)).shuffle(
    Array.from({ length: train.rows }, (_, i) => i)
  )
  const sample = Int32Array.from(pick.slice(0, Math.min(2000, train.rows)).sort((a, b) => a - b))
  return {
    inertia: exactInertia(test.x, d, centroids, k),
    silhouette: silhouette(train.x, d, assignClusters(train.x, d, centroids, k), k, sample),
    trainInertia: exactInertia(train.x, d, centroids, k)
  }
}

/**
 * Requests each node failed (audit `train-failed`), once per (request, code), in party order.
 * @example
 * (await nodeFailuresOf(fed))[0]?.code // 'COHORT_QUANTISATION_RANGE'
 */
export async function nodeFailuresOf(fed: SimFederation): Promise<SimReport['job']['nodeFailures']> {
  const out: SimReport['job']['nodeFailures'] = []
  for (const n of fed.nodes) {
    const seen = new Set<string>()
    for (const e of await n.audit.read()) {
      if (e.kind !== 'train-failed') continue
      const b = e.body as { request: string; code: string; reason: string }
      const key = `${b.request}/${b.code}`
      if (seen.has(key)) continue
      seen.add(key)
      out.push({ party: n.org, request: b.request, round: e.round, code: b.code, reason: b.reason })
    }
  }
  return out
}

/**
 * Per party, each ledger commit's [round, cumulative ε, δ] from its audit log.
 * @example
 * (await ledgerOf(fed)).lender_a // [[0, 0.12, 1e-5], [1, 0.2, 1e-5], ...]
 */
export async function ledgerOf(fed: SimFederation): Promise<Record<string, Array<[number, number, number]>>> {
  const out: Record<string, Array<[number, number, number]>> = {}
  for (const n of fed.nodes) {
    out[n.org] = (await n.audit.read())
      .filter((e) => e.kind === 'budget-committed')
      .map((e) => {
        const spent = (e.body as { spent: { epsilon: number; delta: number } }).spent
        return [e.round ?? 0, spent.epsilon, spent.delta] as [number, number, number]
      })
  }
  return out
}
