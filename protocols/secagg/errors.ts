import { CohortError } from '../../crypto/cohort-error.ts'

/** Round parameters are invalid or unsafe (threshold too low for the neighbourhood, unknown party, ...). */
export class SecaggParamsError extends CohortError {
  static override readonly name = 'SecaggParamsError'
  constructor(message: string) {
    super(message, 'COHORT_SECAGG_BAD_PARAMS')
  }
}

/** A key bundle is unsigned, signed by someone else, for another round, not a neighbour's, or reuses a key. */
export class SecaggBundleError extends CohortError {
  static override readonly name = 'SecaggBundleError'
  readonly peer: string | undefined
  constructor(message: string, peer?: string) {
    super(message, 'COHORT_SECAGG_BAD_BUNDLE')
    this.peer = peer
  }
}

/** An encrypted share does not open under this round's context (replayed, misrouted or altered). */
export class SecaggShareError extends CohortError {
  static override readonly name = 'SecaggShareError'
  readonly peer: string | undefined
  constructor(message: string, peer?: string) {
    super(message, 'COHORT_SECAGG_BAD_SHARE')
    this.peer = peer
  }
}

/** Which unmask rule a refused request broke. */
export type UnmaskRule =
  | 'overlap'
  | 'not-neighbour'
  | 'inconsistent'
  | 'below-threshold'
  | 'signatures'
  | 'double-reveal'

/**
 * The participant refuses to reveal shares: the survivor and dropped lists overlap, name peers whose
 * shares it does not hold, contradict the signed survivor set, have fewer than t survivors, lack
 * t consistency signatures, or would reveal both secrets of one peer.
 */
export class SecaggUnmaskRefusedError extends CohortError {
  static override readonly name = 'SecaggUnmaskRefusedError'
  readonly rule: UnmaskRule
  constructor(rule: UnmaskRule, message: string) {
    super(message, 'COHORT_SECAGG_UNMASK_REFUSED')
    this.rule = rule
  }
}

/** The consistency-check survivor set is malformed or unsafe for this participant. */
export class SecaggConsistencyError extends CohortError {
  static override readonly name = 'SecaggConsistencyError'
  constructor(message: string) {
    super(message, 'COHORT_SECAGG_INCONSISTENT')
  }
}

/** Fewer than t parties (or holders of some secret) remain: the round is aborted and nothing is revealed. */
export class SecaggBelowThresholdError extends CohortError {
  static override readonly name = 'SecaggBelowThresholdError'
  constructor(message: string) {
    super(message, 'COHORT_SECAGG_BELOW_THRESHOLD')
  }
}

/** A masked or input vector does not have d elements of the round's ring width. */
export class SecaggVectorLengthError extends CohortError {
  static override readonly name = 'SecaggVectorLengthError'
  constructor(message: string) {
    super(message, 'COHORT_SECAGG_VECTOR_LENGTH')
  }
}

/** A reply is inconsistent with what the coordinator asked for (wrong peer, round, share set). */
export class SecaggReplyError extends CohortError {
  static override readonly name = 'SecaggReplyError'
  constructor(message: string) {
    super(message, 'COHORT_SECAGG_BAD_REPLY')
  }
}

/** Revealed shares do not rebuild a consistent secret (a participant sent a wrong share). */
export class SecaggReconstructionError extends CohortError {
  static override readonly name = 'SecaggReconstructionError'
  constructor(message: string) {
    super(message, 'COHORT_SECAGG_RECONSTRUCTION_FAILED')
  }
}

/** A message names a (job, round) this node is not running. */
export class SecaggUnknownRoundError extends CohortError {
  static override readonly name = 'SecaggUnknownRoundError'
  constructor(message: string) {
    super(message, 'COHORT_SECAGG_UNKNOWN_ROUND')
  }
}

/** A (job, round) was already run here: keys and seeds are never reused, so it is refused. */
export class SecaggRoundReplayError extends CohortError {
  static override readonly name = 'SecaggRoundReplayError'
  constructor(message: string) {
    super(message, 'COHORT_SECAGG_ROUND_REPLAYED')
  }
}

/** The sender is not a federation coordinator, or not the coordinator that started this round. */
export class SecaggNotCoordinatorError extends CohortError {
  static override readonly name = 'SecaggNotCoordinatorError'
  constructor(message: string) {
    super(message, 'COHORT_SECAGG_NOT_COORDINATOR')
  }
}

/** The node already runs its maximum number of concurrent rounds. */
export class SecaggBusyError extends CohortError {
  static override readonly name = 'SecaggBusyError'
  constructor(message: string) {
    super(message, 'COHORT_SECAGG_BUSY')
  }
}

/** The round was aborted by its caller (abort signal) or by the coordinator. */
export class SecaggAbortedError extends CohortError {
  static override readonly name = 'SecaggAbortedError'
  constructor(message: string) {
    super(message, 'COHORT_SECAGG_ABORTED')
  }
}

/** Which part of a round's announcement falls short of the participant's policy. */
export type PolicyRule = 'participants' | 'threshold'

/**
 * The round announces fewer participants, or a lower threshold t, than this node's policy lets an
 * aggregate cover (its `minParticipants` for the job's dataset, and the job's own minimum).
 */
export class SecaggPolicyError extends CohortError {
  static override readonly name = 'SecaggPolicyError'
  readonly rule: PolicyRule
  constructor(rule: PolicyRule, message: string) {
    super(message, 'COHORT_SECAGG_POLICY_MIN_PARTICIPANTS')
    this.rule = rule
  }
}
