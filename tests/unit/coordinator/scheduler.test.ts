import { beforeEach, describe, expect, it } from 'vitest'
import type { FederationManifest } from '../../../configs/federation.ts'
import type { RunJob } from '../../../coordinator/jobs/types.ts'
import { createJobScheduler } from '../../../coordinator/scheduler/job-scheduler.ts'
import type { JobEvent, JobScheduler } from '../../../coordinator/scheduler/job-scheduler.ts'
import { createJobStore } from '../../../coordinator/store/job-store.ts'
import type { CoordinatorJobStore } from '../../../coordinator/store/job-store.ts'
import type { Transport } from '../../../protocols/transport.ts'
import type { AuditLog } from '../../../platform/audit/audit-log.ts'
import { fakeRunJob } from '../../helpers/fake-run-job.ts'
import { memoryNode } from '../../helpers/memory-node.ts'
import { jobConfig, manifestWith } from './fixtures.ts'

const transport = { self: 'coord' } as unknown as Transport

describe('job scheduler', () => {
  let store: CoordinatorJobStore
  let audit: AuditLog
  let manifest: FederationManifest
  const make = (over: {
    runJob?: RunJob
    loadRunJob?: () => Promise<RunJob | undefined>
    maxConcurrent?: number
  }) => createJobScheduler({ store, transport, manifest: () => manifest, audit, abortWaitMs: 2_000, ...over })
  const kinds = async () => (await audit.read()).map((e) => e.kind)

  beforeEach(async () => {
    const m = await memoryNode()
    store = createJobStore(m.store)
    audit = m.audit
    manifest = await manifestWith(3)
  })

  it('runs a submitted job to completion; subscribers see each round, then the final status', async () => {
    const jobs = make({ runJob: fakeRunJob({ roundMs: 5 }) })
    await jobs.start()
    const job = await jobs.submit(jobConfig())
    expect(job.status).toBe('pending')
    const events: JobEvent[] = []
    jobs.subscribe(job.id, (e) => events.push(e))
    const done = await jobs.settled(job.id)
    expect(done).toMatchObject({ status: 'completed', round: 3 })
    expect(done.participants.map((p) => p.org)).toEqual(['bank-a', 'bank-b', 'bank-c'])
    expect(
      events.filter((e) => e.type === 'round').map((e) => (e.type === 'round' ? e.round.round : 0))
    ).toEqual([1, 2, 3])
    expect(events.at(-1)).toMatchObject({ type: 'status', job: { status: 'completed' } })
    expect((await store.listRounds(job.id)).length).toBe(3)
    expect((await store.getModel(job.id))?.version).toBe(1)
    expect(await kinds()).toEqual(['job-submitted', 'job-started', 'job-finished'])
    expect((await audit.read()).at(-1)?.body).toMatchObject({ jobId: job.id, status: 'completed', round: 3 })
  })

  it('refuses a job that does not fit the federation, with a sentence naming the problem', async () => {
    const jobs = make({ runJob: fakeRunJob() })
    await expect(jobs.submit(jobConfig({ participants: ['bank-a', 'bank-z'] }))).rejects.toMatchObject({
      code: 'COHORT_JOB_INVALID',
      message: expect.stringContaining('bank-z')
    })
    await expect(jobs.submit(jobConfig({ minParticipants: 4 }))).rejects.toMatchObject({
      code: 'COHORT_JOB_INVALID',
      message: expect.stringContaining('minParticipants is 4')
    })
    await expect(
      jobs.submit(jobConfig({ participants: ['bank-a', 'bank-b'], nodes: { 'bank-c': { dataset: 'x' } } }))
    ).rejects.toMatchObject({ code: 'COHORT_JOB_INVALID' })
    await expect(jobs.submit(jobConfig({ secureAggregation: 'he' }))).rejects.toMatchObject({
      code: 'COHORT_JOB_INVALID'
    })
    expect(await store.listJobs()).toEqual([])
  })

  it('runs one job at a time by default; the second waits as pending', async () => {
    const jobs = make({ runJob: fakeRunJob({ roundMs: 30 }) })
    await jobs.start()
    const a = await jobs.submit(jobConfig())
    const b = await jobs.submit(jobConfig())
    await new Promise((r) => setTimeout(r, 10))
    expect(jobs.running()).toEqual([a.id])
    expect((await store.getJob(b.id))?.status).toBe('pending')
    await jobs.settled(b.id)
    expect((await store.getJob(a.id))?.status).toBe('completed')
  })

  it('records a runner failure as failed with the error code', async () => {
    const jobs = make({ runJob: fakeRunJob({ roundMs: 1, failAtRound: 2 }) })
    await jobs.start()
    const job = await jobs.submit(jobConfig())
    const done = await jobs.settled(job.id)
    expect(done).toMatchObject({ status: 'failed', round: 1, error: { code: 'COHORT_FAKE_FAILURE' } })
  })

  it('cancels a running job; a finished job cannot be cancelled', async () => {
    const jobs = make({ runJob: fakeRunJob({ roundMs: 5, stallAtRound: 2 }) })
    await jobs.start()
    const job = await jobs.submit(jobConfig())
    await new Promise<void>((resolve) => {
      const off = jobs.subscribe(job.id, (e) => {
        if (e.type === 'round') {
          off()
          resolve()
        }
      })
    })
    const cancelled = await jobs.cancel(job.id)
    expect(cancelled).toMatchObject({ status: 'cancelled', round: 1 })
    expect(jobs.running()).toEqual([])
    await expect(jobs.cancel(job.id)).rejects.toMatchObject({ code: 'COHORT_JOB_FINISHED' })
    await expect(jobs.cancel('job-nope')).rejects.toMatchObject({ code: 'COHORT_JOB_NOT_FOUND' })
    expect(await kinds()).toContain('job-cancel-requested')
  })

  it('a runner that ignores the cancel is cut off: its later writes are refused', async () => {
    const jobs = createJobScheduler({
      store,
      transport,
      manifest: () => manifest,
      audit,
      abortWaitMs: 20,
      runJob: fakeRunJob({ roundMs: 60, ignoreAbort: true })
    })
    await jobs.start()
    const job = await jobs.submit(jobConfig())
    await new Promise((r) => setTimeout(r, 20))
    expect((await jobs.cancel(job.id)).status).toBe('cancelled')
    await new Promise((r) => setTimeout(r, 250))
    expect(await store.getJob(job.id)).toMatchObject({ status: 'cancelled', round: 0 })
    expect(await store.listRounds(job.id)).toEqual([])
  })

  it('without a runner, jobs wait as pending and can be cancelled', async () => {
    const jobs = make({ loadRunJob: async () => undefined })
    await jobs.start()
    const job = await jobs.submit(jobConfig())
    await new Promise((r) => setTimeout(r, 10))
    expect(jobs.runner()).toBe('missing')
    expect(jobs.queued()).toEqual([job.id])
    expect((await store.getJob(job.id))?.status).toBe('pending')
    expect((await jobs.cancel(job.id)).status).toBe('cancelled')
    expect(jobs.queued()).toEqual([])
  })

  it('a stop pauses a running job; the next start resumes it after its last completed round', async () => {
    const first = make({ runJob: fakeRunJob({ roundMs: 5, stallAtRound: 3, markCancelledOnAbort: true }) })
    await first.start()
    const job = await first.submit(jobConfig({ model: { kind: 'logreg', rounds: 5 } }))
    await new Promise<void>((resolve) => {
      const off = first.subscribe(job.id, (e) => {
        if (e.type === 'round' && e.round.round === 2) {
          off()
          resolve()
        }
      })
    })
    await first.stop()
    // Even though this runner called the job cancelled on abort, a stop is not a cancel.
    expect(await store.getJob(job.id)).toMatchObject({ status: 'running', round: 2 })

    const calls: Array<{ jobId: string; from: number }> = []
    const second = make({ runJob: fakeRunJob({ roundMs: 5, calls }) })
    expect(await second.start()).toEqual({ resumed: [job.id], queued: [] })
    const done = await second.settled(job.id)
    expect(done).toMatchObject({ status: 'completed', round: 5 })
    expect(calls).toEqual([{ jobId: job.id, from: 3 }])
    expect((await store.listRounds(job.id)).map((r) => r.round)).toEqual([1, 2, 3, 4, 5])
    expect(await kinds()).toEqual(['job-submitted', 'job-started', 'job-resumed', 'job-finished'])
  })

  it('settled rejects for an unknown job and honours its signal', async () => {
    const jobs: JobScheduler = make({ loadRunJob: async () => undefined })
    await expect(jobs.settled('job-x')).rejects.toMatchObject({ code: 'COHORT_JOB_NOT_FOUND' })
    const job = await jobs.submit(jobConfig())
    const ac = new AbortController()
    const p = jobs.settled(job.id, { signal: ac.signal })
    ac.abort(new Error('gave up'))
    await expect(p).rejects.toThrow('gave up')
  })
})
