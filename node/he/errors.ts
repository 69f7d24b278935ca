import { CohortError } from '../../crypto/cohort-error.ts'

/**
 * A key-holder's stored HE keys cannot be read or written (corrupt, foreign preset, missing current).
 * @example
 * throw new HeKeyStoreError('he-keys/current names key k2, which has no key file')
 */
export class HeKeyStoreError extends CohortError {
  constructor(message: string) {
    super(message, 'COHORT_HE_KEY_STORE')
  }
}
