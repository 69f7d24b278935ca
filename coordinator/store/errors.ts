import { CohortError } from '../../crypto/cohort-error.ts'

/** A write the job store refuses because it would break its invariants (a runner bug). */
export class JobStoreError extends CohortError {
  static override readonly name = 'JobStoreError'
  constructor(message: string) {
    super(message, 'COHORT_JOB_STORE')
  }
}

/** The round is already recorded; completing it again would aggregate it twice. */
export class RoundExistsError extends CohortError {
  static override readonly name = 'RoundExistsError'
  readonly jobId: string
  readonly round: number
  constructor(jobId: string, round: number) {
    super(
      `round ${round} of job ${jobId} is already recorded; a round is never aggregated twice`,
      'COHORT_ROUND_EXISTS'
    )
    this.jobId = jobId
    this.round = round
  }
}
