import { CryptoArgumentError } from './errors.ts'

/**
 * Boundary checks for every exported crypto function (noble's `abytes`/`anumber` pattern). Each
 * message names the parameter so a caller knows which argument was wrong.
 */

/** Asserts `value` is a Uint8Array, of exactly `length` bytes when given. */
export function aBytes(value: unknown, length?: number, title = 'value'): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new CryptoArgumentError(`${title} must be a Uint8Array, got ${typeof value}`)
  }
  if (length !== undefined && value.length !== length) {
    throw new CryptoArgumentError(`${title} must be ${length} bytes, got ${value.length}`)
  }
}

/** Asserts `value` is a safe integer. */
export function aInt(value: unknown, title = 'value'): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new CryptoArgumentError(`${title} must be a safe integer, got ${String(value)}`)
  }
}

/** Asserts `min <= value <= max` for a safe integer `value`. */
export function aInRange(value: unknown, min: number, max: number, title = 'value'): asserts value is number {
  aInt(value, title)
  if (value < min || value > max) {
    throw new CryptoArgumentError(`${title} must be in [${min}, ${max}], got ${value}`)
  }
}

/** Asserts `value` is a finite number, optionally strictly positive. */
export function aFinite(
  value: unknown,
  title = 'value',
  opts: { positive?: boolean } = {}
): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new CryptoArgumentError(`${title} must be a finite number, got ${String(value)}`)
  }
  if (opts.positive === true && !(value > 0)) {
    throw new CryptoArgumentError(`${title} must be > 0, got ${value}`)
  }
}

/** Asserts `value` is a non-empty string. */
export function aString(value: unknown, title = 'value'): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new CryptoArgumentError(`${title} must be a non-empty string`)
  }
}
