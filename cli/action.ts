import { isCohortError } from '../crypto/cohort-error.ts'

/**
 * Wraps a command action so that any error becomes one clear line on stderr and a non-zero exit.
 * CohortErrors print their message and code; anything else is unexpected and says so.
 */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<void> | void
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args)
    } catch (err) {
      fail(err)
    }
  }
}

/** Prints `err` as one line and exits with 1 (2 for bad usage). */
export function fail(err: unknown): never {
  if (isCohortError(err)) {
    process.stderr.write(`cohort: ${err.message} [${err.code}]\n`)
    process.exit(err.code === 'COHORT_USAGE' ? 2 : 1)
  }
  const message = err instanceof Error ? err.message : String(err)
  process.stderr.write(`cohort: unexpected error: ${message.split('\n')[0]}\n`)
  if (process.env.COHORT_DEBUG === '1' && err instanceof Error) process.stderr.write(`${err.stack}\n`)
  process.exit(1)
}

/** Prints a value as pretty JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}
