/**
 * Acceptance 1 (no DP) and 6 over the loopback transport: three nodes holding the natural split of
 * credit_data train a logistic regression with the real job runner, SecAgg+ and federated
 * statistics; the federated AUC/KS equal the pooled ones within the histogram resolution; the
 * published model scores each node's customers locally.
 */
import { readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobRecord, RoundRecord } from '../../coordinator/jobs/types.ts'
import { getManifest } from '../../node/data/dataset-store.ts'
import { loadJobData } from '../../node/jobs/job-data.ts'
import { getNodeModel } from '../../node/jobs/model-store.ts'
import { scoreDataset, writeScoresCsv } from '../../node/jobs/score.ts'
import { createTrainer } from '../../node/training/create-trainer.ts'
import {
  binaryEvalVector,
  histogramAucError,
  histogramKsError,
  splitEvalVector
} from '../../protocols/evaluation/binary-metrics.ts'
import { exactAccuracy, exactAuc, exactKs } from '../../protocols/evaluation/exact-metrics.ts'
import { modelSpec } from '../../protocols/training/model-spec.ts'
import { bytesToF64 } from '../../protocols/training/wire.ts'
import { loadSharedDataset } from '../../simulations/baselines/load-dataset.ts'
import type { SharedDataset } from '../../simulations/baselines/load-dataset.ts'
import { createTrainFederation } from '../helpers/train-federation.ts'
import type { TrainFederation } from '../helpers/train-federation.ts'

let fed: TrainFederation
let ds: SharedDataset
let job: JobRecord
let rounds: RoundRecord[]
let wallMs = 0

beforeAll(async () => {
  ds = await loadSharedDataset('credit_data')
  fed = await createTrainFederation({ seed: 'train-logreg' })
  const submitted = await fed.submit({
    name: 'credit risk',
    model: { kind: 'logreg', rounds: 20, learningRate: 0.1, batchSize: 64, localEpochs: 1 },
    data: { dataset: 'credit_data' },
    minParticipants: 3
  })
  const t0 = performance.now()
  job = await fed.run(submitted.id)
  wallMs = performance.now() - t0
  rounds = await fed.jobs.listRounds(job.id)
  console.log(
    `logreg: ${rounds.length} rounds in ${Math.round(wallMs)} ms; test AUC ${job.metrics?.auc?.toFixed(4)} KS ${job.metrics?.ks?.toFixed(4)}; ` +
      `round 20 timings ${JSON.stringify(rounds.at(-1)?.timings)} bytes ${rounds.at(-1)?.bytes}`
  )
})

afterAll(async () => {
  await fed?.close()
})

describe('credit_data, 3 nodes (natural split), logistic regression, SecAgg+, no DP', () => {
  it('completes every round once with all three nodes', async () => {
    expect(job.status).toBe('completed')
    expect(job.declined).toEqual([])
    expect(job.participants.map((p) => p.org).sort()).toEqual(
      ds
        .parties('horizontal_natural')
        .map((p) => p.name)
        .sort()
    )
    expect(rounds.map((r) => r.round)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    expect(rounds.every((r) => r.survivors.length === 3 && r.dropped.length === 0)).toBe(true)
    expect(fed.jobs.completions.every((c) => !c.refused)).toBe(true)
  })

  it('reaches the centralized test AUC (0.838) within 0.01 and beats every local-only model', () => {
    const lr = ds.baselines.logistic_regression
    expect(Math.abs(job.metrics!.auc! - lr.centralized.test_auc)).toBeLessThan(0.01)
    const local = lr.local_only.horizontal_natural!.parties
    for (const [party, m] of Object.entries(local)) {
      expect(job.metrics!.auc!, party).toBeGreaterThan(m.test_auc)
    }
    expect(job.metrics!.n).toBe(891)
  })

  it('standardises with federated statistics that match the spec where no value is missing', () => {
    const f = job.featureStats!
    const ref = ds.schema.reference!.features!
    expect(f.names).toEqual(ref.map((r) => r.name))
    // Columns without missing training values: the federated mean and std are the spec's.
    for (const name of ['Seniority', 'Time', 'Age', 'Expenses', 'Amount', 'Price', 'Records=yes']) {
      const i = f.names.indexOf(name)
      expect(f.mean[i]!, name).toBeCloseTo(ref[i]!.mean, 5)
      expect(f.std[i]! / ref[i]!.std, name).toBeCloseTo(1, 6)
    }
    // Income has 300 missing training values: imputed with the global mean, not the median.
    expect(f.impute!.Income).toBeGreaterThan(125)
    expect(f.impute!.Home).toBe('owner')
    expect(f.rows).toBe(3563)
  })

  it('federated AUC and KS equal the pooled exact ones within the histogram resolution', async () => {
    const scores: number[] = []
    const labels: number[] = []
    for (const n of fed.nodes) {
      const model = await getNodeModel(n.store, job.id)
      const spec = modelSpec(model.descriptor)
      const params = spec.unflatten(bytesToF64(Buffer.from(model.params, 'base64')))
      const { test } = await loadJobData(n.store, (await getManifest(n.store, 'credit_data'))!, model.prep)
      const p = await createTrainer(spec).predict(params, test)
      scores.push(...p)
      labels.push(...test.y!)
    }
    expect(scores.length).toBe(891)
    const { pos, neg } = splitEvalVector(binaryEvalVector(scores, labels, { bins: 1000 }), 1000)
    const auc = exactAuc(scores, labels)
    const ks = exactKs(scores, labels)
    expect(Math.abs(job.metrics!.auc! - auc)).toBeLessThanOrEqual(histogramAucError(pos, neg) + 1e-12)
    expect(Math.abs(job.metrics!.ks! - ks)).toBeLessThanOrEqual(histogramKsError(pos, neg) + 1e-12)
    expect(histogramAucError(pos, neg)).toBeLessThan(0.002)
    expect(job.metrics!.accuracy).toBeCloseTo(exactAccuracy(scores, labels), 12)
  })

  it('publishes the model to every node and the coordinator registry', async () => {
    const registry = fed.jobs.getModel(job.id)!
    expect(registry.kind).toBe('logreg')
    for (const n of fed.nodes) {
      const m = await getNodeModel(n.store, job.id)
      expect(m.sha256).toBe(registry.sha256)
      expect(m.prep.features).toEqual(job.featureStats!.names)
    }
  })

  it('scores every local customer with the published model, on the node only', async () => {
    const n = fed.nodes[1]!
    const r = await scoreDataset(n.store, job.id)
    const rows = (await getManifest(n.store, 'credit_data'))!.rows
    expect(r.ids.length).toBe(rows)
    expect(r.columns.map((c) => c.name)).toEqual(['risk'])
    expect(r.columns[0]!.values.every((v) => v >= 0 && v <= 1)).toBe(true)
    const file = join(tmpdir(), `cohort-scores-${process.pid}.csv`)
    try {
      expect(await writeScoresCsv(file, r)).toBe(rows)
      const lines = readFileSync(file, 'utf8').trim().split('\n')
      expect(lines[0]).toBe('id,risk')
      expect(lines).toHaveLength(rows + 1)
      expect(lines[1]).toMatch(/^u\d{5},0\.\d{6}$/)
    } finally {
      rmSync(file, { force: true })
    }
  })

  it('charges nothing to the ledger and audits every release on every node', async () => {
    for (const n of fed.nodes) {
      expect(await n.ledger.list()).toEqual([])
      const kinds = (await n.audit.read()).map((e) => e.kind)
      expect(kinds.filter((k) => k === 'train-accepted')).toHaveLength(1)
      expect(kinds.filter((k) => k === 'train-stats-released')).toHaveLength(1)
      expect(kinds.filter((k) => k === 'train-fit-released')).toHaveLength(20)
      expect(kinds.filter((k) => k === 'train-eval-released')).toHaveLength(20)
      expect(kinds.filter((k) => k === 'secagg-done')).toHaveLength(41)
      expect(kinds).toContain('model-received')
      expect((await n.audit.verify()).ok).toBe(true)
    }
  })
})
