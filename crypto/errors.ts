import { CohortError } from './cohort-error.ts'

/** An argument to a crypto function has the wrong type, length or range. */
export class CryptoArgumentError extends CohortError {
  static override readonly name = 'CryptoArgumentError'
  constructor(message: string) {
    super(message, 'COHORT_CRYPTO_ARGUMENT')
  }
}

/** A signature, MAC or authentication tag did not verify. */
export class VerificationError extends CohortError {
  static override readonly name = 'VerificationError'
  constructor(message = 'verification failed: the data or its signature was altered') {
    super(message, 'COHORT_VERIFICATION_FAILED')
  }
}

/**
 * An X25519 agreement produced the all-zero output: the peer's public key is a low-order point (or
 * a non-canonical encoding of one). RFC 7748 §6.1 says to abort in that case, because the "shared"
 * secret would be known to anyone.
 */
export class LowOrderPointError extends CohortError {
  static override readonly name = 'LowOrderPointError'
  constructor(message = 'the peer public key is a low-order X25519 point; refusing the agreement') {
    super(message, 'COHORT_LOW_ORDER_POINT')
  }
}

/** An AEAD ciphertext did not authenticate: wrong key, wrong context (AAD), or tampered bytes. */
export class DecryptionError extends CohortError {
  static override readonly name = 'DecryptionError'
  constructor(message = 'decryption failed: wrong key or context, or the ciphertext was altered') {
    super(message, 'COHORT_DECRYPTION_FAILED')
  }
}

/** Fewer Shamir shares than the threshold were given to combine. */
export class InsufficientSharesError extends CohortError {
  static override readonly name = 'InsufficientSharesError'
  constructor(message: string) {
    super(message, 'COHORT_INSUFFICIENT_SHARES')
  }
}

/** Two Shamir shares with the same x coordinate were given to combine. */
export class DuplicateShareError extends CohortError {
  static override readonly name = 'DuplicateShareError'
  constructor(message: string) {
    super(message, 'COHORT_DUPLICATE_SHARE')
  }
}

/** A Shamir share is malformed, or the shares do not interpolate to a valid secret (wrong or altered shares). */
export class InvalidShareError extends CohortError {
  static override readonly name = 'InvalidShareError'
  constructor(message: string) {
    super(message, 'COHORT_INVALID_SHARE')
  }
}

/** Summing this many fixed-point vectors could wrap around modulo 2^k: use a larger k, clip or scale smaller. */
export class RingOverflowError extends CohortError {
  static override readonly name = 'RingOverflowError'
  constructor(message: string) {
    super(message, 'COHORT_RING_OVERFLOW')
  }
}
