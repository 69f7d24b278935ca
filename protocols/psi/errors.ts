import { CohortError } from '../../crypto/cohort-error.ts'

/**
 * The salt commitment in a PSI `open` does not match this party's salt for the job: the parties
 * would hash ids differently and silently find an empty intersection, so the session is refused.
 * @example
 * throw new PsiSaltMismatchError('salt commitment differs from the one derived from our salt')
 */
export class PsiSaltMismatchError extends CohortError {
  static override readonly name = 'PsiSaltMismatchError'
  constructor(message = 'the PSI salt commitment does not match this party’s salt for the job') {
    super(message, 'COHORT_PSI_SALT_MISMATCH')
  }
}

/**
 * A peer that is not a federation member with role `node`, or not a party of this session (or not
 * the party allowed to send this message), tried to take part.
 * @example
 * throw new PsiNotMemberError(`${from} is not a party of PSI session ${sessionId}`)
 */
export class PsiNotMemberError extends CohortError {
  static override readonly name = 'PsiNotMemberError'
  constructor(message: string) {
    super(message, 'COHORT_PSI_NOT_MEMBER')
  }
}

/**
 * A batch of blinded points is malformed: wrong chain, sender, sequence number or point count, a
 * size beyond the declared set size, or not whole 32-byte points.
 * @example
 * throw new PsiBatchError('batch 3 of chain 1 holds 17 points, expected 32768')
 */
export class PsiBatchError extends CohortError {
  static override readonly name = 'PsiBatchError'
  constructor(message: string) {
    super(message, 'COHORT_PSI_BAD_BATCH')
  }
}

/**
 * The session's plan is not acceptable under this party's policy (another party would learn the
 * intersection itself, a set is too large, unknown normalisation or suite).
 * @example
 * throw new PsiPolicyError('party retailer would learn the intersection; our policy allows sizes only')
 */
export class PsiPolicyError extends CohortError {
  static override readonly name = 'PsiPolicyError'
  constructor(message: string) {
    super(message, 'COHORT_PSI_POLICY')
  }
}

/**
 * No PSI session with this id is expected or running here (unknown job, expired, already finished).
 * @example
 * throw new PsiUnknownSessionError(`no PSI session ${sessionId} here`)
 */
export class PsiUnknownSessionError extends CohortError {
  static override readonly name = 'PsiUnknownSessionError'
  constructor(message: string) {
    super(message, 'COHORT_PSI_UNKNOWN_SESSION')
  }
}

/**
 * A PSI session was aborted (a party refused, failed, timed out, or the leader deviated).
 * `remoteCode` is the code of the refusal that caused it, when known.
 * @example
 * throw new PsiAbortedError('retailer refused the session', 'COHORT_PSI_SALT_MISMATCH')
 */
export class PsiAbortedError extends CohortError {
  static override readonly name = 'PsiAbortedError'
  readonly causeCode: string | undefined
  constructor(message: string, causeCode?: string) {
    super(message, 'COHORT_PSI_ABORTED')
    this.causeCode = causeCode
  }
}
