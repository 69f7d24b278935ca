import type { JobRecord } from '../jobs/types.ts'

/** A job as the API shows it: the record without its (possibly large) global parameters. */
export type JobView = Omit<JobRecord, 'global'> & {
  /** Rounds the job runs in all (`config.model.rounds`). */
  rounds: number
}

/**
 * The API view of a job record.
 *
 * @example
 * c.json({ job: jobView(job) })
 */
export function jobView(job: JobRecord): JobView {
  const { global: _global, ...rest } = job
  return { ...rest, rounds: job.config.model.rounds }
}
