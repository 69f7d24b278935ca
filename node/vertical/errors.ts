import { CohortError } from '../../crypto/cohort-error.ts'

/**
 * A vertical job's data does not fit the node: no PSI result for the job, a missing feature or label.
 *
 * @example
 * throw new VerticalDataError('this node has no PSI result for job job-1')
 */
export class VerticalDataError extends CohortError {
  static override readonly name = 'VerticalDataError'
  constructor(message: string) {
    super(message, 'COHORT_VERTICAL_DATA')
  }
}

/**
 * A vertical-job request that does not fit the job's state here (not accepted, another summary,
 * a phase out of order).
 *
 * @example
 * throw new VerticalStateError('job job-1 was not accepted by this node')
 */
export class VerticalStateError extends CohortError {
  static override readonly name = 'VerticalStateError'
  constructor(message: string) {
    super(message, 'COHORT_VERTICAL_STATE')
  }
}

/**
 * A vertical-job request from a peer that may not send it (not the federation's coordinator, not the
 * label party of the model it asks about).
 *
 * @example
 * throw new VerticalPeerError('12D3KooW… is not a coordinator of this federation')
 */
export class VerticalPeerError extends CohortError {
  static override readonly name = 'VerticalPeerError'
  constructor(message: string) {
    super(message, 'COHORT_PEER_NOT_ALLOWED')
  }
}
