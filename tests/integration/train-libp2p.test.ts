/**
 * A short training job over real libp2p: three node hosts and a coordinator host on 127.0.0.1 TCP
 * (Noise, yamux, membership gater), each node running the real SecAgg and training participants on
 * createLibp2pTransport, the coordinator the real job runner. The separate-process version is the
 * daemon's (coordinator and node `start` register the same runners).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobRecord } from '../../coordinator/jobs/types.ts'
import { getNodeModel } from '../../node/jobs/model-store.ts'
import { createTrainFederation } from '../helpers/train-federation.ts'
import type { TrainFederation } from '../helpers/train-federation.ts'

let fed: TrainFederation
let job: JobRecord
let ms = 0

beforeAll(async () => {
  fed = await createTrainFederation({ libp2p: true, seed: 'libp2p' })
  const t0 = performance.now()
  job = await fed.run(
    (
      await fed.submit({
        name: 'credit risk over libp2p',
        model: { kind: 'logreg', rounds: 3 },
        data: { dataset: 'credit_data' }
      })
    ).id
  )
  ms = performance.now() - t0
  const rounds = await fed.jobs.listRounds(job.id)
  console.log(
    `libp2p: 3 rounds in ${Math.round(ms)} ms, AUC ${job.metrics?.auc?.toFixed(4)}, bytes/round ${rounds.map((r) => r.bytes).join(', ')}`
  )
}, 60_000)

afterAll(async () => {
  await fed?.close()
})

describe('a training job over libp2p TCP (3 nodes + coordinator on 127.0.0.1)', () => {
  it('completes with every node in every round and publishes the model', async () => {
    expect(job.status).toBe('completed')
    const rounds = await fed.jobs.listRounds(job.id)
    expect(rounds.map((r) => r.survivors.length)).toEqual([3, 3, 3])
    expect(job.metrics!.auc!).toBeGreaterThan(0.78)
    expect(job.metrics!.n).toBe(891)
    for (const n of fed.nodes)
      expect((await getNodeModel(n.store, job.id)).sha256).toBe(fed.jobs.getModel(job.id)!.sha256)
  })
})
