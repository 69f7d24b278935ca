import { CohortError } from '../../crypto/cohort-error.ts'

/**
 * The training data cannot be used: wrong shape, non-finite values, labels a classifier cannot use.
 *
 * @example
 * throw new TrainingDataError('the dataset has no target; a classifier needs 0/1 labels')
 */
export class TrainingDataError extends CohortError {
  static override readonly name = 'TrainingDataError'
  constructor(message: string) {
    super(message, 'COHORT_TRAINING_DATA')
  }
}

/**
 * Training diverged (a non-finite loss or parameter): the update is not released.
 *
 * @example
 * throw new TrainingDivergedError('the local loss became NaN at step 12; lower the learning rate')
 */
export class TrainingDivergedError extends CohortError {
  static override readonly name = 'TrainingDivergedError'
  constructor(message: string) {
    super(message, 'COHORT_TRAINING_DIVERGED')
  }
}
