/**
 * State, input and output types of the SecAgg participant machine (participant.ts), shared with the
 * share-keys and unmask steps (participant-share-keys.ts, participant-unmask.ts), plus the helpers
 * that zero a state's secrets and attach the runner's identity signature to a reply.
 */
import type { KeyObject } from 'node:crypto'
import type { RingVector } from '../../crypto/ring.ts'
import type { PeerRef } from '../transport.ts'
import type { PairAuthSession } from './pair-auth.ts'
import { wipe } from './masking.ts'
import type {
  AbortRequest,
  AdvertiseKeysRequest,
  ConsistencyCheckRequest,
  MaskedInputRequest,
  SecaggReply,
  ShareKeysRequest,
  UnmaskRequest
} from './messages.ts'
import type { RoundContext } from './params.ts'
import type { ParticipantPhase, SecaggAuditKind } from './phases.ts'
import type { SharePair } from './shares.ts'

/** Parameters of {@link secaggParticipantMachine}.init. */
export interface ParticipantInit {
  /** This node's peer id. */
  self: PeerRef
  /** Peer ids allowed to take part (the federation's members with role `node`). */
  members: ReadonlySet<PeerRef>
  /**
   * The runner's pair-auth session (pair-auth.ts), shared by its rounds. @default a fresh session
   * for this round alone (every peer is then checked by signature)
   */
  auth?: PairAuthSession
}

/** This round's secret key material; every array is zeroed when no longer needed. */
export interface RoundKeys {
  cSk: Uint8Array
  cPk: Uint8Array
  sSk: Uint8Array
  sPk: Uint8Array
  b: Uint8Array
  /** OpenSSL objects of cSk and sSk for the agreements (not zeroable; dropped with the keys). */
  cObj: KeyObject
  sObj: KeyObject
}

/** Participant state. Treat as linear: use only the state a step returns. */
export interface ParticipantState {
  readonly phase: ParticipantPhase
  readonly self: PeerRef
  readonly members: ReadonlySet<PeerRef>
  readonly auth: PairAuthSession
  readonly ctx: RoundContext | undefined
  readonly keys: RoundKeys | undefined
  /** Neighbour bundles accepted in share-keys. */
  readonly peers: ReadonlyMap<PeerRef, { cPk: Uint8Array; sPk: Uint8Array }>
  /** Pairwise share-encryption keys (zeroed after masked-input). */
  readonly aeadKeys: Map<PeerRef, Uint8Array>
  /** Shares I hold, by owner (my own and my neighbours'). */
  readonly held: Map<PeerRef, SharePair>
  /** Neighbours whose shares I received and whose pair masks are in my masked input. */
  readonly maskedWith: readonly PeerRef[]
  /** The survivor set I signed in the consistency check. */
  readonly signedSurvivors: readonly PeerRef[] | undefined
  /** Owners whose self-mask share (b) I revealed. */
  readonly revealedSelf: ReadonlySet<PeerRef>
  /** Owners whose key share (s_sk) I revealed. */
  readonly revealedKey: ReadonlySet<PeerRef>
}

/** One input: a decoded request (plus, for masked-input, my quantised input vector). */
export type ParticipantInput =
  | { phase: 'advertise-keys'; request: AdvertiseKeysRequest }
  | { phase: 'share-keys'; request: ShareKeysRequest }
  | { phase: 'masked-input'; request: MaskedInputRequest; input: RingVector }
  | { phase: 'consistency-check'; request: ConsistencyCheckRequest }
  | { phase: 'unmask'; request: UnmaskRequest }
  | { phase: 'aborted'; request: AbortRequest }

/** An audit record for the runner to append (public values only: counts, hashes). */
export interface AuditRecord {
  kind: SecaggAuditKind
  body: Record<string, string | number | boolean | null>
}

/** Timings of one step, for benches (ms; not logged). */
export interface ParticipantStats {
  totalMs: number
  keyAgreementMs?: number
  prgMs?: number
  shamirMs?: number
  verifyMs?: number
  /** Messages of peers authenticated by their pair MAC / by their identity signature. */
  macChecks?: number
  signatureChecks?: number
}

/** What a step produces. */
export interface ParticipantOutput {
  reply: SecaggReply
  /** Bytes the runner must sign with the identity key; see {@link withSignature}. */
  toSign?: Uint8Array
  audit: AuditRecord[]
  stats: ParticipantStats
}

/** What `step` returns. */
export type ParticipantResult = { state: ParticipantState; output: ParticipantOutput }

/** Placeholder signature in replies whose `toSign` the runner has not signed yet. */
export const EMPTY_SIG = new Uint8Array(64)

/**
 * Puts the runner's identity signature into a reply whose step returned `toSign`.
 *
 * @example
 * const reply = withSignature(out.reply, await identity.privateKey.sign(out.toSign))
 */
export function withSignature(reply: SecaggReply, sig: Uint8Array): SecaggReply {
  if (reply.phase === 'advertise-keys') return { ...reply, bundle: { ...reply.bundle, sig } }
  if (reply.phase === 'consistency-check') return { ...reply, sig }
  return reply
}

/** Zeroes every secret a state holds. */
export function wipeParticipant(state: ParticipantState): void {
  if (state.keys !== undefined) wipe(state.keys.cSk, state.keys.sSk, state.keys.b)
  for (const key of state.aeadKeys.values()) wipe(key)
  state.aeadKeys.clear()
  for (const pair of state.held.values()) wipe(pair.b, pair.s)
  state.held.clear()
}
