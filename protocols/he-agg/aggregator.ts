/**
 * The coordinator's side of one he-agg round, as a pure machine; coordinator/he-agg/run-round.ts
 * moves the bytes.
 *
 *   init -> submit* -> challenge -> digest* -> (drop -> digest*)* -> decrypt -> done
 *
 * - submit: each node's reply is checked (input signature by that node over the ciphertext hash we
 *   recompute, the vector loads under our parameters with the round's length) and added to the
 *   running sum; a bad reply is recorded as a rejection, never added;
 * - challenge: needs >= minParticipants contributions; serializes the sum, derives the Fiat–Shamir
 *   seed (./transcript.ts) and asks every contributor for its signed digest;
 * - drop: contributors that did not answer the challenge are removed; the sum is rebuilt from the
 *   others' stored ciphertexts and a new seed issued (dropouts need no recovery: the sum is over
 *   whoever completed);
 * - decrypt: the request for the key-holder: the sum plus every contribution's hash, signatures and
 *   digest — never an individual ciphertext.
 */
import { bfvAddInPlace, bfvSum, loadBfvVector, saveVector } from '../../crypto/he/index.ts'
import type { BfvVector, HeContext, SerializedHeVector } from '../../crypto/he/index.ts'
import { isCohortError } from '../../crypto/cohort-error.ts'
import { ed25519KeyFromPeerId, verifyCanonical } from '../../crypto/sign.ts'
import { PROTOCOLS } from '../ids.ts'
import type { Machine, TransitionTable } from '../machine.ts'
import { assertTransition } from '../machine.ts'
import { HeAggBelowMinimumError, HeAggContributionError, HeAggParamsError } from './errors.ts'
import type { KeyAnnouncement } from './key-announcement.ts'
import { HE_AGG_WIRE_VERSION } from './messages.ts'
import type {
  HeAggChallenge,
  HeAggChallengeReply,
  HeAggContribution,
  HeAggDecrypt,
  HeAggSubmit,
  HeAggSubmitReply
} from './messages.ts'
import {
  challengeSeed,
  ciphertextHash,
  DIGEST_LABEL,
  digestFields,
  INPUT_LABEL,
  inputFields,
  sumHash
} from './transcript.ts'

/**
 * Every phase of the aggregator's state.
 * @example
 * for (const p of AGGREGATOR_PHASES) isTransitionAllowed(HE_AGG_AGGREGATOR_TRANSITIONS, 'init', p)
 */
export const AGGREGATOR_PHASES = [
  'init',
  'submit',
  'challenge',
  'digest',
  'drop',
  'decrypt',
  'done',
  'aborted'
] as const
/**
 * A phase of the aggregator's state.
 * @example
 * const phase: HeAggAggregatorPhase = state.phase
 */
export type HeAggAggregatorPhase = (typeof AGGREGATOR_PHASES)[number]

/**
 * The aggregator's (from, to) phase pairs: collection self-loops, drop/re-challenge loops, abort from any live phase.
 * @example
 * assertTransition(HE_AGG_AGGREGATOR_TRANSITIONS, 'digest', 'decrypt')
 */
export const HE_AGG_AGGREGATOR_TRANSITIONS: TransitionTable = [
  ['init', 'submit'],
  ['submit', 'submit'],
  ['init', 'challenge'],
  ['submit', 'challenge'],
  ['challenge', 'digest'],
  ['digest', 'digest'],
  ['challenge', 'drop'],
  ['digest', 'drop'],
  ['drop', 'digest'],
  ['drop', 'drop'],
  ['digest', 'decrypt'],
  ['decrypt', 'done'],
  ...(['init', 'submit', 'challenge', 'digest', 'drop', 'decrypt'] as const).map(
    (p) => [p, 'aborted'] as const
  )
]

/**
 * The round's parameters.
 * @example
 * heAggAggregatorMachine.init({ jobId, round, context, announcement, participants, length, maxAbsPerParty, minParticipants } satisfies HeAggRoundParams)
 */
export interface HeAggRoundParams {
  jobId: string
  round: number
  context: HeContext
  announcement: KeyAnnouncement
  participants: readonly string[]
  length: number
  maxAbsPerParty: number
  minParticipants: number
}

interface Contribution {
  wire: SerializedHeVector
  ctHash: Uint8Array
  sig: Uint8Array
}

/**
 * A refused reply.
 * @example
 * for (const r of state.rejected satisfies HeAggRejection[]) log(r.peer, r.code)
 */
export interface HeAggRejection {
  peer: string
  phase: string
  code: string
  reason: string
}

/**
 * The coordinator's round state (the running sum, contributions, digests).
 * @example
 * let state: HeAggAggregatorState = heAggAggregatorMachine.init(params)
 */
export interface HeAggAggregatorState {
  phase: HeAggAggregatorPhase
  params: HeAggRoundParams
  contributions: Map<string, Contribution>
  digests: Map<string, { digest: number[]; sig: Uint8Array }>
  sum?: BfvVector
  sumWire?: SerializedHeVector
  seed?: Uint8Array
  rejected: HeAggRejection[]
}

/**
 * One input: a reply, or an advance to the next phase.
 * @example
 * heAggAggregatorMachine.step(state, { phase: 'challenge' } satisfies HeAggAggregatorInput)
 */
export type HeAggAggregatorInput =
  | { phase: 'submit'; peer: string; reply: HeAggSubmitReply }
  | { phase: 'challenge' }
  | { phase: 'digest'; peer: string; reply: HeAggChallengeReply }
  | { phase: 'drop'; peers: readonly string[] }
  | { phase: 'decrypt' }
  | { phase: 'done'; values: Float64Array; contributors: readonly string[] }
  | { phase: 'aborted'; reason: string }

/**
 * What the driver sends next (challenges, the decrypt request) or the checked sum.
 * @example
 * const { challenges }: HeAggAggregatorOutput = heAggAggregatorMachine.step(state, { phase: 'challenge' }).output
 */
export interface HeAggAggregatorOutput {
  /** challenge / drop: the request for each contributor. */
  challenges?: Map<string, HeAggChallenge>
  /** decrypt: the request for the key-holder. */
  decrypt?: HeAggDecrypt
  /** done: the checked plaintext sum. */
  sum?: Float64Array
}

/**
 * The submit request every participant gets.
 *
 * @example
 * const req = submitRequest(params)
 */
export function submitRequest(p: HeAggRoundParams): HeAggSubmit {
  return {
    v: HE_AGG_WIRE_VERSION,
    jobId: p.jobId,
    round: p.round,
    keyId: p.announcement.keyId,
    phase: 'submit',
    announcement: p.announcement,
    length: p.length,
    maxAbsPerParty: p.maxAbsPerParty,
    minParticipants: p.minParticipants
  }
}

function refOf(p: HeAggRoundParams) {
  return { jobId: p.jobId, round: p.round, keyId: p.announcement.keyId }
}

function reject(state: HeAggAggregatorState, peer: string, phase: string, err: unknown): void {
  state.rejected.push({
    peer,
    phase,
    code: isCohortError(err) ? err.code : 'COHORT_INTERNAL',
    reason: String((err as Error)?.message ?? err).slice(0, 300)
  })
}

function collect(state: HeAggAggregatorState, peer: string, reply: HeAggSubmitReply): void {
  const p = state.params
  try {
    if (!p.participants.includes(peer))
      throw new HeAggContributionError(`${peer} was not asked for a contribution`, peer)
    if (state.contributions.has(peer)) throw new HeAggContributionError(`${peer} already contributed`, peer)
    const ref = refOf(p)
    const wire = reply.ciphertext as SerializedHeVector
    const ctHash = ciphertextHash(ref, wire)
    if (Buffer.compare(Buffer.from(ctHash), Buffer.from(reply.ctHash)) !== 0) {
      throw new HeAggContributionError(
        `${peer} sent a ciphertext hash that does not match its ciphertext`,
        peer
      )
    }
    if (!verifyCanonical(ed25519KeyFromPeerId(peer), INPUT_LABEL, inputFields(ref, ctHash), reply.sig)) {
      throw new HeAggContributionError(`the input signature of ${peer} does not verify`, peer)
    }
    using vec = loadBfvVector(p.context, wire, { expectedLength: p.length })
    if (state.sum === undefined) state.sum = bfvSum([vec])
    else bfvAddInPlace(state.sum, vec)
    state.contributions.set(peer, { wire, ctHash, sig: reply.sig })
  } catch (err) {
    reject(state, peer, 'submit', err)
  }
}

function issueChallenges(state: HeAggAggregatorState): HeAggAggregatorOutput {
  const p = state.params
  if (state.contributions.size < p.minParticipants) {
    throw new HeAggBelowMinimumError(state.contributions.size, p.minParticipants)
  }
  const ref = refOf(p)
  state.sumWire = saveVector(state.sum!)
  const list = [...state.contributions].map(([peer, c]) => ({ peer, ctHash: c.ctHash }))
  state.seed = challengeSeed(ref, sumHash(ref, state.sumWire), list)
  state.digests.clear()
  const challenges = new Map<string, HeAggChallenge>()
  for (const peer of state.contributions.keys()) {
    challenges.set(peer, { v: HE_AGG_WIRE_VERSION, ...ref, phase: 'challenge', seed: state.seed })
  }
  return { challenges }
}

function acceptDigest(state: HeAggAggregatorState, peer: string, reply: HeAggChallengeReply): void {
  try {
    const c = state.contributions.get(peer)
    if (c === undefined) throw new HeAggContributionError(`${peer} is not a contributor`, peer)
    const fields = digestFields(refOf(state.params), c.ctHash, state.seed!, reply.digest)
    if (!verifyCanonical(ed25519KeyFromPeerId(peer), DIGEST_LABEL, fields, reply.sig)) {
      throw new HeAggContributionError(`the digest signature of ${peer} does not verify`, peer)
    }
    state.digests.set(peer, { digest: [...reply.digest], sig: reply.sig })
  } catch (err) {
    reject(state, peer, 'digest', err)
  }
}

function drop(state: HeAggAggregatorState, peers: readonly string[]): HeAggAggregatorOutput {
  for (const peer of peers) state.contributions.delete(peer)
  state.sum?.dispose()
  state.sum = undefined
  const p = state.params
  if (state.contributions.size < p.minParticipants) {
    throw new HeAggBelowMinimumError(state.contributions.size, p.minParticipants)
  }
  for (const c of state.contributions.values()) {
    using vec = loadBfvVector(p.context, c.wire, { expectedLength: p.length })
    if (state.sum === undefined) state.sum = bfvSum([vec])
    else bfvAddInPlace(state.sum, vec)
  }
  return issueChallenges(state)
}

function decryptRequest(state: HeAggAggregatorState): HeAggAggregatorOutput {
  const p = state.params
  const missing = [...state.contributions.keys()].filter((peer) => !state.digests.has(peer))
  if (missing.length > 0)
    throw new HeAggParamsError(`no digest yet from ${missing.length} contributors: drop them first`)
  const contributions: HeAggContribution[] = [...state.contributions].map(([peer, c]) => {
    const d = state.digests.get(peer)!
    return { peer, ctHash: c.ctHash, sig: c.sig, digest: d.digest, digestSig: d.sig }
  })
  const wire = state.sumWire!
  return {
    decrypt: {
      v: HE_AGG_WIRE_VERSION,
      ...refOf(p),
      phase: 'decrypt',
      sum: { scheme: 'bfv', length: wire.length, chunks: [...wire.chunks] },
      maxAbsPerParty: p.maxAbsPerParty,
      minParticipants: p.minParticipants,
      contributions
    }
  }
}

/**
 * The he-agg aggregator machine.
 *
 * @example
 * let s = heAggAggregatorMachine.init(params)
 * s = heAggAggregatorMachine.step(s, { phase: 'submit', peer, reply }).state
 */
export const heAggAggregatorMachine: Machine<
  HeAggAggregatorState,
  HeAggAggregatorInput,
  HeAggAggregatorOutput
> = {
  protocol: PROTOCOLS.heAgg,
  transitions: HE_AGG_AGGREGATOR_TRANSITIONS,
  init(params: unknown): HeAggAggregatorState {
    const p = params as HeAggRoundParams
    if (typeof p?.jobId !== 'string' || !Array.isArray(p.participants) || p.minParticipants < 2) {
      throw new HeAggParamsError(
        'he-agg round needs { jobId, round, context, announcement, participants, length, maxAbsPerParty, minParticipants >= 2 }'
      )
    }
    return { phase: 'init', params: p, contributions: new Map(), digests: new Map(), rejected: [] }
  },
  step(state, input) {
    assertTransition(HE_AGG_AGGREGATOR_TRANSITIONS, state.phase, input.phase)
    let output: HeAggAggregatorOutput = {}
    switch (input.phase) {
      case 'submit':
        collect(state, input.peer, input.reply)
        break
      case 'challenge':
        output = issueChallenges(state)
        break
      case 'digest':
        acceptDigest(state, input.peer, input.reply)
        break
      case 'drop':
        output = drop(state, input.peers)
        break
      case 'decrypt':
        output = decryptRequest(state)
        break
      case 'done': {
        const expected = [...state.contributions.keys()].sort()
        if (
          input.values.length !== state.params.length ||
          expected.join('\n') !== [...input.contributors].sort().join('\n')
        ) {
          throw new HeAggParamsError('the key-holder answered for another set of contributors or length')
        }
        output = { sum: input.values }
        state.sum?.dispose()
        break
      }
      case 'aborted':
        state.sum?.dispose()
        break
    }
    state.phase = input.phase
    return { state, output }
  }
}
