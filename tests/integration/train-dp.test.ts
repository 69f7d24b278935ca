/**
 * Acceptance 1 (DP) over the loopback transport: record-level DP-SGD at ε = 1, δ = 1e-5 per node,
 * each node calibrating its own noise for its own sampling rate, with DP feature statistics; the
 * test AUC stays >= 0.80 and every node's ledger shows ε <= 1 (statistics + all rounds).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobRecord } from '../../coordinator/jobs/types.ts'
import { trainingScope } from '../../node/jobs/budget-state.ts'
import { CREDIT_RANGES, createTrainFederation } from '../helpers/train-federation.ts'
import type { TrainFederation } from '../helpers/train-federation.ts'

let fed: TrainFederation
let job: JobRecord

beforeAll(async () => {
  fed = await createTrainFederation({ seed: 'train-dp' })
  const submitted = await fed.submit({
    name: 'credit risk, DP',
    model: { kind: 'logreg', rounds: 20, learningRate: 1, batchSize: 128, localEpochs: 1 },
    data: { dataset: 'credit_data' },
    dp: { mode: 'record', epsilon: 1, delta: 1e-5, clipNorm: 1 },
    statistics: { ranges: CREDIT_RANGES },
    minParticipants: 3
  })
  const t0 = performance.now()
  job = await fed.run(submitted.id)
  console.log(`dp logreg: ${Math.round(performance.now() - t0)} ms, test AUC ${job.metrics?.auc?.toFixed(4)}`)
})

afterAll(async () => {
  await fed?.close()
})

describe('credit_data, record-level DP at ε = 1, δ = 1e-5 per node', () => {
  it('completes with test AUC >= 0.80', () => {
    expect(job.status).toBe('completed')
    expect(job.round).toBe(20)
    expect(job.metrics!.auc!).toBeGreaterThanOrEqual(0.8)
  })

  it('each node’s ledger shows ε <= 1 for the statistics and all 20 rounds', async () => {
    for (const n of fed.nodes) {
      const r = await n.ledger.report(trainingScope('credit_data'))
      console.log(
        `${n.org}: ε = ${r.spent.epsilon.toFixed(4)} at δ = ${r.spent.delta} over ${r.events} releases`
      )
      expect(r.spent.epsilon).toBeLessThanOrEqual(1)
      expect(r.spent.epsilon).toBeGreaterThan(0.95)
      expect(r.events).toBe(21)
      expect(r.reserved).toBe(0)
      expect(r.exhausted).toBe(false)
    }
  })

  it('noises the statistics: means stay within their ranges and near the exact ones', () => {
    const f = job.featureStats!
    const age = f.names.indexOf('Age')
    expect(f.mean[age]!).toBeGreaterThan(18)
    expect(Math.abs(f.mean[age]! - 37.08)).toBeLessThan(3)
    expect(Math.abs(f.rows! - 3563)).toBeLessThan(2000)
  })

  it('commits every reservation before the summand leaves the node', async () => {
    const kinds = (await fed.nodes[0]!.audit.read()).map((e) => e.kind)
    const release = kinds.indexOf('train-fit-released')
    const committed = kinds.lastIndexOf('budget-committed', release)
    const reserved = kinds.lastIndexOf('budget-reserved', release)
    expect(reserved).toBeGreaterThan(-1)
    expect(committed).toBeGreaterThan(reserved)
    expect(kinds.indexOf('secagg-masked-input', release)).toBeGreaterThan(release)
  })
})
