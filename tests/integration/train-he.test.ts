/**
 * The `he` backend of the job runner over the loopback transport: three nodes and a key-holder; every
 * node encrypts its quantised summand under the key the job pins (BFV, protocols/he-agg), the
 * coordinator adds ciphertexts, the key-holder decrypts only the sums. Relies on the coordinator and
 * the key-holder not colluding (protocols/he-agg/README.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobRecord } from '../../coordinator/jobs/types.ts'
import { loadSharedDataset } from '../../simulations/baselines/load-dataset.ts'
import { createTrainFederation } from '../helpers/train-federation.ts'
import type { TrainFederation } from '../helpers/train-federation.ts'

let fed: TrainFederation
let job: JobRecord
let pin = ''

beforeAll(async () => {
  fed = await createTrainFederation({ he: true, seed: 'he' })
  pin = fed.keyholder!.keyring.current().announcement.keyFingerprint
  const t0 = performance.now()
  job = await fed.run(
    (
      await fed.submit({
        name: 'credit risk, HE',
        model: { kind: 'logreg', rounds: 3 },
        data: { dataset: 'credit_data' },
        secureAggregation: 'he',
        he: { keyFingerprint: pin }
      })
    ).id
  )
  const rounds = await fed.jobs.listRounds(job.id)
  console.log(
    `he: 3 rounds in ${Math.round(performance.now() - t0)} ms, AUC ${job.metrics?.auc?.toFixed(4)}, round timings ${JSON.stringify(rounds.at(-1)?.timings)}`
  )
}, 120_000)

afterAll(async () => {
  await fed?.close()
})

describe('secureAggregation: he', () => {
  it('trains with sums only the key-holder decrypts', async () => {
    expect(job.status).toBe('completed')
    const rounds = await fed.jobs.listRounds(job.id)
    expect(rounds.map((r) => r.survivors.length)).toEqual([3, 3, 3])
    expect(job.metrics!.auc!).toBeGreaterThan(0.78)
    expect(job.metrics!.n).toBe(891)
    // Statistics, then a fit and an evaluation per round: 7 sums, each decrypted once.
    expect(fed.keyholder!.handle.decryptions()).toBe(7)
    for (const n of fed.nodes) {
      const kinds = (await n.audit.read()).map((e) => e.kind)
      expect(kinds.filter((k) => k === 'train-fit-released')).toHaveLength(3)
      expect(kinds.some((k) => k.startsWith('secagg-'))).toBe(false)
      expect(kinds.some((k) => k.startsWith('he-agg'))).toBe(true)
    }
  })

  it('federated statistics over HE match the spec where no value is missing (integer sums are exact)', async () => {
    const ref = (await loadSharedDataset('credit_data')).schema.reference!.features!
    const f = job.featureStats!
    for (const name of ['Age', 'Seniority', 'Amount', 'Records=yes']) {
      const i = f.names.indexOf(name)
      expect(f.mean[i]!, name).toBeCloseTo(ref[i]!.mean, 6)
      expect(f.std[i]! / ref[i]!.std, name).toBeCloseTo(1, 6)
    }
    expect(f.rows).toBe(3563)
  })

  it('a job pinning another key fails before anything is offered', async () => {
    const other = await fed.submit({
      name: 'wrong pin',
      model: { kind: 'logreg', rounds: 1 },
      data: { dataset: 'credit_data' },
      secureAggregation: 'he',
      he: { keyFingerprint: 'ab'.repeat(32) }
    })
    const done = await fed.run(other.id)
    expect(done.status).toBe('failed')
    expect(done.error?.code).toBe('COHORT_HE_KEY_MISMATCH')
    expect(done.participants).toEqual([])
  })
})
