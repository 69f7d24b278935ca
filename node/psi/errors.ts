import { CohortError } from '../../crypto/cohort-error.ts'

/**
 * A stored PSI result is incomplete or inconsistent (a chunk is missing or the row count differs
 * from its record): the store was altered or a write was lost; rerun the PSI for the job.
 * @example
 * throw new PsiResultCorruptError('PSI result of job j is missing chunk 3')
 */
export class PsiResultCorruptError extends CohortError {
  static override readonly name = 'PsiResultCorruptError'
  constructor(message: string) {
    super(message, 'COHORT_PSI_RESULT_CORRUPT')
  }
}
