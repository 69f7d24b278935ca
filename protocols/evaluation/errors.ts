import { CohortError } from '../../crypto/cohort-error.ts'

/**
 * Scores, labels or an aggregated evaluation vector have the wrong length or invalid values.
 *
 * @example
 * throw new EvaluationInputError('expected 2003 values (bins = 1000), got 2001')
 */
export class EvaluationInputError extends CohortError {
  static override readonly name = 'EvaluationInputError'
  constructor(message: string) {
    super(message, 'COHORT_EVALUATION_INPUT')
  }
}
