/**
 * The key-holder's side of one he-agg round, as a pure machine: `init --decrypt--> decrypt`.
 * It decrypts at most once per round (the runner keeps the register of decrypted rounds) and only
 * when every rule holds, in this order:
 *
 * 1. the request comes from a federation coordinator, and we are a key-holder that is not one
 *    (COHORT_HE_AGG_ROLE); the key id is ours (COHORT_HE_AGG_KEY);
 * 2. every listed contribution is from a distinct federation node (not a coordinator), carries a
 *    valid input signature over (job, round, key, ctHash) and a valid digest signature over
 *    (job, round, key, ctHash, seed, digest), where seed is recomputed HERE from the sum we received
 *    and the contribution list (COHORT_HE_AGG_BAD_CONTRIBUTION);
 * 3. there are at least max(our policy, the round's) minParticipants of them
 *    (COHORT_HE_AGG_BELOW_MINIMUM): a "sum" of one contribution is that contribution;
 * 4. the sum loads under our parameters with the round's length, and its digest equals the sum of
 *    the signed digests (COHORT_HE_AGG_SUM_MISMATCH): the ciphertext is the sum of exactly those
 *    contributions, not a subset, a single one or anything else;
 * 5. decryption with maxAbs = count × maxAbsPerParty (a wrapped or out-of-bound sum is refused).
 */
import { bfvDecryptVector, bfvMaxAbs, loadBfvVector } from '../../crypto/he/index.ts'
import type { HeContext, HeKeySet } from '../../crypto/he/index.ts'
import { ed25519KeyFromPeerId, verifyCanonical } from '../../crypto/sign.ts'
import { PROTOCOLS } from '../ids.ts'
import type { Machine, TransitionTable } from '../machine.ts'
import { assertTransition } from '../machine.ts'
import { nonCollusionStatement } from './assumption.ts'
import { digestsSumTo, vectorDigest } from './digest.ts'
import {
  HeAggBelowMinimumError,
  HeAggContributionError,
  HeAggKeyError,
  HeAggParamsError,
  HeAggRoleError,
  HeAggSumMismatchError
} from './errors.ts'
import { assertKeyholderRoles } from './key-announcement.ts'
import type { RolesOf } from './key-announcement.ts'
import type { HeAggDecrypt } from './messages.ts'
import { challengeSeed, DIGEST_LABEL, digestFields, INPUT_LABEL, inputFields, sumHash } from './transcript.ts'

/**
 * Every phase of a key-holder round.
 * @example
 * for (const p of DECRYPTOR_PHASES) isTransitionAllowed(HE_AGG_DECRYPTOR_TRANSITIONS, 'init', p)
 */
export const DECRYPTOR_PHASES = ['init', 'decrypt', 'aborted'] as const
/**
 * A key-holder round decrypts once: init -> decrypt (or aborted).
 * @example
 * assertTransition(HE_AGG_DECRYPTOR_TRANSITIONS, 'init', 'decrypt')
 */
export const HE_AGG_DECRYPTOR_TRANSITIONS: TransitionTable = [
  ['init', 'decrypt'],
  ['init', 'aborted']
]

/**
 * What the key-holder brings.
 * @example
 * heAggDecryptorMachine.init({ self, context, rolesOf, keys: keyring.keys, minParticipants: 3 } satisfies HeAggDecryptorParams)
 */
export interface HeAggDecryptorParams {
  self: string
  context: HeContext
  rolesOf: RolesOf
  /** Our key sets by key id. */
  keys: ReadonlyMap<string, HeKeySet>
  /** Smallest number of contributions we ever decrypt a sum of (>= 2). */
  minParticipants: number
}

/**
 * A key-holder round.
 * @example
 * const s: HeAggDecryptorState = heAggDecryptorMachine.init(params)
 */
export interface HeAggDecryptorState {
  phase: (typeof DECRYPTOR_PHASES)[number]
  params: HeAggDecryptorParams
}

/**
 * The decrypt request and its (transport-authenticated) sender.
 * @example
 * heAggDecryptorMachine.step(s, { phase: 'decrypt', from, request } satisfies HeAggDecryptorInput)
 */
export type HeAggDecryptorInput =
  | { phase: 'decrypt'; from: string; request: HeAggDecrypt }
  | { phase: 'aborted'; from: string }

/**
 * The plaintext sum, its contributors and the audit record to append first.
 * @example
 * const { values, audit }: HeAggDecryptorOutput = heAggDecryptorMachine.step(s, input).output
 */
export interface HeAggDecryptorOutput {
  values?: Float64Array
  contributors?: string[]
  audit: Array<{ kind: string; body: Record<string, unknown> }>
}

function decrypt(p: HeAggDecryptorParams, from: string, req: HeAggDecrypt): HeAggDecryptorOutput {
  if (!p.rolesOf(from).includes('coordinator'))
    throw new HeAggRoleError(`${from} is not a coordinator of this federation`)
  assertKeyholderRoles(p.rolesOf, p.self)
  const keys = p.keys.get(req.keyId)
  if (keys === undefined) throw new HeAggKeyError(`no key ${req.keyId} here`)
  const ref = { jobId: req.jobId, round: req.round, keyId: req.keyId }
  const seed = challengeSeed(ref, sumHash(ref, req.sum), req.contributions)
  const seen = new Set<string>()
  for (const c of req.contributions) {
    if (seen.has(c.peer))
      throw new HeAggContributionError(`contribution of ${c.peer} is listed twice`, c.peer)
    seen.add(c.peer)
    const roles = p.rolesOf(c.peer)
    if (!roles.includes('node') || roles.includes('coordinator')) {
      throw new HeAggContributionError(`${c.peer} is not a federation node`, c.peer)
    }
    let key: Uint8Array
    try {
      key = ed25519KeyFromPeerId(c.peer)
    } catch {
      throw new HeAggContributionError(`${c.peer} is not an Ed25519 peer id`, c.peer)
    }
    if (!verifyCanonical(key, INPUT_LABEL, inputFields(ref, c.ctHash), c.sig)) {
      throw new HeAggContributionError(`the input signature of ${c.peer} does not verify`, c.peer)
    }
    if (!verifyCanonical(key, DIGEST_LABEL, digestFields(ref, c.ctHash, seed, c.digest), c.digestSig)) {
      throw new HeAggContributionError(
        `the digest signature of ${c.peer} does not verify for this sum`,
        c.peer
      )
    }
  }
  const minimum = Math.max(2, p.minParticipants, req.minParticipants)
  if (seen.size < minimum) throw new HeAggBelowMinimumError(seen.size, minimum)
  const maxAbs = seen.size * req.maxAbsPerParty
  if (maxAbs > bfvMaxAbs(p.context))
    throw new HeAggParamsError('count × maxAbsPerParty exceeds the plaintext range')
  using sum = loadBfvVector(p.context, req.sum)
  if (
    !digestsSumTo(
      req.contributions.map((c) => c.digest),
      vectorDigest(sum, seed),
      p.context.coeffModuli
    )
  ) {
    throw new HeAggSumMismatchError()
  }
  const values = bfvDecryptVector(keys.secretKey, sum, { maxAbs })
  const contributors = [...seen].sort()
  return {
    values,
    contributors,
    audit: [
      {
        kind: 'he-agg-decrypted',
        body: {
          ...ref,
          coordinator: from,
          contributors,
          count: contributors.length,
          minParticipants: minimum,
          maxAbs,
          length: req.sum.length,
          sumHash: Buffer.from(sumHash(ref, req.sum)).toString('hex'),
          assumption: nonCollusionStatement(from, p.self)
        }
      }
    ]
  }
}

/**
 * The he-agg decryptor (key-holder) machine.
 *
 * @example
 * const s = heAggDecryptorMachine.init(params)
 * const { output } = heAggDecryptorMachine.step(s, { phase: 'decrypt', from, request })
 */
export const heAggDecryptorMachine: Machine<HeAggDecryptorState, HeAggDecryptorInput, HeAggDecryptorOutput> =
  {
    protocol: PROTOCOLS.heAgg,
    transitions: HE_AGG_DECRYPTOR_TRANSITIONS,
    init(params: unknown): HeAggDecryptorState {
      const p = params as HeAggDecryptorParams
      if (typeof p?.self !== 'string' || !(p.keys instanceof Map) || !Number.isInteger(p.minParticipants)) {
        throw new HeAggParamsError('he-agg decryptor needs { self, context, rolesOf, keys, minParticipants }')
      }
      return { phase: 'init', params: p }
    },
    step(state, input) {
      assertTransition(HE_AGG_DECRYPTOR_TRANSITIONS, state.phase, input.phase)
      const output =
        input.phase === 'decrypt' ? decrypt(state.params, input.from, input.request) : { audit: [] }
      state.phase = input.phase
      return { state, output }
    }
  }
