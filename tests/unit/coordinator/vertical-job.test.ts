/**
 * The pure pieces of a vertical job: the job file section, the per-node summary, the wire codec, the
 * node's policy check (first broken rule wins), the ledger stand-in of an (ε, δ) release, and a
 * party's view of the shared schema.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { JobConfig } from '../../../configs/job.ts'
import { createBudget } from '../../../crypto/dp/budget.ts'
import { composeAll } from '../../../crypto/dp/budget.ts'
import { verticalParties, verticalSummaryFor } from '../../../coordinator/jobs/vertical-plan.ts'
import type { JobRecord } from '../../../coordinator/jobs/types.ts'
import { loadDatasetSpec } from '../../../node/data/spec.ts'
import { featureLayout } from '../../../node/data/schema.ts'
import { effectivePolicy } from '../../../node/jobs/dataset-policy.ts'
import { NodePolicy } from '../../../configs/node-config.ts'
import { epsilonEvent } from '../../../node/vertical/charge.ts'
import { checkVerticalJob } from '../../../node/vertical/job-check.ts'
import {
  decodeVerticalReply,
  decodeVerticalRequest,
  encodeVertical,
  VERTICAL_WIRE_VERSION
} from '../../../protocols/vertical/job-wire.ts'
import { DATASETS_DIR } from '../../../simulations/baselines/load-dataset.ts'
import { partySchema } from '../../../simulations/vertical/party-schema.ts'

const job = (over: Record<string, unknown> = {}): JobRecord => ({
  id: 'job-v-1',
  config: JobConfig.parse({
    name: 'v',
    model: { kind: 'logreg', rounds: 4, batchSize: 512 },
    data: { dataset: 'credit' },
    nodes: { retailer: { dataset: 'shop', features: ['Age'] } },
    vertical: { label: 'lender' },
    ...over
  }),
  status: 'pending',
  createdAt: '',
  updatedAt: '',
  round: 0,
  participants: [],
  declined: []
})
const members = [
  { org: 'retailer', peerId: 'p-r' },
  { org: 'lender', peerId: 'p-l' }
]
const full = loadDatasetSpec(join(DATASETS_DIR, 'credit_data', 'spec.json'))

describe('vertical job plan', () => {
  it('puts the label party first and resolves each node’s data and the options', () => {
    const j = job()
    const parties = verticalParties(j, members)
    expect(parties.map((p) => [p.org, p.role])).toEqual([
      ['lender', 'label'],
      ['retailer', 'feature']
    ])
    const s = verticalSummaryFor(j, parties, parties[1]!)
    expect(s).toMatchObject({
      role: 'feature',
      dataset: 'shop',
      features: ['Age'],
      model: 'logreg',
      dp: null
    })
    expect(s.lr).toEqual({ epochs: 4, batchSize: 512, learningRate: 0.1, l2: 0, optimizer: 'adam' })
    expect(() => verticalParties(job({ vertical: { label: 'bank' } }), members)).toThrow(/bank/)
  })

  it('refuses a psi reveal other than intersection in the job file', () => {
    expect(() => job({ vertical: { label: 'lender', psi: { reveal: 'size' } } })).toThrow()
  })
})

describe('vertical job wire', () => {
  it('round-trips a request and refuses malformed frames and replies for another job', () => {
    const req = { v: VERTICAL_WIRE_VERSION, jobId: 'job-v-1', kind: 'status' } as const
    expect(decodeVerticalRequest(encodeVertical(req))).toEqual(req)
    expect(() => decodeVerticalRequest(Uint8Array.of(0xc1))).toThrow(
      expect.objectContaining({ code: 'COHORT_MALFORMED_MESSAGE' })
    )
    expect(() => decodeVerticalRequest(encodeVertical({ ...req, extra: 1 } as never))).toThrow(/schema/)
    const reply = encodeVertical({ v: VERTICAL_WIRE_VERSION, jobId: 'job-v-2', kind: 'started' })
    expect(() => decodeVerticalReply(reply, ['started'], 'job-v-1')).toThrow(/job-v-2/)
    expect(() => decodeVerticalReply(reply, ['status'], 'job-v-2')).toThrow(/expected a status/)
  })
})

describe('a node’s check of a vertical job', () => {
  const schema = partySchema(full, ['Age', 'Marital', 'Home', 'Expenses'], false)
  const parties = verticalParties(job(), members)
  const summary = verticalSummaryFor(job(), parties, parties[1]!)
  const policy = (over: Record<string, unknown> = {}) =>
    effectivePolicy(
      NodePolicy.parse({ federations: ['f'], minNoiseMultiplier: 0, minParticipants: 2, ...over }),
      'shop'
    )
  const check = (o: Partial<Parameters<typeof checkVerticalJob>[0]> = {}) =>
    checkVerticalJob({
      summary,
      policy: policy(),
      federation: 'f',
      coordinator: { peerId: 'c' },
      schema,
      budget: null,
      ...o
    })

  it('accepts, naming the encoded features, and refuses with the first broken rule', () => {
    expect(check()).toEqual({ ok: true, features: ['Age'], idColumn: 'uid', epsilon: null })
    expect(check({ federation: 'g' })).toMatchObject({ ok: false, code: 'COHORT_POLICY_FEDERATION' })
    expect(check({ schema: undefined })).toMatchObject({ ok: false, code: 'COHORT_POLICY_UNKNOWN_DATASET' })
    expect(check({ policy: policy({ minParticipants: 3 }) })).toMatchObject({
      code: 'COHORT_POLICY_MIN_PARTICIPANTS'
    })
    expect(check({ summary: { ...summary, features: ['Income'] } })).toMatchObject({
      code: 'COHORT_POLICY_FEATURES'
    })
    const refused = check({ policy: policy({ datasets: { shop: { allowedFeatures: ['Home'] } } }) })
    expect(refused).toMatchObject({ ok: false, code: 'COHORT_POLICY_FEATURES' })
    expect(!refused.ok && refused.reason).toMatch(/does not allow feature Age/)
    expect(check({ policy: policy({ minNoiseMultiplier: 0.5 }) })).toMatchObject({
      code: 'COHORT_POLICY_NOISE_FLOOR'
    })
    expect(check({ summary: { ...summary, role: 'label' } })).toMatchObject({ code: 'COHORT_POLICY_MODEL' })
  })

  it('dry-runs the job’s ε on the ledger', () => {
    const dp = { epsilon: 2, delta: 1e-5, clipNorm: 1 }
    const budget = createBudget({ epsilon: 1, delta: 1e-5 })
    expect(check({ summary: { ...summary, dp }, budget })).toMatchObject({
      code: 'COHORT_POLICY_EPSILON_CAP'
    })
    expect(check({ summary: { ...summary, dp: { ...dp, epsilon: 0.5 } }, budget })).toMatchObject({
      ok: true,
      epsilon: 0.5
    })
  })
})

describe('ledger stand-in of an (ε, δ) release', () => {
  it.each([0.05, 0.5, 1, 3])('is booked at ε = %f (never less) at the cap’s δ', (eps) => {
    const got = composeAll([epsilonEvent(eps, 1e-5)]).epsilon(1e-5)
    expect(got).toBeGreaterThanOrEqual(eps)
    expect(got).toBeLessThan(eps * 1.001)
  })
})

describe('a vertical party’s schema', () => {
  it('stores only its columns (and the label only at the label party)', () => {
    const lender = partySchema(full, ['Time', 'Amount'], true)
    expect(lender.columns.map((c) => c.name).sort()).toEqual(['Amount', 'Status', 'Time', 'row_index', 'uid'])
    expect(lender.target?.column).toBe('Status')
    const shop = partySchema(full, ['Home'], false)
    expect(shop.target).toBeUndefined()
    expect(featureLayout(shop).every((f) => f.column === 'Home')).toBe(true)
    expect(shop.ignored).toContain('Income')
  })
})
