import type { NodeStore } from '../../platform/storage/db.ts'
import type { JobRecord, JobStatus, JobStore, ModelRecord, RoundRecord } from '../jobs/types.ts'
import { JobStoreError, RoundExistsError } from './errors.ts'

/** A model without its parameters, for listings. */
export type ModelSummary = Omit<ModelRecord, 'params'> & { paramCount: number }

/**
 * The coordinator's persistence: the runner's {@link JobStore} contract plus the reads the API and
 * CLI need. Everything lives in the coordinator's LevelDB (`jobs`, `rounds`, `models` sublevels).
 */
export interface CoordinatorJobStore extends JobStore {
  /** Every job, newest first, optionally only those with one of `status`. */
  listJobs(filter?: { status?: readonly JobStatus[] }): Promise<JobRecord[]>
  getRound(jobId: string, round: number): Promise<RoundRecord | undefined>
  /** Model summaries (no parameters), newest first; only `jobId`'s versions when given. */
  listModels(filter?: { jobId?: string }): Promise<ModelSummary[]>
  /** One version of a job's model, or its latest. */
  getModel(jobId: string, version?: number): Promise<ModelRecord | undefined>
}

const PAD = 8
const pad = (n: number) => String(n).padStart(PAD, '0')
/** `!` sorts before every id character, and `"` right after it: `[id!, id")` is exactly id's keys. */
const childRange = (jobId: string) => ({ gte: `${jobId}!`, lt: `${jobId}"` })

/** Job ids are path segments and key prefixes: no `!`, `/` or whitespace. */
export const JOB_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

function assertJobId(id: string): void {
  if (!JOB_ID_PATTERN.test(id)) throw new JobStoreError(`"${id}" is not a valid job id`)
}

function assertRoundNumber(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 1 || n >= 10 ** PAD)
    throw new JobStoreError(`${what} must be a round number ≥ 1, got ${n}`)
}

function summarize(m: ModelRecord): ModelSummary {
  const { params, ...rest } = m
  // base64 of little-endian float64: 8 bytes per parameter.
  const bytes =
    Math.floor((params.length * 3) / 4) - (params.endsWith('==') ? 2 : params.endsWith('=') ? 1 : 0)
  return { ...rest, paramCount: Math.floor(bytes / 8) }
}

/**
 * Builds the job store over a (coordinator's) store. Every write is one LevelDB batch:
 * `completeRound` puts the round record and the job's new state together, so a crash leaves either
 * both or neither, and a restarted runner resumes after the last round that has both. A round is
 * never overwritten: completing the same round twice is refused (`COHORT_ROUND_EXISTS`), so nothing
 * is aggregated into the model twice.
 *
 * @example
 * const jobs = createJobStore(home.store)
 * await jobs.putJob(job)
 * await jobs.completeRound(round, { ...job, round: round.round, global })
 */
export function createJobStore(store: NodeStore): CoordinatorJobStore {
  const { jobs, rounds, models, root } = store
  // Writes for one job are serialised, so the "round exists" check and the batch do not race.
  let tail: Promise<unknown> = Promise.resolve()
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn)
    tail = run.catch(() => undefined)
    return run
  }

  return {
    async getJob(id) {
      if (!JOB_ID_PATTERN.test(id)) return undefined
      return (await jobs.get(id)) as JobRecord | undefined
    },

    async putJob(job) {
      assertJobId(job.id)
      return serial(() => jobs.put(job.id, job))
    },

    async completeRound(round, job) {
      assertJobId(job.id)
      assertRoundNumber(round.round, 'round.round')
      if (round.jobId !== job.id)
        throw new JobStoreError(`round of job ${round.jobId} cannot complete job ${job.id}`)
      if (job.round !== round.round)
        throw new JobStoreError(
          `job ${job.id}: the job's round (${job.round}) must equal the completed round (${round.round})`
        )
      return serial(async () => {
        const key = `${job.id}!${pad(round.round)}`
        if ((await rounds.get(key)) !== undefined) throw new RoundExistsError(job.id, round.round)
        await root.batch([
          { type: 'put', sublevel: rounds, key, value: round },
          { type: 'put', sublevel: jobs, key: job.id, value: job }
          // biome-ignore lint/suspicious/noExplicitAny: abstract-level's batch typing cannot express sublevel ops of mixed value types
        ] as any)
      })
    },

    async listRounds(jobId) {
      if (!JOB_ID_PATTERN.test(jobId)) return []
      return (await rounds.values(childRange(jobId)).all()) as RoundRecord[]
    },

    async getRound(jobId, round) {
      if (!JOB_ID_PATTERN.test(jobId) || !Number.isSafeInteger(round) || round < 1) return undefined
      return (await rounds.get(`${jobId}!${pad(round)}`)) as RoundRecord | undefined
    },

    async putModel(model) {
      assertJobId(model.jobId)
      assertRoundNumber(model.version, 'model.version')
      return serial(() => models.put(`${model.jobId}!${pad(model.version)}`, model))
    },

    async listJobs(filter = {}) {
      const all = (await jobs.values().all()) as JobRecord[]
      const wanted = filter.status === undefined ? all : all.filter((j) => filter.status!.includes(j.status))
      return wanted.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
    },

    async listModels(filter = {}) {
      if (filter.jobId !== undefined && !JOB_ID_PATTERN.test(filter.jobId)) return []
      const range = filter.jobId === undefined ? {} : childRange(filter.jobId)
      const all = (await models.values(range).all()) as ModelRecord[]
      return all
        .map(summarize)
        .sort((a, b) =>
          a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : b.version - a.version
        )
    },

    async getModel(jobId, version) {
      if (!JOB_ID_PATTERN.test(jobId)) return undefined
      if (version !== undefined) {
        if (!Number.isSafeInteger(version) || version < 1) return undefined
        return (await models.get(`${jobId}!${pad(version)}`)) as ModelRecord | undefined
      }
      const last = await models.values({ ...childRange(jobId), reverse: true, limit: 1 }).all()
      return last[0] as ModelRecord | undefined
    }
  }
}
