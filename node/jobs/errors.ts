import { CohortError } from '../../crypto/cohort-error.ts'

/**
 * A job's data selection does not fit the node's dataset (a missing feature or imputation value, a
 * column of another kind than the job's statistics say).
 *
 * @example
 * throw new JobDataError('the dataset has no feature Income')
 */
export class JobDataError extends CohortError {
  static override readonly name = 'JobDataError'
  constructor(message: string) {
    super(message, 'COHORT_JOB_DATA')
  }
}

/**
 * A training request came from a peer that is not a coordinator of the federation.
 *
 * @example
 * throw new NotCoordinatorError('12D3KooW… is not a coordinator of federation credit')
 */
export class NotCoordinatorError extends CohortError {
  static override readonly name = 'NotCoordinatorError'
  constructor(message: string) {
    super(message, 'COHORT_PEER_NOT_ALLOWED')
  }
}

/**
 * The SecAgg participant asked for an input nobody stashed (the round was never prepared here, or
 * its summand expired).
 *
 * @example
 * throw new InputNotReadyError('no input for job-1/fit/ab12 round 3')
 */
export class InputNotReadyError extends CohortError {
  static override readonly name = 'InputNotReadyError'
  constructor(message: string) {
    super(message, 'COHORT_INPUT_NOT_READY')
  }
}

/**
 * A vector to release has a coordinate outside the quantiser's range (it would be clipped silently).
 *
 * @example
 * throw new QuantisationRangeError('coordinate 26 is 3.2e8, beyond the clip 1.3e8')
 */
export class QuantisationRangeError extends CohortError {
  static override readonly name = 'QuantisationRangeError'
  constructor(message: string) {
    super(message, 'COHORT_QUANTISATION_RANGE')
  }
}

/**
 * No published model with this id is stored on the node.
 *
 * @example
 * throw new NodeModelNotFoundError('job-1')
 */
export class NodeModelNotFoundError extends CohortError {
  static override readonly name = 'NodeModelNotFoundError'
  constructor(id: string) {
    super(
      `no model ${id} on this node; a model is stored when its job completes and publishes it`,
      'COHORT_MODEL_NOT_FOUND'
    )
  }
}
