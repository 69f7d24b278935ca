import { CohortError } from '../../crypto/cohort-error.ts'

/** The node's identity key is missing, unreadable, unsafe or of the wrong type. */
export class IdentityError extends CohortError {
  static override readonly name = 'IdentityError'
  constructor(message: string) {
    super(message, 'COHORT_IDENTITY')
  }
}
