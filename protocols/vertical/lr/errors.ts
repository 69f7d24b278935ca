import { CohortError } from '../../../crypto/cohort-error.ts'

/**
 * Errors of the vertical logistic-regression protocol. Callers match on `code`, never the message.
 *
 * @example
 * if (isCohortError(err, 'COHORT_VLR_ABORTED')) report(err.message)
 */

/** The options or the announced plan are invalid, or a party's policy declines them. */
export class VerticalLrPlanError extends CohortError {
  static override readonly name = 'VerticalLrPlanError'
  constructor(message: string) {
    super(message, 'COHORT_VLR_PLAN')
  }
}

/** A message names another session than the one running here. */
export class VerticalLrSessionError extends CohortError {
  static override readonly name = 'VerticalLrSessionError'
  constructor(message: string) {
    super(message, 'COHORT_VLR_WRONG_SESSION')
  }
}

/** A message came from a peer that may not send it (not a party, or not the party this step expects). */
export class VerticalLrSenderError extends CohortError {
  static override readonly name = 'VerticalLrSenderError'
  constructor(message: string) {
    super(message, 'COHORT_VLR_SENDER')
  }
}

/** A message repeats or skips a step (epoch/batch already handled, or not the next one). */
export class VerticalLrReplayError extends CohortError {
  static override readonly name = 'VerticalLrReplayError'
  constructor(message: string) {
    super(message, 'COHORT_VLR_REPLAY')
  }
}

/** A message is well-formed on the wire but its content does not fit the plan (sizes, counts). */
export class VerticalLrInputError extends CohortError {
  static override readonly name = 'VerticalLrInputError'
  constructor(message: string) {
    super(message, 'COHORT_VLR_BAD_INPUT')
  }
}

/**
 * The session was aborted: a party dropped out, refused a step or timed out. Vertical LR cannot go on
 * without any party's features, so the whole session fails. `causeCode` is the underlying code.
 */
export class VerticalLrAbortedError extends CohortError {
  static override readonly name = 'VerticalLrAbortedError'
  readonly causeCode: string | undefined
  constructor(message: string, causeCode?: string, options?: { cause?: unknown }) {
    super(message, 'COHORT_VLR_ABORTED', options)
    this.causeCode = causeCode
  }
}
