/**
 * The root of every error Cohort throws on purpose.
 *
 * Each subclass names one condition and carries a stable `code` (`COHORT_*`) that the CLI, the admin
 * API and wire error replies expose unchanged. Tests and callers match on `code` or `name`, never on
 * the message, which is a sentence for a person: what is wrong and what to do.
 *
 * It lives in `crypto/` because that is the bottom layer every other folder may import.
 *
 * @example
 * class BudgetExhaustedError extends CohortError {
 *   static override readonly name = 'BudgetExhaustedError'
 *   constructor (message = 'the privacy budget of this scope is exhausted') {
 *     super(message, 'COHORT_BUDGET_EXHAUSTED')
 *   }
 * }
 */
export class CohortError extends Error {
  static override readonly name: string = 'CohortError'
  readonly code: string

  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** True when `err` is a CohortError with the given code (works across module copies). */
export function isCohortError(err: unknown, code?: string): err is CohortError {
  if (err == null || typeof err !== 'object') return false
  const c = (err as { code?: unknown }).code
  return typeof c === 'string' && c.startsWith('COHORT_') && (code === undefined || c === code)
}
