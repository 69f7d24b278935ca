/**
 * State, input and output types of the SecAgg aggregator machine (aggregator.ts), shared with its
 * reconstruction step (aggregator-reconstruct.ts).
 *
 * Sets follow Bonawitz et al. 2017: U1 advertised keys, U2 shared keys, U3 sent masked inputs (the
 * parties whose inputs are in the sum), U4 signed the consistency check, U5 answered unmask.
 */
import type { CohortError } from '../../crypto/cohort-error.ts'
import type { Share } from '../../crypto/shamir.ts'
import type { RingVector } from '../../crypto/ring.ts'
import type { PeerRef } from '../transport.ts'
import type { KeyBundle, SecaggReply, SecaggRequest } from './messages.ts'
import type { RoundContext, RoundParams } from './params.ts'
import type { AggregatorPhase, SecaggPhase } from './phases.ts'

/** Parameters of the aggregator's `init`: the round as the coordinator announces it. */
export type AggregatorInit = RoundParams

/** A reply the aggregator refused (the peer is then treated as dropped from that phase on). */
export interface Rejection {
  peer: PeerRef
  phase: SecaggPhase
  code: string
  reason: string
}

/** Unmask-side timings (ms) and counts, for benches and the round's audit entry. */
export interface AggregatorStats {
  /** Whole final step: reconstruction and mask removal. */
  unmaskMs: number
  /** Lagrange interpolation of the revealed shares (precomputed coefficients per holder set). */
  shamirMs: number
  /** Re-deriving dropped parties' pair seeds (X25519 + HKDF). */
  pairAgreementMs: number
  /** Re-expanding and removing masks (PRG over d elements per mask). */
  prgMs: number
  selfMasksRemoved: number
  pairMasksRemoved: number
}

/** The outcome of a completed round. */
export interface SecaggResult {
  /** Σ x_u mod 2^ringBits over `survivors`. */
  sum: RingVector
  /** Parties whose inputs are in the sum (U3), in index order. */
  survivors: PeerRef[]
  /** Every other participant. */
  dropped: PeerRef[]
  rejected: Rejection[]
  stats: AggregatorStats
}

/** Aggregator state. Treat as linear: use only the state a step returns. */
export interface AggregatorState {
  phase: AggregatorPhase
  readonly ctx: RoundContext
  /** Peers sent a request in the current phase that have not replied yet. */
  awaiting: Set<PeerRef>
  readonly bundles: Map<PeerRef, KeyBundle>
  readonly keyOwner: Map<string, PeerRef>
  /** For each party asked to share keys: the neighbours whose bundles it received. */
  readonly bundlesSent: Map<PeerRef, ReadonlySet<PeerRef>>
  /** Encrypted shares waiting to be forwarded, by recipient. */
  readonly outbox: Map<PeerRef, Array<{ src: PeerRef; sealed: Uint8Array }>>
  readonly u2: Set<PeerRef>
  /** For each party asked for its masked input: the neighbours it masked with (index order). */
  readonly maskedWith: Map<PeerRef, readonly PeerRef[]>
  sum: RingVector | undefined
  readonly u3: Set<PeerRef>
  signed: readonly PeerRef[]
  readonly signatures: Map<PeerRef, Uint8Array>
  /** Each signer's pair MACs over the survivor set, by addressee (pair-auth.ts). */
  readonly consistencyMacs: Map<PeerRef, ReadonlyMap<PeerRef, Uint8Array>>
  readonly unmaskLists: Map<PeerRef, { survivors: ReadonlySet<PeerRef>; dropped: ReadonlySet<PeerRef> }>
  readonly selfShares: Map<PeerRef, Share[]>
  readonly keyShares: Map<PeerRef, Share[]>
  readonly finished: Set<PeerRef>
  readonly rejected: Rejection[]
}

/** One input: advance to the next phase, one reply of the current phase, or abort. */
export type AggregatorInput =
  | { kind: 'advance'; phase: SecaggPhase | 'done' }
  | { kind: 'reply'; phase: SecaggPhase; from: PeerRef; reply: SecaggReply }
  | { kind: 'abort'; phase: 'aborted'; reason: string }

/** What a step produces. */
export type AggregatorOutput =
  | { kind: 'requests'; phase: SecaggPhase; requests: Map<PeerRef, SecaggRequest> }
  | { kind: 'accepted'; peer: PeerRef }
  | { kind: 'rejected'; rejection: Rejection }
  | { kind: 'result'; result: SecaggResult }
  | { kind: 'aborted'; error: CohortError; notify: PeerRef[] }

/** What `step` returns. */
export type AggregatorResult = { state: AggregatorState; output: AggregatorOutput }
