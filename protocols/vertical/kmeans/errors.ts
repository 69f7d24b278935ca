import { CohortError } from '../../../crypto/cohort-error.ts'

/**
 * Options or inputs of a vertical k-means session are invalid (k, nInit, rows, DP parameters,
 * parties, slice shape).
 * @example
 * throw new VerticalKMeansConfigError('k must be an integer in [2, 256], got 1')
 */
export class VerticalKMeansConfigError extends CohortError {
  static override readonly name = 'VerticalKMeansConfigError'
  constructor(message: string) {
    super(message, 'COHORT_VKMEANS_CONFIG')
  }
}

/**
 * The sender may not send this message: not a party of the session, not the lead, or not this
 * party's previous hop in the chain.
 * @example
 * throw new VerticalKMeansNotPartyError('distances must come from lender, not retailer')
 */
export class VerticalKMeansNotPartyError extends CohortError {
  static override readonly name = 'VerticalKMeansNotPartyError'
  constructor(message: string) {
    super(message, 'COHORT_VKMEANS_NOT_PARTY')
  }
}

/**
 * No session with this id runs here (a message of another session, of a finished one, or sent
 * before this party started its runner).
 * @example
 * throw new VerticalKMeansUnknownSessionError('no vertical k-means session s-17 here')
 */
export class VerticalKMeansUnknownSessionError extends CohortError {
  static override readonly name = 'VerticalKMeansUnknownSessionError'
  constructor(message: string) {
    super(message, 'COHORT_VKMEANS_UNKNOWN_SESSION')
  }
}

/**
 * A message is out of sequence: a replay of one already handled, or one that skips ahead (wrong
 * iteration or batch).
 * @example
 * throw new VerticalKMeansSequenceError('expected distances 3/0, got distances 2/1')
 */
export class VerticalKMeansSequenceError extends CohortError {
  static override readonly name = 'VerticalKMeansSequenceError'
  constructor(message: string) {
    super(message, 'COHORT_VKMEANS_SEQUENCE')
  }
}

/**
 * A message is well-formed but contradicts the plan (vector length, candidate list, assignment
 * values, plan fields that differ from this party's own view of the session).
 * @example
 * throw new VerticalKMeansPlanError('the plan lists 2 parties, this party knows 3')
 */
export class VerticalKMeansPlanError extends CohortError {
  static override readonly name = 'VerticalKMeansPlanError'
  constructor(message: string) {
    super(message, 'COHORT_VKMEANS_PLAN')
  }
}

/**
 * The session ended without a result: a party refused or dropped out, the lead aborted, or no
 * message arrived in time. `causeCode` is the code of the failure that caused it, when known.
 * @example
 * throw new VerticalKMeansAbortedError('retailer did not answer', 'COHORT_TIMEOUT')
 */
export class VerticalKMeansAbortedError extends CohortError {
  static override readonly name = 'VerticalKMeansAbortedError'
  readonly causeCode: string | undefined
  constructor(message: string, causeCode?: string, options?: { cause?: unknown }) {
    super(message, 'COHORT_VKMEANS_ABORTED', options)
    this.causeCode = causeCode
  }
}
