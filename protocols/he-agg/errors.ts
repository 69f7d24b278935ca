import { CohortError } from '../../crypto/cohort-error.ts'

/**
 * The HE public key announcement is unsigned, signed by someone who is not the federation's
 * key-holder, not the key pinned by the job, or does not match the bytes it carries.
 * @example
 * throw new HeAggKeyError('announced key fingerprint differs from the pinned one')
 */
export class HeAggKeyError extends CohortError {
  static override readonly name = 'HeAggKeyError'
  constructor(message: string) {
    super(message, 'COHORT_HE_AGG_KEY')
  }
}

/**
 * A contribution is unsigned, signed by someone else, from a peer that is not a federation node,
 * listed twice, or does not belong to this job, round and key.
 * @example
 * throw new HeAggContributionError('contribution of 12D3… is listed twice')
 */
export class HeAggContributionError extends CohortError {
  static override readonly name = 'HeAggContributionError'
  readonly peer: string | undefined
  constructor(message: string, peer?: string) {
    super(message, 'COHORT_HE_AGG_BAD_CONTRIBUTION')
    this.peer = peer
  }
}

/**
 * Fewer distinct, validly signed contributions than the minimum: the key-holder will not decrypt
 * (a "sum" of one contribution is that contribution).
 * @example
 * throw new HeAggBelowMinimumError(1, 3)
 */
export class HeAggBelowMinimumError extends CohortError {
  static override readonly name = 'HeAggBelowMinimumError'
  readonly count: number
  readonly minimum: number
  constructor(count: number, minimum: number, message?: string) {
    super(
      message ?? `${count} distinct signed contributions, at least ${minimum} required`,
      'COHORT_HE_AGG_BELOW_MINIMUM'
    )
    this.count = count
    this.minimum = minimum
  }
}

/**
 * The ciphertext sent for decryption is not the sum of the signed contributions: its linear digest
 * differs from the sum of the contributors' signed digests.
 * @example
 * throw new HeAggSumMismatchError()
 */
export class HeAggSumMismatchError extends CohortError {
  static override readonly name = 'HeAggSumMismatchError'
  constructor(message = 'the ciphertext to decrypt is not the sum of the signed contributions') {
    super(message, 'COHORT_HE_AGG_SUM_MISMATCH')
  }
}

/**
 * A round was already submitted (node) or already decrypted (key-holder): each happens once per
 * (job, round), so a coordinator cannot obtain two different sums of one round and subtract them.
 * @example
 * throw new HeAggReplayError('job j round 3 was already decrypted')
 */
export class HeAggReplayError extends CohortError {
  static override readonly name = 'HeAggReplayError'
  constructor(message: string) {
    super(message, 'COHORT_HE_AGG_REPLAY')
  }
}

/**
 * The request did not come from a coordinator of the federation, or the roles are unsafe (the
 * key-holder is also the coordinator).
 * @example
 * throw new HeAggRoleError('12D3… is not a coordinator of this federation')
 */
export class HeAggRoleError extends CohortError {
  static override readonly name = 'HeAggRoleError'
  constructor(message: string) {
    super(message, 'COHORT_HE_AGG_ROLE')
  }
}

/**
 * Round parameters are invalid or unacceptable to this node (unknown job, vector length, per-party
 * bound, minimum participants below our policy, value out of bound, phase order).
 * @example
 * throw new HeAggParamsError('minParticipants 1 is below our policy of 3')
 */
export class HeAggParamsError extends CohortError {
  static override readonly name = 'HeAggParamsError'
  constructor(message: string) {
    super(message, 'COHORT_HE_AGG_BAD_PARAMS')
  }
}
