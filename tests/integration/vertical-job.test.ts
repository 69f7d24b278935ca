/**
 * A vertical logistic-regression job end to end over the loopback transport, through the production
 * path: the coordinator's runJob (→ coordinator/jobs/vertical-run.ts) offers the job, the lender
 * (label) leads the PSI over the three nodes' own id columns (each holds 85% of the customers), every
 * node builds its aligned slice and runs its protocol party, and only the label party's aggregate
 * metrics reach the coordinator. Then the lender scores the aligned customers with the feature nodes
 * serving partial scores; and a node whose policy disallows a feature declines with its reason.
 * (The protocol's own AUC acceptance against the centralized baseline is tests/integration/vertical-lr.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobRecord } from '../../coordinator/jobs/types.ts'
import { getVerticalModel } from '../../node/vertical/model-store.ts'
import { exactAuc } from '../../protocols/evaluation/exact-metrics.ts'
import type { SimTable } from '../../simulations/data/sim-table.ts'
import type { VerticalFederation } from '../../simulations/vertical/vertical-federation.ts'
import type { VerticalSplit } from '../../simulations/vertical/vertical-parties.ts'
import { creditVerticalFederation, verticalTestPolicy } from '../helpers/vertical-credit.ts'

let fed: VerticalFederation
let table: SimTable
let split: VerticalSplit
let job: JobRecord
let wallMs = 0

const LR_JOB = {
  name: 'credit-vertical-logreg',
  model: { kind: 'logreg', rounds: 8, batchSize: 4096, learningRate: 0.1 },
  data: { dataset: 'credit' },
  vertical: { label: 'lender' },
  seed: 7
}

async function kinds(f: VerticalFederation, org: string, jobId: string): Promise<string[]> {
  const entries = await f.node(org).audit.read()
  return entries.filter((e) => JSON.stringify(e.body ?? null).includes(jobId)).map((e) => e.kind)
}

beforeAll(async () => {
  ;({ fed, table, split } = await creditVerticalFederation({ seed: 'vertical-job' }))
  const submitted = await fed.submit(LR_JOB)
  const t0 = performance.now()
  job = await fed.run(submitted.id)
  wallMs = performance.now() - t0
}, 120_000)

afterAll(async () => {
  await fed?.close()
})

describe('vertical logistic regression job', () => {
  it('completes with the label party metrics only, AUC > 0.8 on its held-out aligned rows', () => {
    console.log(`vertical LR job: ${JSON.stringify(job.metrics)} in ${wallMs.toFixed(0)} ms`)
    expect(job.error).toBeUndefined()
    expect(job.status).toBe('completed')
    const sets = Object.values(split.rows).map((r) => new Set(r))
    const shared = [...sets[0]!].filter((r) => sets.every((s) => s.has(r)))
    const m = job.metrics!
    expect(m.intersection).toBe(shared.length)
    expect(m.rows).toBe(shared.length)
    expect(m.n).toBe(shared.filter((r) => r % 5 === 0).length)
    expect(m.auc).toBeGreaterThan(0.8)
    expect(m.ks).toBeGreaterThan(0.3)
    expect(m.logloss).toBeLessThan(0.6)
    expect(job.participants.map((p) => p.org).sort()).toEqual(['lender', 'payroll_provider', 'retailer'])
    // No weights anywhere in the coordinator's record.
    expect(job.global).toBeUndefined()
    expect(Object.keys(m).some((k) => /weight|intercept|centroid/i.test(k))).toBe(false)
  })

  it('leaves each node its own slice of the model and an audit of what it released', async () => {
    for (const org of ['lender', 'payroll_provider', 'retailer']) {
      const m = await getVerticalModel(fed.node(org).store, job.id)
      const own = split.features[org]!
      expect(m.descriptor.role).toBe(org === 'lender' ? 'label' : 'feature')
      expect(m.prep.features.every((f) => own.includes(f.split('=')[0]!))).toBe(true)
      expect(m.descriptor.features).toBe(m.prep.features.length)
      const bytes = Buffer.from(m.params, 'base64')
      const params = Array.from({ length: bytes.length / 8 }, (_, i) => bytes.readDoubleLE(i * 8))
      expect(params.every(Number.isFinite)).toBe(true)
      expect(params.length).toBe(m.descriptor.features + (org === 'lender' ? 1 : 0))
      const k = await kinds(fed, org, job.id)
      for (const kind of [
        'vertical-accepted',
        'psi-done',
        'vertical-started',
        'vertical-model-stored',
        'vertical-released'
      ])
        expect(k, `${org} audit`).toContain(kind)
    }
  })

  it('scores the aligned customers at the label node with the feature nodes serving partial scores', async () => {
    const r = await fed.node('lender').vertical.score(job.id)
    expect(r.values.length).toBe(job.metrics!.intersection)
    const status = table.column('Status')
    const row = new Map(table.column('uid').map((id, i) => [id, i]))
    const labels = r.ids.map((id) => (status[row.get(id)!] === 'bad' ? 1 : 0))
    expect(exactAuc(r.values, labels)).toBeGreaterThan(0.8)
    for (const org of ['payroll_provider', 'retailer'])
      expect(await kinds(fed, org, job.id)).toContain('vertical-served')
    await expect(fed.node('retailer').vertical.score(job.id)).rejects.toMatchObject({
      code: 'COHORT_VERTICAL_STATE'
    })
  })

  it('fails, recording the reason, when a node’s policy disallows one of its features', async () => {
    const retailer = fed.node('retailer')
    const before = retailer.policy
    retailer.policy = verticalTestPolicy({
      datasets: { credit: { allowedFeatures: ['Marital', 'Home', 'Expenses'] } }
    })
    try {
      const submitted = await fed.submit({ ...LR_JOB, name: 'credit-vertical-declined' })
      const failed = await fed.run(submitted.id)
      expect(failed.status).toBe('failed')
      expect(failed.error?.code).toBe('COHORT_NOT_ENOUGH_PARTICIPANTS')
      expect(failed.declined).toHaveLength(1)
      expect(failed.declined[0]).toMatchObject({ org: 'retailer', code: 'COHORT_POLICY_FEATURES', round: 0 })
      expect(failed.declined[0]!.reason).toContain('Age')
      expect(await kinds(fed, 'retailer', submitted.id)).toContain('vertical-declined')
      // Nothing was aligned or trained for it.
      expect(await kinds(fed, 'lender', submitted.id)).not.toContain('psi-done')
    } finally {
      retailer.policy = before
    }
  })
})
