/**
 * What he-agg hashes and signs. Every hash and signature covers a domain label and a fixed-order
 * field list (crypto/hash.ts encodeCanonical), so a signature for one purpose never verifies for
 * another, and every one binds the job, the round and the key id, so nothing replays across rounds.
 *
 * - ctHash  = SHA-256("cohort/he-agg/ciphertext/v1" ‖ [jobId, round, keyId, length, chunks...])
 * - input signature (node)  over "cohort/he-agg/input/v1"  [jobId, round, keyId, ctHash]
 * - sumHash = SHA-256("cohort/he-agg/sum/v1" ‖ [jobId, round, keyId, length, chunks...])
 * - challenge seed = SHA-256("cohort/he-agg/challenge/v1" ‖ [jobId, round, keyId, sumHash,
 *   [[peer, ctHash] sorted by peer]]): Fiat–Shamir over the sum and the contributor list
 * - digest signature (node) over "cohort/he-agg/digest/v1" [jobId, round, keyId, ctHash, seed, digest]
 * - key announcement (key-holder) over "cohort/he-agg/key/v1" [keyId, preset, paramsFingerprint,
 *   keyFingerprint, keyholder, issuedAt]
 */
import { hashCanonical } from '../../crypto/hash.ts'
import type { CanonicalValue } from '../../crypto/hash.ts'
import type { SerializedHeVector } from '../../crypto/he/index.ts'
import type { DomainLabel } from '../../crypto/kdf.ts'

/**
 * Domain label of a node's input signature.
 * @example
 * signWithIdentity(key, INPUT_LABEL, inputFields(ref, ctHash))
 */
export const INPUT_LABEL: DomainLabel = 'cohort/he-agg/input/v1'
/**
 * Domain label of a node's digest signature.
 * @example
 * signWithIdentity(key, DIGEST_LABEL, digestFields(ref, ctHash, seed, digest))
 */
export const DIGEST_LABEL: DomainLabel = 'cohort/he-agg/digest/v1'
/**
 * Domain label of the key-holder's key announcement.
 * @example
 * verifyCanonical(pk, KEY_LABEL, fields, sig)
 */
export const KEY_LABEL: DomainLabel = 'cohort/he-agg/key/v1'

/**
 * The round a message belongs to.
 * @example
 * const ref: RoundRef = { jobId: 'job-1', round: 3, keyId: 'key-1' }
 */
export interface RoundRef {
  jobId: string
  round: number
  keyId: string
}

/**
 * Hash of a contribution's serialized ciphertexts.
 *
 * @example
 * const h = ciphertextHash(ref, saveVector(vec))
 */
export function ciphertextHash(ref: RoundRef, wire: SerializedHeVector): Uint8Array {
  return hashCanonical('cohort/he-agg/ciphertext/v1', [
    ref.jobId,
    ref.round,
    ref.keyId,
    wire.length,
    ...wire.chunks
  ])
}

/**
 * Hash of the serialized sum sent to the key-holder.
 *
 * @example
 * const h = sumHash(ref, saveVector(total))
 */
export function sumHash(ref: RoundRef, wire: SerializedHeVector): Uint8Array {
  return hashCanonical('cohort/he-agg/sum/v1', [ref.jobId, ref.round, ref.keyId, wire.length, ...wire.chunks])
}

/**
 * The challenge seed of a decryption: binds the sum and every (contributor, ciphertext hash).
 *
 * @example
 * const seed = challengeSeed(ref, sumHash(ref, wire), contributions)
 */
export function challengeSeed(
  ref: RoundRef,
  sum: Uint8Array,
  contributions: ReadonlyArray<{ peer: string; ctHash: Uint8Array }>
): Uint8Array {
  const list = [...contributions]
    .sort((a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0))
    .map((c) => [c.peer, c.ctHash] as CanonicalValue)
  return hashCanonical('cohort/he-agg/challenge/v1', [ref.jobId, ref.round, ref.keyId, sum, list])
}

/**
 * Fields of a node's input signature.
 * @example
 * signWithIdentity(key, INPUT_LABEL, inputFields(ref, ctHash))
 */
export function inputFields(ref: RoundRef, ctHash: Uint8Array): CanonicalValue[] {
  return [ref.jobId, ref.round, ref.keyId, ctHash]
}

/**
 * Fields of a node's digest signature.
 * @example
 * signWithIdentity(key, DIGEST_LABEL, digestFields(ref, ctHash, seed, digest))
 */
export function digestFields(
  ref: RoundRef,
  ctHash: Uint8Array,
  seed: Uint8Array,
  digest: readonly number[]
): CanonicalValue[] {
  return [ref.jobId, ref.round, ref.keyId, ctHash, seed, [...digest]]
}
