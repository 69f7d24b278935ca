import { CohortError } from '../cohort-error.ts'

/**
 * Errors of `crypto/he`. Callers match on `code` (or `name`), never on the message.
 *
 * @example
 * try { loadCiphertext(ctx, bytes) } catch (err) {
 *   if (isCohortError(err, 'COHORT_HE_SIZE_LIMIT')) reject('ciphertext too large')
 * }
 */

/** Serialized HE bytes (or a decompressed payload) are larger than the context allows. */
export class HeSizeLimitError extends CohortError {
  static override readonly name = 'HeSizeLimitError'
  constructor(what: string, bytes: number, limit: number) {
    super(`${what} is ${bytes} bytes, over the limit of ${limit} bytes: refuse it`, 'COHORT_HE_SIZE_LIMIT')
  }
}

/**
 * Two HE objects do not belong together: another context / preset, another level or scale, another
 * vector length, or a rotation the Galois keys do not cover.
 */
export class HeParameterMismatchError extends CohortError {
  static override readonly name = 'HeParameterMismatchError'
  constructor(message: string) {
    super(message, 'COHORT_HE_PARAMETER_MISMATCH')
  }
}

/** Serialized HE bytes are not a valid SEAL object of the expected kind (garbage, truncated, tampered). */
export class HeMalformedError extends CohortError {
  static override readonly name = 'HeMalformedError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'COHORT_HE_MALFORMED', options)
  }
}

/**
 * A decrypted value is outside the bound the caller declared, or the ciphertext's noise budget is
 * exhausted: the ring sum wrapped (more parties or larger values than the plain modulus allows) or the
 * ciphertext is not a sum of honest encryptions. The decoded numbers would be wrong, so none are returned.
 */
export class HeDecodeOverflowError extends CohortError {
  static override readonly name = 'HeDecodeOverflowError'
  constructor(message: string) {
    super(message, 'COHORT_HE_DECODE_OVERFLOW')
  }
}

/** A CKKS ciphertext has no modulus level left for another rescale. */
export class HeLevelExhaustedError extends CohortError {
  static override readonly name = 'HeLevelExhaustedError'
  constructor(
    message = 'the CKKS ciphertext is at the last level: no rescale is left for another multiplication'
  ) {
    super(message, 'COHORT_HE_LEVEL_EXHAUSTED')
  }
}

/** An HE object (or its context) was used after `dispose()`: its SEAL memory is already freed. */
export class HeDisposedError extends CohortError {
  static override readonly name = 'HeDisposedError'
  constructor(what: string) {
    super(`${what} was used after dispose(): create or load it again`, 'COHORT_HE_DISPOSED')
  }
}

/** SEAL itself refused an operation (message from the C++ exception). */
export class HeSealError extends CohortError {
  static override readonly name = 'HeSealError'
  constructor(message: string) {
    super(`SEAL refused the operation: ${message}`, 'COHORT_HE_SEAL_FAILURE')
  }
}

/** The node-seal runtime could not be loaded or is a build this module cannot drive safely. */
export class HeRuntimeError extends CohortError {
  static override readonly name = 'HeRuntimeError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'COHORT_HE_RUNTIME', options)
  }
}

/**
 * Maps a SEAL evaluator/decryptor message to a typed error: operands that do not belong together
 * (parms id or scale mismatch, missing Galois key) become HeParameterMismatchError, anything else
 * HeSealError. Used as the `translate` argument of the runtime guard.
 *
 * @example
 * ctx.guard(() => ev.add(a, b, out), evaluatorError)
 */
export function evaluatorError(message: string): CohortError {
  return /mismatch|not valid for encryption parameters|Galois key not present/i.test(message)
    ? new HeParameterMismatchError(`HE operands do not match: ${message}`)
    : new HeSealError(message)
}
