import type { FederationManifest } from '../../configs/federation.ts'
import type { JobConfig } from '../../configs/job.ts'
import { isCohortError } from '../../crypto/cohort-error.ts'
import type { Transport } from '../../protocols/transport.ts'
import { CoordinatorStoppingError, JobCancelledError, JobFinishedError, JobNotFoundError } from '../errors.ts'
import type {
  CoordinatorAudit,
  JobRecord,
  JobRunContext,
  JobStatus,
  RoundRecord,
  RunJob
} from '../jobs/types.ts'
import type { CoordinatorJobStore } from '../store/job-store.ts'
import { checkJobAgainstFederation, newJobRecord } from './new-job.ts'

/** Statuses a job never leaves. */
export const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled'])

/**
 * What subscribers of a job hear: every completed round, every write of the job record while it
 * runs, and its final status once the scheduler has recorded the job's end.
 */
export type JobEvent =
  | { type: 'round'; round: RoundRecord; job: JobRecord }
  | { type: 'status'; job: JobRecord }

/** Components and settings of {@link createJobScheduler}. */
export interface JobSchedulerInit {
  store: CoordinatorJobStore
  /** The job runner. Give this or `loadRunJob`. */
  runJob?: RunJob
  /**
   * Loads the runner when the first job starts; resolving `undefined` means no runner is installed,
   * and jobs wait as `pending`.
   */
  loadRunJob?: () => Promise<RunJob | undefined>
  transport: Transport
  manifest: () => FederationManifest
  audit: CoordinatorAudit
  /** @default no logging */
  log?: (line: string) => void
  /** Jobs that run at once. @default 1 */
  maxConcurrent?: number
  /** How long `stop` and `cancel` wait for a runner to honour its abort signal. @default 15000 */
  abortWaitMs?: number
}

/** Runs jobs in the background: a queue, cancellation, resume after restart, events for `follow`. */
export interface JobScheduler {
  /** The store as runners see it: writes emit events, and a cancelled job's writes are refused. */
  readonly store: CoordinatorJobStore
  /** Checks the job against the federation, stores it as `pending` and queues it. */
  submit(config: JobConfig, options?: { actor?: string }): Promise<JobRecord>
  /** Cancels a pending or running job (`COHORT_JOB_FINISHED` if it already ended). */
  cancel(id: string, options?: { actor?: string }): Promise<JobRecord>
  /** Queues every `running` job (to resume from its last completed round), then every `pending` one. */
  start(): Promise<{ resumed: string[]; queued: string[] }>
  /** Aborts running jobs with `COHORT_COORDINATOR_STOPPING` (they stay `running`) and waits for them. */
  stop(): Promise<void>
  running(): string[]
  queued(): string[]
  /** Whether a runner is installed (`unknown` before `start`). */
  runner(): 'installed' | 'missing' | 'unknown'
  /** Listens to one job's events; returns the unsubscribe function. */
  subscribe(jobId: string, listener: (event: JobEvent) => void): () => void
  /** Resolves with the job once it has a final status. */
  settled(jobId: string, options?: { signal?: AbortSignal }): Promise<JobRecord>
}

interface Active {
  controller: AbortController
  done: Promise<void>
}

const byCreated = (a: JobRecord, b: JobRecord) =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0

function errorOf(err: unknown): { code: string; message: string } {
  if (isCohortError(err)) return { code: err.code, message: err.message }
  return {
    code: 'COHORT_INTERNAL',
    message: `the job runner failed: ${(err as Error)?.message ?? String(err)}`
  }
}

/**
 * The coordinator's job scheduler. The daemon owns a job's status; the runner owns its rounds:
 * the scheduler marks a job `running` before calling the runner, and after the runner returns or
 * throws it records the final status (`completed`/`failed` from the runner, `cancelled` on a
 * cancel). On a stop the runner is aborted with a `CoordinatorStoppingError` reason and the job stays
 * `running`, so `start` resumes it from its last completed round. Every status change is
 * audit-logged (`job-submitted`, `job-started`, `job-resumed`, `job-finished`).
 *
 * @example
 * const jobs = createJobScheduler({ store, runJob, transport, manifest: () => m, audit: home.audit })
 * await jobs.start()
 * const job = await jobs.submit(config)
 * const done = await jobs.settled(job.id)
 */
export function createJobScheduler(init: JobSchedulerInit): JobScheduler {
  const base = init.store
  const log = init.log ?? (() => {})
  const maxConcurrent = init.maxConcurrent ?? 1
  const abortWaitMs = init.abortWaitMs ?? 15_000
  const listeners = new Map<string, Set<(e: JobEvent) => void>>()
  const active = new Map<string, Active>()
  const queue: string[] = []
  let stopping = false
  let runJob: RunJob | undefined = init.runJob
  let runnerState: 'installed' | 'missing' | 'unknown' = runJob !== undefined ? 'installed' : 'unknown'
  let loading: Promise<RunJob | undefined> | undefined

  function emit(jobId: string, event: JobEvent) {
    for (const l of listeners.get(jobId) ?? []) {
      try {
        l(event)
      } catch (err) {
        log(`job event listener failed: ${(err as Error).message}`)
      }
    }
  }

  // A cancelled job's runner must not write again: its next write fails with the cancel reason.
  const guard = (jobId: string) => {
    const reason = active.get(jobId)?.controller.signal.reason
    if (reason instanceof JobCancelledError) throw reason
  }

  const store: CoordinatorJobStore = {
    ...base,
    async putJob(job) {
      guard(job.id)
      await base.putJob(job)
      // A final status is announced by `settle`, once the scheduler has recorded the job's end.
      if (!FINAL_STATUSES.has(job.status)) emit(job.id, { type: 'status', job })
    },
    async completeRound(round, job) {
      guard(job.id)
      await base.completeRound(round, job)
      emit(job.id, { type: 'round', round, job })
    },
    async putModel(model) {
      guard(model.jobId)
      await base.putModel(model)
    }
  }

  async function resolveRunner(): Promise<RunJob | undefined> {
    if (runJob !== undefined) return runJob
    const load = init.loadRunJob ?? (async () => undefined)
    loading ??= load().catch((err) => {
      log(`could not load the job runner: ${(err as Error).message}`)
      return undefined
    })
    const r = await loading
    if (r === undefined) {
      if (runnerState !== 'missing') log('no job runner is installed: submitted jobs wait as pending')
      runnerState = 'missing'
      return undefined
    }
    runnerState = 'installed'
    runJob = r
    return r
  }

  const now = () => new Date().toISOString()

  async function settle(id: string, signal: AbortSignal, result: JobRecord | undefined, error: unknown) {
    const reason: unknown = signal.aborted ? signal.reason : undefined
    const current = await base.getJob(id)
    if (current === undefined) return
    if (reason instanceof CoordinatorStoppingError) {
      // Not a cancel: the job resumes at the next start even if the runner called it cancelled.
      if (current.status !== 'running' && current.status !== 'completed')
        await store.putJob({ ...current, status: 'running', updatedAt: now() })
      log(`job ${id} paused after round ${current.round}; it resumes at the next start`)
      return
    }
    let final: JobRecord
    if (reason instanceof JobCancelledError) {
      final = current.status === 'completed' ? current : { ...current, status: 'cancelled', updatedAt: now() }
    } else if (FINAL_STATUSES.has(current.status)) {
      final = current
    } else if (error !== undefined) {
      final = { ...current, status: 'failed', error: errorOf(error), updatedAt: now() }
    } else if (result !== undefined && FINAL_STATUSES.has(result.status)) {
      final = { ...result, updatedAt: now() }
    } else {
      final = {
        ...current,
        status: 'failed',
        error: { code: 'COHORT_JOB_INCOMPLETE', message: 'the job runner returned before the job finished' },
        updatedAt: now()
      }
    }
    if (final !== current) await base.putJob(final)
    emit(id, { type: 'status', job: final })
    await init.audit.append(
      'job-finished',
      {
        jobId: id,
        status: final.status,
        round: final.round,
        metrics: final.metrics ?? null,
        error: final.error ?? null
      },
      { actor: 'coordinator' }
    )
    const detail = final.error !== undefined ? `: ${final.error.message} [${final.error.code}]` : ''
    log(`job ${id} ${final.status} after ${final.round} round(s)${detail}`)
  }

  async function run(id: string, controller: AbortController) {
    let job = await base.getJob(id)
    if (job === undefined || FINAL_STATUSES.has(job.status)) return
    const runner = runJob!
    if (job.status === 'pending') {
      job = { ...job, status: 'running', updatedAt: now() }
      await store.putJob(job)
      await init.audit.append('job-started', { jobId: id, name: job.config.name }, { actor: 'coordinator' })
      log(`job ${id} (${job.config.name}) started`)
    } else {
      await init.audit.append('job-resumed', { jobId: id, round: job.round }, { actor: 'coordinator' })
      log(`job ${id} resumed after round ${job.round}`)
    }
    // The runner logs its own per-round progress through ctx.log.
    const ctx: JobRunContext = {
      transport: init.transport,
      store,
      manifest: init.manifest,
      audit: init.audit,
      log
    }
    let result: JobRecord | undefined
    let error: unknown
    try {
      result = await runner(ctx, id, { signal: controller.signal })
    } catch (err) {
      error = err
    }
    await settle(id, controller.signal, result, error)
  }

  async function pump(): Promise<void> {
    if (stopping || queue.length === 0 || active.size >= maxConcurrent) return
    if ((await resolveRunner()) === undefined) return
    // Synchronous from here, so concurrent pumps cannot both pass the capacity check.
    while (!stopping && active.size < maxConcurrent && queue.length > 0) {
      const id = queue.shift()!
      if (active.has(id)) continue
      const controller = new AbortController()
      const entry: Active = { controller, done: Promise.resolve() }
      active.set(id, entry)
      entry.done = run(id, controller)
        .catch((err) => log(`job ${id}: the scheduler could not record its state: ${(err as Error).message}`))
        .finally(() => {
          active.delete(id)
          void pump()
        })
    }
  }

  function subscribe(jobId: string, listener: (e: JobEvent) => void): () => void {
    let set = listeners.get(jobId)
    if (set === undefined) {
      set = new Set()
      listeners.set(jobId, set)
    }
    const own = set
    own.add(listener)
    return () => {
      own.delete(listener)
      if (own.size === 0 && listeners.get(jobId) === own) listeners.delete(jobId)
    }
  }

  const within = (p: Promise<unknown>, ms: number) =>
    Promise.race([p, new Promise((r) => setTimeout(r, ms).unref())])

  return {
    store,

    async submit(config, options = {}) {
      const orgs = checkJobAgainstFederation(config, init.manifest())
      const job = newJobRecord(config)
      await store.putJob(job)
      await init.audit.append(
        'job-submitted',
        { jobId: job.id, name: config.name, model: config.model.kind, participants: orgs },
        { actor: options.actor ?? 'coordinator' }
      )
      log(`job ${job.id} (${config.name}) submitted: ${config.model.kind}, ${orgs.length} nodes`)
      queue.push(job.id)
      void pump()
      return job
    },

    async cancel(id, options = {}) {
      const job = await base.getJob(id)
      if (job === undefined) throw new JobNotFoundError(id)
      if (FINAL_STATUSES.has(job.status)) throw new JobFinishedError(id, job.status)
      await init.audit.append(
        'job-cancel-requested',
        { jobId: id },
        { actor: options.actor ?? 'coordinator' }
      )
      const a = active.get(id)
      if (a !== undefined) {
        a.controller.abort(new JobCancelledError(id))
        await within(a.done, abortWaitMs)
      }
      const after = (await base.getJob(id))!
      if (FINAL_STATUSES.has(after.status)) return after
      // Pending (or a runner that ignores its signal: its further writes are refused by the guard).
      const idx = queue.indexOf(id)
      if (idx >= 0) queue.splice(idx, 1)
      const cancelled: JobRecord = { ...after, status: 'cancelled', updatedAt: now() }
      await base.putJob(cancelled)
      emit(id, { type: 'status', job: cancelled })
      await init.audit.append(
        'job-finished',
        { jobId: id, status: 'cancelled', round: cancelled.round, metrics: null, error: null },
        { actor: 'coordinator' }
      )
      log(`job ${id} cancelled after ${cancelled.round} round(s)`)
      return cancelled
    },

    async start() {
      stopping = false
      await resolveRunner()
      const running = (await base.listJobs({ status: ['running'] })).sort(byCreated).map((j) => j.id)
      const pending = (await base.listJobs({ status: ['pending'] })).sort(byCreated).map((j) => j.id)
      for (const id of [...running, ...pending]) if (!queue.includes(id)) queue.push(id)
      void pump()
      return { resumed: running, queued: pending }
    },

    async stop() {
      stopping = true
      const waiting = [...active.values()]
      for (const a of waiting) a.controller.abort(new CoordinatorStoppingError())
      await within(Promise.allSettled(waiting.map((a) => a.done)), abortWaitMs)
    },

    running: () => [...active.keys()],
    queued: () => [...queue],
    runner: () => runnerState,

    subscribe,

    settled(jobId, options = {}) {
      return new Promise<JobRecord>((resolve, reject) => {
        let off = () => {}
        const finish = (job: JobRecord) => {
          off()
          options.signal?.removeEventListener('abort', onAbort)
          resolve(job)
        }
        const onAbort = () => {
          off()
          reject(options.signal!.reason)
        }
        off = subscribe(jobId, (e) => {
          if (e.type === 'status' && FINAL_STATUSES.has(e.job.status)) finish(e.job)
        })
        options.signal?.addEventListener('abort', onAbort, { once: true })
        base.getJob(jobId).then((job) => {
          if (job === undefined) {
            off()
            reject(new JobNotFoundError(jobId))
          } else if (FINAL_STATUSES.has(job.status)) finish(job)
        }, reject)
      })
    }
  }
}
