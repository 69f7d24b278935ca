/**
 * SecAgg+ phases, transition tables, domain labels and audit kinds.
 *
 * Phases follow Bonawitz et al. 2017 (CCS, "Practical Secure Aggregation for Privacy-Preserving
 * Machine Learning", Fig. 4: AdvertiseKeys, ShareKeys, MaskedInputCollection, ConsistencyCheck,
 * Unmasking) with the sparse neighbour graph of Bell et al. 2020 (CCS, "Secure Single-Server
 * Aggregation with (Poly)Logarithmic Overhead"). The consistency check is the round of the
 * actively secure variant: participants sign the survivor set before anyone reveals a share, so a
 * coordinator cannot tell one participant "v survived" and another "v dropped" (README.md, threat
 * model). Flower's SecAgg+ (secaggplus_workflow.py) has no such round.
 */
import type { DomainLabel } from '../../crypto/kdf.ts'
import type { TransitionTable } from '../machine.ts'

/** The five request/response phases, in protocol order. */
export const SECAGG_PHASES = [
  'advertise-keys',
  'share-keys',
  'masked-input',
  'consistency-check',
  'unmask'
] as const
export type SecaggPhase = (typeof SECAGG_PHASES)[number]

/** Every phase a participant's state can be in. `init` = no message yet; `done`/`aborted` are terminal. */
export const PARTICIPANT_PHASES = ['init', ...SECAGG_PHASES, 'done', 'aborted'] as const
export type ParticipantPhase = (typeof PARTICIPANT_PHASES)[number]

/** Every phase the aggregator's state can be in. */
export const AGGREGATOR_PHASES = PARTICIPANT_PHASES
export type AggregatorPhase = ParticipantPhase

const NON_TERMINAL = ['init', ...SECAGG_PHASES] as const

/**
 * Participant: (phase of the last message handled, phase of the incoming message). `unmask` is
 * passed through inside one step (consistency-check -> unmask -> done). Any non-terminal state may
 * abort; terminal states accept nothing.
 */
export const PARTICIPANT_TRANSITIONS: TransitionTable = [
  ['init', 'advertise-keys'],
  ['advertise-keys', 'share-keys'],
  ['share-keys', 'masked-input'],
  ['masked-input', 'consistency-check'],
  ['consistency-check', 'unmask'],
  ['unmask', 'done'],
  ...NON_TERMINAL.filter((p) => p !== 'unmask').map((p) => [p, 'aborted'] as const)
]

/**
 * Aggregator: each phase collects replies (the self-loop) and then advances to the next phase; the
 * last advance (`unmask` -> `done`) reconstructs and removes the masks. Any non-terminal phase may
 * abort (below threshold, caller's signal).
 */
export const AGGREGATOR_TRANSITIONS: TransitionTable = [
  ['init', 'advertise-keys'],
  ...SECAGG_PHASES.map((p) => [p, p] as const),
  ['advertise-keys', 'share-keys'],
  ['share-keys', 'masked-input'],
  ['masked-input', 'consistency-check'],
  ['consistency-check', 'unmask'],
  ['unmask', 'done'],
  ...NON_TERMINAL.map((p) => [p, 'aborted'] as const)
]

/**
 * The phase after `phase`, or `done` after unmask.
 *
 * @example
 * nextPhase('share-keys') // 'masked-input'
 */
export function nextPhase(phase: SecaggPhase): SecaggPhase | 'done' {
  const i = SECAGG_PHASES.indexOf(phase)
  return i === SECAGG_PHASES.length - 1 ? 'done' : SECAGG_PHASES[i + 1]!
}

/** Signed key bundle: (jobId, round, peerId, c_pk, s_pk, a_pk). */
export const BUNDLE_LABEL: DomainLabel = 'cohort/secagg/key-bundle/v2'
/** Signed survivor set of the consistency check: (jobId, round, survivors). */
export const CONSISTENCY_LABEL: DomainLabel = 'cohort/secagg/consistency/v1'
/** Pairwise mask seed from an X25519 shared secret. */
export const PAIR_MASK_LABEL: DomainLabel = 'cohort/secagg/pair-mask/v1'
/** Context of a pairwise mask seed: (jobId, round, lower peer, higher peer). */
export const PAIR_CONTEXT_LABEL: DomainLabel = 'cohort/secagg/pair-context/v1'
/** Neighbour graph permutation seed. */
export const GRAPH_LABEL: DomainLabel = 'cohort/secagg/graph/v1'
/** Hashes of public values written to the audit log. */
export const AUDIT_HASH_LABEL: DomainLabel = 'cohort/secagg/audit/v1'

/** Audit entry kinds written by the participant runner (`secagg-<phase>` plus outcomes). */
export const SECAGG_AUDIT_KINDS = [
  'secagg-advertise-keys',
  'secagg-share-keys',
  'secagg-masked-input',
  'secagg-consistency-check',
  'secagg-unmask',
  'secagg-done',
  'secagg-aborted',
  'secagg-refused'
] as const
export type SecaggAuditKind = (typeof SECAGG_AUDIT_KINDS)[number]
