/**
 * A stand-in for the real job runner (coordinator/jobs/run-job.ts) that honours the RunJob contract
 * without training anything: it resumes after `job.round`, "runs" each remaining round (a sleep),
 * records it with `completeRound`, publishes a model and marks the job completed. Used by the
 * scheduler and API unit tests and, through `--job-runner`, by the coordinator CLI e2e tests.
 */
import { createHash } from 'node:crypto'
import type { JobRecord, JobRunContext, RoundRecord, RunJob } from '../../coordinator/jobs/types.ts'
import { CohortError } from '../../crypto/cohort-error.ts'

export interface FakeRunJobOptions {
  /** Sleep per round. @default 20 */
  roundMs?: number
  /** Stop at the start of this round and wait for the abort signal (a hung round). */
  stallAtRound?: number
  /** Throw a CohortError COHORT_FAKE_FAILURE at the start of this round. */
  failAtRound?: number
  /** Ignore the abort signal (a misbehaving runner). */
  ignoreAbort?: boolean
  /** On abort, mark the job cancelled before rethrowing (what a naive runner might do). */
  markCancelledOnAbort?: boolean
  /** Every call is recorded here: the job id and the first round it ran. */
  calls?: Array<{ jobId: string; from: number }>
}

function sleep(ms: number, signal: AbortSignal | undefined, ignoreAbort: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms)
    function done() {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }
    function onAbort() {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    if (ignoreAbort || signal === undefined) return
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
}

const b64 = (v: Float64Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')

/** Builds a fake RunJob. */
export function fakeRunJob(options: FakeRunJobOptions = {}): RunJob {
  const roundMs = options.roundMs ?? 20
  return async (ctx: JobRunContext, jobId: string, opts = {}) => {
    const signal = opts.signal
    let job = (await ctx.store.getJob(jobId)) as JobRecord
    options.calls?.push({ jobId, from: job.round + 1 })
    const nodes = ctx
      .manifest()
      .members.filter((m) => m.roles.includes('node'))
      .filter((m) => job.config.participants === undefined || job.config.participants.includes(m.org))
    if (job.participants.length === 0) {
      job = { ...job, participants: nodes.map((m) => ({ org: m.org, peerId: m.peerId })) }
      await ctx.store.putJob(job)
    }
    const peers = job.participants.map((p) => p.peerId)
    try {
      for (let r = job.round + 1; r <= job.config.model.rounds; r++) {
        if (r === options.failAtRound)
          throw new CohortError(`round ${r} failed on purpose`, 'COHORT_FAKE_FAILURE')
        if (r === options.stallAtRound) await sleep(3_600_000, signal, false)
        await sleep(roundMs, signal, options.ignoreAbort === true)
        const metrics = { auc: 0.5 + r / 100, logloss: 1 / r }
        const round: RoundRecord = {
          jobId,
          round: r,
          participants: peers,
          survivors: peers,
          dropped: [],
          metrics,
          timings: { train: roundMs, secagg: 0, eval: 0, total: roundMs },
          bytes: 1000 * r
        }
        job = {
          ...job,
          round: r,
          global: b64(new Float64Array([r, r / 2])),
          updatedAt: new Date().toISOString()
        }
        await ctx.store.completeRound(round, job)
        ctx.onRound?.(round, job)
      }
    } catch (err) {
      if (options.markCancelledOnAbort === true && signal?.aborted === true) {
        await ctx.store.putJob({ ...job, status: 'cancelled' })
      }
      throw err
    }
    const params = b64(new Float64Array([job.round, job.round / 2]))
    const metrics = { auc: 0.5 + job.round / 100, logloss: 1 / job.round }
    await ctx.store.putModel({
      jobId,
      version: 1,
      kind: job.config.model.kind,
      descriptor: { kind: 'logreg', features: 1 },
      params,
      sha256: createHash('sha256').update(Buffer.from(params, 'base64')).digest('hex'),
      metrics,
      createdAt: new Date().toISOString()
    })
    job = { ...job, status: 'completed', metrics, updatedAt: new Date().toISOString() }
    await ctx.store.putJob(job)
    return job
  }
}

/**
 * The module's `runJob`, for `cohort coordinator start --job-runner tests/helpers/fake-run-job.ts`:
 * settings from COHORT_FAKE_ROUND_MS (default 300) and COHORT_FAKE_STALL_AT.
 */
export const runJob: RunJob = fakeRunJob({
  roundMs: Number(process.env.COHORT_FAKE_ROUND_MS ?? 300),
  stallAtRound:
    process.env.COHORT_FAKE_STALL_AT === undefined ? undefined : Number(process.env.COHORT_FAKE_STALL_AT)
})
