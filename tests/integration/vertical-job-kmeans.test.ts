/**
 * A vertical k-means job with DP over real libp2p (TCP, Noise, yamux, membership gater on 127.0.0.1):
 * PSI alignment, the lender leads the session, every node charges its DP release to its own ledger
 * before it leaves, and only inertia and (noised) segment sizes reach the coordinator. A node whose ε
 * cap is below the job's declines at the offer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobRecord } from '../../coordinator/jobs/types.ts'
import { getVerticalModel } from '../../node/vertical/model-store.ts'
import type { VerticalFederation } from '../../simulations/vertical/vertical-federation.ts'
import type { VerticalSplit } from '../../simulations/vertical/vertical-parties.ts'
import { creditVerticalFederation, verticalTestPolicy } from '../helpers/vertical-credit.ts'

let fed: VerticalFederation
let split: VerticalSplit
let job: JobRecord
let wallMs = 0

const KMEANS_JOB = {
  name: 'credit-vertical-kmeans-dp',
  model: { kind: 'kmeans', k: 4, rounds: 10, candidates: 2 },
  data: { dataset: 'credit' },
  dp: { epsilon: 1, delta: 1e-5, clipNorm: 4 },
  vertical: { label: 'lender' },
  seed: 11
}

beforeAll(async () => {
  ;({ fed, split } = await creditVerticalFederation({ seed: 'vertical-kmeans', transport: 'libp2p' }))
  const submitted = await fed.submit(KMEANS_JOB)
  const t0 = performance.now()
  job = await fed.run(submitted.id)
  wallMs = performance.now() - t0
}, 120_000)

afterAll(async () => {
  await fed?.close()
})

describe('vertical k-means job over libp2p', () => {
  it('completes with inertia and segment sizes at the coordinator, centroid slices at the nodes', async () => {
    console.log(`vertical k-means job: ${JSON.stringify(job.metrics)} in ${wallMs.toFixed(0)} ms`)
    expect(job.error).toBeUndefined()
    expect(job.status).toBe('completed')
    const m = job.metrics!
    expect(m.k).toBe(4)
    expect(m.inertia).toBeGreaterThan(0)
    expect(Number.isFinite(m.inertia)).toBe(true)
    const sizes = [0, 1, 2, 3].map((i) => m[`segment_${i}`]!)
    expect(sizes.every((n) => Number.isFinite(n))).toBe(true)
    // Noised sizes: near the aligned row count, not equal to it by construction.
    const total = sizes.reduce((a, b) => a + b, 0)
    expect(Math.abs(total - m.intersection!)).toBeLessThan(0.2 * m.intersection!)
    for (const org of ['lender', 'payroll_provider', 'retailer']) {
      const model = await getVerticalModel(fed.node(org).store, job.id)
      expect(model.descriptor).toMatchObject({ kind: 'vertical-kmeans', k: 4 })
      expect(model.prep.features.every((f) => split.features[org]!.includes(f.split('=')[0]!))).toBe(true)
    }
  })

  it('charges each node’s ledger before its DP release, within the job’s ε', async () => {
    for (const org of ['lender', 'payroll_provider', 'retailer']) {
      const r = await fed.node(org).ledger.report({ dataset: 'credit' })
      expect(r.spent.epsilon, org).toBeGreaterThan(0)
      expect(r.spent.epsilon, org).toBeLessThanOrEqual(1 * 1.001)
      const kinds = (await fed.node(org).audit.read()).map((e) => e.kind)
      expect(kinds.indexOf('budget-committed'), org).toBeGreaterThan(-1)
      expect(kinds.indexOf('budget-committed')).toBeLessThan(kinds.lastIndexOf('vertical-released'))
    }
  })

  it('is declined by a node whose ε cap the job exceeds', async () => {
    const payroll = fed.node('payroll_provider')
    const before = payroll.policy
    payroll.policy = verticalTestPolicy({ epsilonCap: 0.5 })
    try {
      const failed = await fed.run((await fed.submit({ ...KMEANS_JOB, name: 'too-much-epsilon' })).id)
      expect(failed.status).toBe('failed')
      expect(failed.declined).toEqual([
        expect.objectContaining({ org: 'payroll_provider', code: 'COHORT_POLICY_EPSILON_CAP' })
      ])
    } finally {
      payroll.policy = before
    }
  })
})
