import { CohortError } from '../../crypto/cohort-error.ts'

/**
 * An aggregate does not fit the strategy: wrong length, no weight, a non-finite value.
 *
 * @example
 * throw new AggregateMismatchError('the aggregate has 26 values, the model 27')
 */
export class AggregateMismatchError extends CohortError {
  static override readonly name = 'AggregateMismatchError'
  constructor(message: string) {
    super(message, 'COHORT_AGGREGATE_MISMATCH')
  }
}

/**
 * Fewer nodes are available than the strategy needs for a round.
 *
 * @example
 * throw new NotEnoughParticipantsError('2 nodes available, the job needs 3')
 */
export class NotEnoughParticipantsError extends CohortError {
  static override readonly name = 'NotEnoughParticipantsError'
  constructor(message: string) {
    super(message, 'COHORT_NOT_ENOUGH_PARTICIPANTS')
  }
}
