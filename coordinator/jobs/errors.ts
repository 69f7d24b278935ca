import { CohortError } from '../../crypto/cohort-error.ts'

/**
 * The job asks for something this coordinator cannot run (homomorphic aggregation before its
 * backend exists, a ring too small for the training sums).
 *
 * @example
 * throw new JobUnsupportedError('secureAggregation "he" is not available yet; use "secagg+"')
 */
export class JobUnsupportedError extends CohortError {
  static override readonly name = 'JobUnsupportedError'
  constructor(message: string) {
    super(message, 'COHORT_UNSUPPORTED')
  }
}

/**
 * Too few nodes accepted the job, or too few remain to continue it.
 *
 * @example
 * throw new TooFewParticipantsError('2 nodes accepted the job; it needs at least 3 (declined: ...)')
 */
export class TooFewParticipantsError extends CohortError {
  static override readonly name = 'TooFewParticipantsError'
  constructor(message: string) {
    super(message, 'COHORT_NOT_ENOUGH_PARTICIPANTS')
  }
}

/**
 * A phase failed on every attempt (nodes unreachable, secure aggregation below its threshold).
 *
 * @example
 * throw new RoundFailedError('round 4 failed 3 times: secure aggregation fell below its threshold')
 */
export class RoundFailedError extends CohortError {
  static override readonly name = 'RoundFailedError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'COHORT_ROUND_FAILED', options)
  }
}

/**
 * The key-holder announces another HE key than the one the job pins (rotated, or the wrong
 * key-holder): the nodes would refuse it, so the job does not start.
 *
 * @example
 * throw new HeKeyMismatchError('the key-holder announces key 3f2a…, the job pins 9c41…')
 */
export class HeKeyMismatchError extends CohortError {
  static override readonly name = 'HeKeyMismatchError'
  constructor(message: string) {
    super(message, 'COHORT_HE_KEY_MISMATCH')
  }
}
