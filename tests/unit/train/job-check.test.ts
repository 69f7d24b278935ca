import { describe, expect, it } from 'vitest'
import { NodePolicy } from '../../../configs/node-config.ts'
import { createBudget, reserve, commit } from '../../../crypto/dp/budget.ts'
import { composedEvent, selfComposedEvent } from '../../../crypto/dp/events.ts'
import type { DatasetSchema } from '../../../node/data/schema.ts'
import { budgetCapFor, effectivePolicy } from '../../../node/jobs/dataset-policy.ts'
import { checkJob } from '../../../node/jobs/job-check.ts'
import type { JobCheckInput } from '../../../node/jobs/job-check.ts'
import type { JobSummary } from '../../../protocols/training/job-summary.ts'

const schema: DatasetSchema = {
  version: 1,
  format: 'minimal',
  columns: [
    { name: 'uid', kind: 'id', role: 'id' },
    { name: 'Age', kind: 'number', role: 'feature' },
    { name: 'Income', kind: 'number', role: 'feature' },
    { name: 'Home', kind: 'category', role: 'feature', levels: ['own', 'rent'], encoding: 'onehot' },
    { name: 'Status', kind: 'category', role: 'target', levels: ['bad', 'good'], encoding: 'onehot' }
  ],
  ignored: [],
  id: 'uid',
  target: { column: 'Status', positive: 'bad' }
}

const plain: JobSummary = {
  name: 'risk',
  model: { kind: 'logreg', rounds: 10 },
  dataset: 'credit',
  secureAggregation: 'secagg+',
  ringBits: 62,
  dp: null,
  minParticipants: 3,
  statistics: { ranges: {}, noiseMultiplier: 10 },
  evaluation: { bins: 1000 },
  offered: 3
}
const dp: JobSummary = {
  ...plain,
  dp: { mode: 'record', epsilon: 1, delta: 1e-5, clipNorm: 1 },
  statistics: { ranges: { Age: [18, 90], Income: [0, 1000] }, noiseMultiplier: 10 }
}

function policy(over: Record<string, unknown> = {}) {
  return NodePolicy.parse({
    federations: ['fed'],
    epsilonCap: 1,
    minNoiseMultiplier: 0,
    minParticipants: 3,
    ...over
  })
}

function input(
  summary: JobSummary,
  over: Partial<JobCheckInput> & { policy?: ReturnType<typeof effectivePolicy> } = {}
): JobCheckInput {
  const cap = { epsilon: over.policy?.epsilonCap ?? 1, delta: 1e-5 }
  return {
    summary,
    policy: effectivePolicy(policy(), 'credit'),
    federation: 'fed',
    coordinator: { peerId: '12D3KooWcoord', org: 'hub' },
    schema,
    trainRows: 2000,
    budget: createBudget(cap),
    ...over
  }
}

const declined = (i: JobCheckInput) => {
  const r = checkJob(i)
  if (r.ok) throw new Error('expected a decline')
  return r
}

describe('a node’s job check (policy, features, noise, budget)', () => {
  it('accepts a job inside its policy and reports the features, their columns and the plan', () => {
    const r = checkJob(input(plain))
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.features).toEqual(['Age', 'Income', 'Home=own', 'Home=rent'])
    expect(r.columns.map((c) => c.name)).toEqual(['Age', 'Income', 'Home'])
    expect(r.plan.noiseMultiplier).toBeNull()
    expect(r.jobEpsilon).toBeNull()
  })

  it.each([
    [
      'a coordinator the dataset does not allow',
      { coordinators: ['other-hub'] },
      'COHORT_POLICY_COORDINATOR'
    ],
    [
      'a federation the dataset does not allow',
      { federations: ['someone-else'] },
      'COHORT_POLICY_FEDERATION'
    ],
    ['fewer parties than the dataset requires', { minParticipants: 5 }, 'COHORT_POLICY_MIN_PARTICIPANTS'],
    ['a feature outside the allow-list', { allowedFeatures: ['Age', 'Home'] }, 'COHORT_POLICY_FEATURES'],
    ['no noise under a noise floor', { minNoiseMultiplier: 0.5 }, 'COHORT_POLICY_NOISE_FLOOR']
  ])('declines %s, naming it', (_l, datasetPolicy, code) => {
    const p = effectivePolicy(policy({ datasets: { credit: datasetPolicy } }), 'credit')
    const r = declined(input(plain, { policy: p }))
    expect(r.code).toBe(code)
    expect(r.reason).toMatch(/\w/)
  })

  it('a column name in the allow-list allows its one-hot features', () => {
    const p = effectivePolicy(
      policy({ datasets: { credit: { allowedFeatures: ['Age', 'Home'] } } }),
      'credit'
    )
    expect(checkJob(input({ ...plain, features: ['Home=own', 'Age'] }, { policy: p })).ok).toBe(true)
    expect(declined(input({ ...plain, features: ['Income'] }, { policy: p })).reason).toMatch(/Income/)
  })

  it('declines unknown datasets, unknown features, missing targets and unsupported modes', () => {
    expect(declined(input(plain, { schema: undefined })).code).toBe('COHORT_POLICY_UNKNOWN_DATASET')
    expect(declined(input({ ...plain, features: ['Age', 'Height'] })).reason).toMatch(/no feature Height/)
    const noTarget = { ...schema, target: undefined, columns: schema.columns.slice(0, 4) }
    expect(declined(input(plain, { schema: noTarget })).code).toBe('COHORT_POLICY_MODEL')
    expect(
      checkJob(input({ ...plain, model: { kind: 'kmeans', rounds: 5, k: 3 } }, { schema: noTarget })).ok
    ).toBe(true)
    expect(declined(input({ ...dp, model: { kind: 'kmeans', rounds: 5, k: 3 } })).code).toBe(
      'COHORT_POLICY_MODEL'
    )
    expect(declined(input({ ...plain, secureAggregation: 'he' })).code).toBe('COHORT_UNSUPPORTED')
    expect(
      checkJob(input({ ...plain, secureAggregation: 'he', he: { keyFingerprint: 'ab'.repeat(32) } })).ok
    ).toBe(true)
    expect(declined(input({ ...plain, secureAggregation: 'none' })).code).toBe('COHORT_POLICY_PLAINTEXT')
    const open = effectivePolicy(policy({ allowPlaintext: true }), 'credit')
    expect(checkJob(input({ ...plain, secureAggregation: 'none' }, { policy: open })).ok).toBe(true)
    expect(declined(input({ ...dp, secureAggregation: 'none' }, { policy: open })).code).toBe(
      'COHORT_UNSUPPORTED'
    )
  })

  it('declines a job whose ε exceeds the cap, and one that no longer fits what is spent', () => {
    const half = effectivePolicy(policy({ epsilonCap: 0.5 }), 'credit')
    const r = declined(input(dp, { policy: half, budget: createBudget({ epsilon: 0.5, delta: 1e-5 }) }))
    expect(r.code).toBe('COHORT_POLICY_EPSILON_CAP')
    expect(r.reason).toMatch(/needs ε = 1\.00 .*cap is ε = 0\.5/)

    const ok = checkJob(input(dp))
    if (!ok.ok) throw new Error(ok.reason)
    expect(ok.jobEpsilon!).toBeLessThanOrEqual(1)
    expect(ok.jobEpsilon!).toBeGreaterThan(0.98)
    // Half of a similar job already spent: the whole job no longer fits.
    let spent = reserve(
      createBudget({ epsilon: 1, delta: 1e-5 }),
      'earlier',
      selfComposedEvent(ok.plan.roundEvent!, 5)
    )
    spent = commit(spent, 'earlier')
    expect(declined(input(dp, { budget: spent })).code).toBe('COHORT_POLICY_EPSILON_CAP')
    expect(declined(input(dp, { budget: { ...spent, exhausted: true } })).code).toBe(
      'COHORT_BUDGET_EXHAUSTED'
    )
    // Without a budget (a request of a job under way) only the ledger's own reservation decides.
    expect(checkJob(input(dp, { policy: half, budget: null })).ok).toBe(true)
    expect(composedEvent([ok.plan.statsEvent!, selfComposedEvent(ok.plan.roundEvent!, 10)])).toEqual(
      ok.jobEvent
    )
  })

  it('applies a noise floor: an explicit multiplier below it declines, a target ε uses the floor', () => {
    const floor = effectivePolicy(policy({ minNoiseMultiplier: 3 }), 'credit')
    const explicit = { ...dp, dp: { mode: 'record' as const, noiseMultiplier: 1, delta: 1e-5, clipNorm: 1 } }
    expect(declined(input(explicit, { policy: floor })).code).toBe('COHORT_POLICY_NOISE_FLOOR')
    const r = checkJob(input(dp, { policy: floor }))
    if (!r.ok) throw new Error(r.reason)
    expect(r.plan.noiseMultiplier).toBe(3)
    expect(r.jobEpsilon!).toBeLessThan(1)
    const noisyStats = { ...dp, statistics: { ...dp.statistics, noiseMultiplier: 2 } }
    expect(declined(input(noisyStats, { policy: floor })).code).toBe('COHORT_POLICY_NOISE_FLOOR')
  })

  it('needs a public range for every numeric column under DP', () => {
    const r = declined(input({ ...dp, statistics: { ranges: { Age: [18, 90] }, noiseMultiplier: 10 } }))
    expect(r.code).toBe('COHORT_TRAINING_CONFIG')
    expect(r.reason).toMatch(/Income/)
  })

  it('per-dataset values override the node-wide ones, and the ledger cap follows the live policy', () => {
    let p = policy({ epsilonCap: 3, datasets: { credit: { epsilonCap: 0.5, delta: 1e-6 } } })
    expect(effectivePolicy(p, 'credit')).toMatchObject({ epsilonCap: 0.5, delta: 1e-6, minParticipants: 3 })
    expect(effectivePolicy(p, 'other')).toMatchObject({ epsilonCap: 3, delta: 1e-5 })
    const capFor = budgetCapFor(() => p)
    expect(capFor({ dataset: 'credit' })).toEqual({ epsilon: 0.5, delta: 1e-6 })
    p = policy({ epsilonCap: 2 })
    expect(capFor({ dataset: 'credit' })).toEqual({ epsilon: 2, delta: 1e-5 })
  })
})
