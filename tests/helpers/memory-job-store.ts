/**
 * TEST ONLY: an in-memory JobStore (coordinator/jobs/types.ts) with the real store's rules: records
 * are deep-copied through JSON (as LevelDB's json encoding does), and completing a round that
 * exists is refused, so a test sees any attempt to aggregate a round twice.
 */
import type { JobRecord, JobStore, ModelRecord, RoundRecord } from '../../coordinator/jobs/types.ts'

export interface MemoryJobStore extends JobStore {
  /** Every completeRound call, in order (including refused ones). */
  readonly completions: Array<{ jobId: string; round: number; refused: boolean }>
  getModel(jobId: string): ModelRecord | undefined
  /** Makes the next writes fail (a crash of the store); `undefined` restores it. */
  failWrites(err: Error | undefined): void
}

const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T

export function createMemoryJobStore(): MemoryJobStore {
  const jobs = new Map<string, JobRecord>()
  const rounds = new Map<string, RoundRecord>()
  const models = new Map<string, ModelRecord>()
  const completions: MemoryJobStore['completions'] = []
  let failure: Error | undefined
  const check = () => {
    if (failure !== undefined) throw failure
  }
  return {
    completions,
    failWrites(err) {
      failure = err
    },
    async getJob(id) {
      const j = jobs.get(id)
      return j === undefined ? undefined : copy(j)
    },
    async putJob(job) {
      check()
      jobs.set(job.id, copy(job))
    },
    async completeRound(round, job) {
      check()
      const key = `${round.jobId}!${round.round}`
      const refused = rounds.has(key) || job.round !== round.round
      completions.push({ jobId: round.jobId, round: round.round, refused })
      if (refused) throw new Error(`round ${round.round} of ${round.jobId} completed twice`)
      rounds.set(key, copy(round))
      jobs.set(job.id, copy(job))
    },
    async listRounds(jobId) {
      return [...rounds.values()]
        .filter((r) => r.jobId === jobId)
        .sort((a, b) => a.round - b.round)
        .map(copy)
    },
    async putModel(model) {
      check()
      models.set(model.jobId, copy(model))
    },
    getModel: (jobId) => models.get(jobId)
  }
}
