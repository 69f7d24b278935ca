/**
 * The node side of one he-agg round, as a pure machine (encryption and digests are computation,
 * signatures are left to the runner as bytes `toSign`).
 *
 *   init --submit--> submit --challenge--> challenge (up to MAX_CHALLENGES times) --done--> done
 *
 * Rules:
 * - the round's key is accepted only through a key-holder's signed announcement matching the
 *   fingerprint our own job configuration pins (./key-announcement.ts);
 * - minParticipants must be at least our policy's minimum; the vector has the declared length and
 *   every value respects the declared per-party bound (we never send what the key-holder would
 *   refuse to decode);
 * - one submission per (job, round): a second submit is a replay (the runner remembers rounds);
 * - challenges come from the coordinator that got our ciphertext, at most MAX_CHALLENGES per round
 *   (a new challenge follows a dropout among the contributors); digests reveal nothing (./digest.ts).
 */
import { bfvMaxAbs, saveVector } from '../../crypto/he/index.ts'
import { bfvEncryptVector } from '../../crypto/he/index.ts'
import type { BfvVector, HeContext, HePublicKey } from '../../crypto/he/index.ts'
import { encodeCanonical } from '../../crypto/hash.ts'
import { PROTOCOLS } from '../ids.ts'
import type { Machine, TransitionTable } from '../machine.ts'
import { assertTransition } from '../machine.ts'
import { nonCollusionStatement } from './assumption.ts'
import { vectorDigest } from './digest.ts'
import { HeAggParamsError, HeAggRoleError } from './errors.ts'
import { checkAnnouncement, verifyAnnouncement } from './key-announcement.ts'
import type { KeyAnnouncement, RolesOf } from './key-announcement.ts'
import { HE_AGG_WIRE_VERSION } from './messages.ts'
import type { HeAggChallenge, HeAggChallengeReply, HeAggSubmit, HeAggSubmitReply } from './messages.ts'
import { ciphertextHash, DIGEST_LABEL, digestFields, INPUT_LABEL, inputFields } from './transcript.ts'

/**
 * Challenges a node answers per round.
 * @example
 * if (state.challenges >= MAX_CHALLENGES) refuse()
 */
export const MAX_CHALLENGES = 4

/**
 * Every phase of a node's round.
 * @example
 * for (const p of PARTICIPANT_PHASES) isTransitionAllowed(HE_AGG_PARTICIPANT_TRANSITIONS, 'init', p)
 */
export const PARTICIPANT_PHASES = ['init', 'submit', 'challenge', 'done', 'aborted'] as const
/**
 * A phase of a node's round.
 * @example
 * const phase: HeAggParticipantPhase = state.phase
 */
export type HeAggParticipantPhase = (typeof PARTICIPANT_PHASES)[number]

/**
 * A node's (from, to) phase pairs: submit once, answer challenges, close.
 * @example
 * assertTransition(HE_AGG_PARTICIPANT_TRANSITIONS, 'submit', 'challenge')
 */
export const HE_AGG_PARTICIPANT_TRANSITIONS: TransitionTable = [
  ['init', 'submit'],
  ['submit', 'challenge'],
  ['challenge', 'challenge'],
  ['submit', 'done'],
  ['challenge', 'done'],
  ['init', 'aborted'],
  ['submit', 'aborted'],
  ['challenge', 'aborted']
]

/**
 * What the node brings to a round.
 * @example
 * heAggParticipantMachine.init({ self, context, rolesOf, pinnedFingerprint, minParticipants: 3, keyCache } satisfies HeAggParticipantParams)
 */
export interface HeAggParticipantParams {
  self: string
  context: HeContext
  rolesOf: RolesOf
  /** Fingerprint of the key our job configuration pins. */
  pinnedFingerprint: string
  /** Smallest minParticipants we accept. */
  minParticipants: number
  /** Loaded public keys by fingerprint (shared across rounds; owned by the runner). */
  keyCache: Map<string, HePublicKey>
}

/**
 * A round at a node.
 * @example
 * let state: HeAggParticipantState = heAggParticipantMachine.init(params)
 */
export interface HeAggParticipantState {
  phase: HeAggParticipantPhase
  params: HeAggParticipantParams
  coordinator?: string
  ref?: { jobId: string; round: number; keyId: string }
  ciphertext?: BfvVector
  ctHash?: Uint8Array
  challenges: number
}

/**
 * One input of a node's round.
 * @example
 * heAggParticipantMachine.step(state, { phase: 'challenge', from, request } satisfies HeAggParticipantInput)
 */
export type HeAggParticipantInput =
  | { phase: 'submit'; from: string; request: HeAggSubmit; values: ArrayLike<number> }
  | { phase: 'challenge'; from: string; request: HeAggChallenge }
  | { phase: 'done' | 'aborted'; from: string; reason?: string }

/**
 * The step's output: an unsigned reply, the bytes to sign, audit records.
 * @example
 * const { reply, toSign, audit }: HeAggParticipantOutput = heAggParticipantMachine.step(state, input).output
 */
export interface HeAggParticipantOutput {
  reply?: Omit<HeAggSubmitReply, 'sig'> | Omit<HeAggChallengeReply, 'sig'>
  toSign?: Uint8Array
  audit: Array<{ kind: string; body: Record<string, unknown> }>
}

function publicKeyFor(params: HeAggParticipantParams, a: KeyAnnouncement): HePublicKey {
  const check = { pinnedFingerprint: params.pinnedFingerprint, rolesOf: params.rolesOf }
  const cached = params.keyCache.get(a.keyFingerprint)
  if (cached !== undefined && !cached.disposed) {
    // The cached key's bytes hashed to this (pinned) fingerprint when it was loaded; roles, pin and
    // signature are re-checked for every round.
    checkAnnouncement(params.context, a, check)
    return cached
  }
  const pk = verifyAnnouncement(params.context, a, check)
  params.keyCache.set(a.keyFingerprint, pk)
  return pk
}

function submit(
  state: HeAggParticipantState,
  from: string,
  req: HeAggSubmit,
  values: ArrayLike<number>
): HeAggParticipantOutput {
  const p = state.params
  const a = req.announcement as KeyAnnouncement
  if (a.keyId !== req.keyId) throw new HeAggParamsError('the announcement is for another key id')
  if (req.minParticipants < p.minParticipants) {
    throw new HeAggParamsError(
      `minParticipants ${req.minParticipants} is below our policy of ${p.minParticipants}`
    )
  }
  if (req.maxAbsPerParty * req.minParticipants > bfvMaxAbs(p.context)) {
    throw new HeAggParamsError('maxAbsPerParty × minParticipants exceeds the plaintext range')
  }
  if (values.length !== req.length)
    throw new HeAggParamsError(`our update has ${values.length} values, the round expects ${req.length}`)
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (!Number.isSafeInteger(v) || Math.abs(v) > req.maxAbsPerParty) {
      throw new HeAggParamsError(
        `value ${i} is not an integer within ±${req.maxAbsPerParty}: clip and quantise first`
      )
    }
  }
  const pk = publicKeyFor(p, a)
  const ref = { jobId: req.jobId, round: req.round, keyId: req.keyId }
  const ciphertext = bfvEncryptVector(pk, values)
  const wire = saveVector(ciphertext)
  const ctHash = ciphertextHash(ref, wire)
  state.coordinator = from
  state.ref = ref
  state.ciphertext = ciphertext
  state.ctHash = ctHash
  return {
    reply: {
      v: HE_AGG_WIRE_VERSION,
      ciphertext: { scheme: 'bfv', length: wire.length, chunks: [...wire.chunks] },
      ctHash
    },
    toSign: encodeCanonical(INPUT_LABEL, inputFields(ref, ctHash)),
    audit: [
      {
        kind: 'he-agg-input-sent',
        body: {
          ...ref,
          coordinator: from,
          keyholder: a.keyholder,
          keyFingerprint: a.keyFingerprint,
          ctHash: Buffer.from(ctHash).toString('hex'),
          length: req.length,
          chunks: wire.chunks.length,
          maxAbsPerParty: req.maxAbsPerParty,
          minParticipants: req.minParticipants,
          assumption: nonCollusionStatement(from, a.keyholder)
        }
      }
    ]
  }
}

function challenge(state: HeAggParticipantState, from: string, req: HeAggChallenge): HeAggParticipantOutput {
  const ref = state.ref!
  if (from !== state.coordinator)
    throw new HeAggRoleError(`${from} did not receive our ciphertext for this round`)
  if (req.jobId !== ref.jobId || req.round !== ref.round || req.keyId !== ref.keyId) {
    throw new HeAggParamsError('challenge for another round or key')
  }
  if (state.challenges >= MAX_CHALLENGES)
    throw new HeAggParamsError(`more than ${MAX_CHALLENGES} challenges in one round`)
  state.challenges++
  const digest = vectorDigest(state.ciphertext!, req.seed)
  return {
    reply: { v: HE_AGG_WIRE_VERSION, digest },
    toSign: encodeCanonical(DIGEST_LABEL, digestFields(ref, state.ctHash!, req.seed, digest)),
    audit: [
      {
        kind: 'he-agg-digest-sent',
        body: {
          ...ref,
          coordinator: from,
          seed: Buffer.from(req.seed).toString('hex'),
          challenge: state.challenges
        }
      }
    ]
  }
}

/**
 * The he-agg participant machine.
 *
 * @example
 * let s = heAggParticipantMachine.init(params)
 * const { state, output } = heAggParticipantMachine.step(s, { phase: 'submit', from, request, values })
 */
export const heAggParticipantMachine: Machine<
  HeAggParticipantState,
  HeAggParticipantInput,
  HeAggParticipantOutput
> = {
  protocol: PROTOCOLS.heAgg,
  transitions: HE_AGG_PARTICIPANT_TRANSITIONS,
  init(params: unknown): HeAggParticipantState {
    const p = params as HeAggParticipantParams
    if (
      typeof p?.self !== 'string' ||
      typeof p.pinnedFingerprint !== 'string' ||
      !(p.keyCache instanceof Map)
    ) {
      throw new HeAggParamsError(
        'he-agg participant needs { self, context, rolesOf, pinnedFingerprint, minParticipants, keyCache }'
      )
    }
    return { phase: 'init', params: p, challenges: 0 }
  },
  step(state, input) {
    assertTransition(HE_AGG_PARTICIPANT_TRANSITIONS, state.phase, input.phase)
    let output: HeAggParticipantOutput
    if (input.phase === 'submit') output = submit(state, input.from, input.request, input.values)
    else if (input.phase === 'challenge') output = challenge(state, input.from, input.request)
    else {
      state.ciphertext?.dispose()
      state.ciphertext = undefined
      output = {
        audit:
          input.phase === 'aborted'
            ? [{ kind: 'he-agg-aborted', body: { ...(state.ref ?? {}), reason: input.reason ?? null } }]
            : []
      }
    }
    state.phase = input.phase
    return { state, output }
  }
}
