import { CohortError } from '../cohort-error.ts'
import type { BudgetState } from './budget.ts'

/**
 * Errors of `crypto/dp`. Argument errors (a negative sigma, a q outside [0, 1]) are the shared
 * `CryptoArgumentError` (`COHORT_CRYPTO_ARGUMENT`) from `crypto/errors.ts`; the classes here name
 * conditions that are specific to privacy accounting.
 */

/**
 * A reservation would push the scope's privacy loss past its cap, or the scope was already exhausted.
 * Once thrown for a scope, every later reservation on that scope throws it too (OpenDP privacy-filter
 * rule). `state` is the scope's state *after* the refusal (marked exhausted): persist it.
 *
 * @example
 * try { state = reserve(state, 'job-1/round-3', event) } catch (err) {
 *   if (err instanceof BudgetExhaustedError) await save(err.state)
 *   throw err
 * }
 */
export class BudgetExhaustedError extends CohortError {
  static override readonly name = 'BudgetExhaustedError'
  /** The scope's state after the refusal, marked exhausted: persist it. */
  readonly state: BudgetState | undefined
  constructor(
    message = 'the privacy budget of this scope is exhausted; it cannot answer more queries',
    state?: BudgetState
  ) {
    super(message, 'COHORT_BUDGET_EXHAUSTED')
    this.state = state
  }
}

/**
 * An accountant was asked to compose an event it cannot account for (an unknown kind, or a known
 * kind in a combination it has no bound for, e.g. a Poisson-sampled Laplace under RDP).
 *
 * @example
 * if (!accountant.supports(event)) throw new UnsupportedEventError(`cannot account for ${event.kind}`)
 */
export class UnsupportedEventError extends CohortError {
  static override readonly name = 'UnsupportedEventError'
  constructor(message = 'the accountant cannot account for this DP event') {
    super(message, 'COHORT_DP_UNSUPPORTED_EVENT')
  }
}

/**
 * A value claimed to be a `DpEvent` is malformed (unknown kind, missing or out-of-range parameter).
 *
 * @example
 * validateEvent(JSON.parse(stored)) // throws InvalidDpEventError on { kind: 'gaussian' }
 */
export class InvalidDpEventError extends CohortError {
  static override readonly name = 'InvalidDpEventError'
  constructor(message = 'malformed DP event') {
    super(message, 'COHORT_DP_INVALID_EVENT')
  }
}

/**
 * A budget operation named a reservation id that does not exist (commit/release), or reused one
 * that is still pending (reserve).
 *
 * @example
 * commit(state, 'no-such-id') // throws ReservationError
 */
export class ReservationError extends CohortError {
  static override readonly name = 'ReservationError'
  constructor(message = 'unknown or duplicate budget reservation id') {
    super(message, 'COHORT_BUDGET_RESERVATION')
  }
}
