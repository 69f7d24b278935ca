import { CohortError } from '../../crypto/cohort-error.ts'

/**
 * A model description, parameter vector or fit configuration is malformed (wrong length, a
 * non-finite value, an option outside its range).
 *
 * @example
 * throw new TrainingConfigError('batchSize must be an integer >= 1, got 0')
 */
export class TrainingConfigError extends CohortError {
  static override readonly name = 'TrainingConfigError'
  constructor(message: string) {
    super(message, 'COHORT_TRAINING_CONFIG')
  }
}

/**
 * A parameter or statistics vector does not match the model's layout.
 *
 * @example
 * throw new ModelShapeError('expected 27 parameters, got 26')
 */
export class ModelShapeError extends CohortError {
  static override readonly name = 'ModelShapeError'
  constructor(message: string) {
    super(message, 'COHORT_MODEL_SHAPE')
  }
}
