import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { createJobStore } from '../../../coordinator/store/job-store.ts'
import type { CoordinatorJobStore } from '../../../coordinator/store/job-store.ts'
import { openNodeStore } from '../../../platform/storage/db.ts'
import type { NodeStore } from '../../../platform/storage/db.ts'
import { memoryNode } from '../../helpers/memory-node.ts'
import { jobRecord, roundRecord } from './fixtures.ts'

const model = (jobId: string, version: number, createdAt: string) => ({
  jobId,
  version,
  kind: 'logreg' as const,
  descriptor: { kind: 'logreg', features: 2 },
  params: Buffer.from(new Float64Array([1, 2, 3]).buffer).toString('base64'),
  sha256: '00'.repeat(32),
  metrics: { auc: 0.8 },
  createdAt
})

describe('job store', () => {
  let store: NodeStore
  let jobs: CoordinatorJobStore
  beforeEach(async () => {
    store = (await memoryNode()).store
    jobs = createJobStore(store)
  })

  it('stores and lists jobs newest first, filtered by status', async () => {
    await jobs.putJob(jobRecord('job-a', { createdAt: '2025-01-01T00:00:00.000Z', status: 'completed' }))
    await jobs.putJob(jobRecord('job-b', { createdAt: '2025-01-03T00:00:00.000Z', status: 'running' }))
    await jobs.putJob(jobRecord('job-c', { createdAt: '2025-01-02T00:00:00.000Z', status: 'pending' }))
    expect((await jobs.listJobs()).map((j) => j.id)).toEqual(['job-b', 'job-c', 'job-a'])
    expect((await jobs.listJobs({ status: ['pending', 'completed'] })).map((j) => j.id)).toEqual([
      'job-c',
      'job-a'
    ])
    expect((await jobs.getJob('job-b'))?.status).toBe('running')
    expect(await jobs.getJob('nope')).toBeUndefined()
    expect(await jobs.getJob('bad/id!')).toBeUndefined()
    await expect(jobs.putJob(jobRecord('bad!id'))).rejects.toMatchObject({ code: 'COHORT_JOB_STORE' })
  })

  it('completeRound writes the round and the job together, in round order past 9', async () => {
    let job = jobRecord('job-a')
    for (let r = 1; r <= 12; r++) {
      job = { ...job, round: r, global: `g${r}` }
      await jobs.completeRound(roundRecord('job-a', r), job)
    }
    // A prefix neighbour must not leak into job-a's rounds.
    await jobs.completeRound(roundRecord('job-a2', 1), jobRecord('job-a2', { round: 1 }))
    const rounds = await jobs.listRounds('job-a')
    expect(rounds.map((r) => r.round)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
    expect(await jobs.getJob('job-a')).toMatchObject({ round: 12, global: 'g12' })
    expect((await jobs.getRound('job-a', 7))?.metrics.auc).toBeCloseTo(0.57)
    expect(await jobs.getRound('job-a', 13)).toBeUndefined()
  })

  it('refuses to record a round twice, and leaves the job as it was', async () => {
    const job = jobRecord('job-a', { round: 1, global: 'first' })
    await jobs.completeRound(roundRecord('job-a', 1), job)
    await expect(
      jobs.completeRound({ ...roundRecord('job-a', 1), bytes: 999 }, { ...job, global: 'second' })
    ).rejects.toMatchObject({ code: 'COHORT_ROUND_EXISTS' })
    expect((await jobs.getJob('job-a'))?.global).toBe('first')
    expect((await jobs.listRounds('job-a')).map((r) => r.bytes)).toEqual([10])
  })

  it('refuses a round that does not match the job', async () => {
    await expect(
      jobs.completeRound(roundRecord('job-a', 2), jobRecord('job-a', { round: 1 }))
    ).rejects.toMatchObject({
      code: 'COHORT_JOB_STORE'
    })
    await expect(
      jobs.completeRound(roundRecord('job-b', 1), jobRecord('job-a', { round: 1 }))
    ).rejects.toMatchObject({
      code: 'COHORT_JOB_STORE'
    })
    await expect(
      jobs.completeRound(roundRecord('job-a', 0), jobRecord('job-a', { round: 0 }))
    ).rejects.toMatchObject({
      code: 'COHORT_JOB_STORE'
    })
    expect(await jobs.listRounds('job-a')).toEqual([])
  })

  it('is atomic: when the batch fails, neither the round nor the job is written', async () => {
    const job = jobRecord('job-a', { round: 1, global: 'ok' })
    await jobs.completeRound(roundRecord('job-a', 1), job)
    // A value that cannot be encoded (BigInt in JSON) fails the whole batch.
    const bad = { ...job, round: 2, metrics: { auc: 10n as unknown as number } }
    await expect(jobs.completeRound(roundRecord('job-a', 2), bad)).rejects.toThrow()
    expect((await jobs.listRounds('job-a')).map((r) => r.round)).toEqual([1])
    expect(await jobs.getJob('job-a')).toMatchObject({ round: 1, global: 'ok' })
    // And the round is still free to be completed properly.
    await jobs.completeRound(roundRecord('job-a', 2), { ...job, round: 2 })
    expect((await jobs.listRounds('job-a')).map((r) => r.round)).toEqual([1, 2])
  })

  it('keeps model versions; summaries carry no parameters', async () => {
    await jobs.putModel(model('job-a', 1, '2025-01-01T00:00:00.000Z'))
    await jobs.putModel(model('job-a', 2, '2025-01-02T00:00:00.000Z'))
    await jobs.putModel(model('job-b', 1, '2025-01-03T00:00:00.000Z'))
    expect((await jobs.getModel('job-a'))?.version).toBe(2)
    expect((await jobs.getModel('job-a', 1))?.version).toBe(1)
    expect(await jobs.getModel('job-a', 3)).toBeUndefined()
    expect(await jobs.getModel('job-c')).toBeUndefined()
    const all = await jobs.listModels()
    expect(all.map((m) => `${m.jobId}@${m.version}`)).toEqual(['job-b@1', 'job-a@2', 'job-a@1'])
    expect(all[0]).not.toHaveProperty('params')
    expect(all[0]!.paramCount).toBe(3)
    expect((await jobs.listModels({ jobId: 'job-a' })).length).toBe(2)
  })
})

describe('job store on LevelDB', () => {
  const root = mkdtempSync(join(tmpdir(), 'cohort-jobstore-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('a reopened store has the last completed round, and nothing of a round that was never completed', async () => {
    let store = await openNodeStore(root)
    let jobs = createJobStore(store)
    let job = jobRecord('job-a')
    for (let r = 1; r <= 2; r++) {
      job = { ...job, round: r, global: `g${r}` }
      await jobs.completeRound(roundRecord('job-a', r), job)
    }
    // Round 3 fails to commit (as if the process died inside it): nothing of it may remain.
    await expect(
      jobs.completeRound(roundRecord('job-a', 3), {
        ...job,
        round: 3,
        metrics: { x: 1n as unknown as number }
      })
    ).rejects.toThrow()
    await store.close()

    store = await openNodeStore(root)
    jobs = createJobStore(store)
    try {
      expect(await jobs.getJob('job-a')).toMatchObject({ round: 2, global: 'g2', status: 'running' })
      expect((await jobs.listRounds('job-a')).map((r) => r.round)).toEqual([1, 2])
    } finally {
      await store.close()
    }
  })
})
