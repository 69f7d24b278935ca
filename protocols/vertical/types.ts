import type { DpEvent } from '../../crypto/dp/events.ts'
import type { AbortOptions, PeerRef, Transport } from '../transport.ts'

/**
 * Contract between the vertical-learning protocols (protocols/vertical/lr, protocols/vertical/kmeans)
 * and the code that runs them (node/runners/vertical-*.ts, simulations, benches).
 *
 * Rows are aligned before a session starts: after PSI every party holds the same intersection of
 * customer ids, and row i of every party's {@link VerticalSlice} is the i-th id of that intersection in
 * ascending byte order of the normalised id. The train/test assignment is the label party's (it owns
 * the split rule) and is announced in the session plan as a per-row flag; it reveals only which
 * aligned rows are held out.
 */

/** One party of a vertical session. */
export interface VerticalParty {
  /** Transport address (libp2p peer id, or a simulation party id). */
  readonly peer: PeerRef
  /** Human name for logs and reports (node name / partition party name). */
  readonly name: string
  readonly role: 'label' | 'feature'
}

/**
 * A party's local, aligned, already-preprocessed feature slice. Never leaves the party.
 * Features are standardized by the party itself with statistics of its own training rows.
 */
export interface VerticalSlice {
  readonly rows: number
  readonly cols: number
  /** Row-major rows × cols. */
  readonly x: Float64Array
  readonly featureNames: readonly string[]
  /** 0/1 labels, label party only (length rows). */
  readonly y?: Uint8Array
}

/**
 * Privacy charge hook: called (and awaited) before any DP-protected value leaves the party.
 * `event` is the release as a DP event (crypto/dp/events.ts): the ledger books that, so it composes
 * exactly with the node's other releases (an (ε, δ) pair cannot be composed soundly: booked as
 * pure-DP stand-ins, a multi-epoch Gaussian run would show less than it spent). `epsilon` / `delta`
 * are what the release costs on its own, for logs.
 */
export type VerticalCharge = (charge: {
  epsilon: number
  delta: number
  mechanism: string
  event: DpEvent
}) => Promise<void>

/** Progress callback for long sessions (one call per epoch / iteration). */
export type VerticalProgress = (event: {
  phase: string
  step: number
  of: number
  metrics?: Record<string, number>
}) => void

/** Common inputs of every vertical party runner. */
export interface VerticalPartyContext extends AbortOptions {
  readonly transport: Transport
  /** Unique per job; binds every message (replays from another session are refused). */
  readonly sessionId: string
  /** Every party, this one included, in the same order at every party; exactly one label party. */
  readonly parties: readonly VerticalParty[]
  readonly slice: VerticalSlice
  /** Per-request timeout. @default 60000 */
  readonly timeoutMs?: number
  readonly onProgress?: VerticalProgress
  /** Charged before a DP release (label party for gradient noise; any party for k-means releases). */
  readonly charge?: VerticalCharge
}
