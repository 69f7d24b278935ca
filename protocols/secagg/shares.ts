/**
 * The pairwise share message of the share-keys phase (Bonawitz et al. 2017, Round 1: c_{u,v} =
 * AE.enc(KA.agree(c_sk_u, c_pk_v), u || v || s_sk_{u,v} || b_{u,v})).
 *
 * Plaintext layout, fixed size: x (2 bytes, big-endian) || share of b_u (66) || share of s_sk_u (66).
 * Sender and receiver are not repeated inside: the AEAD's associated data binds (jobId, round,
 * phase = 'share-keys', src, dst) (crypto/aead.ts), so a ciphertext opens only for the pair and
 * round it was made for; one from an earlier round or another job fails authentication.
 */
import { openShare, sealShare, AEAD_OVERHEAD_BYTES } from '../../crypto/aead.ts'
import { SHAMIR_SHARE_BYTES } from '../../crypto/shamir.ts'
import type { PeerRef } from '../transport.ts'
import { SecaggShareError } from './errors.ts'

/** Plaintext bytes of one share message. */
export const SHARE_PLAINTEXT_BYTES = 2 + 2 * SHAMIR_SHARE_BYTES
/** Sealed bytes of one share message (nonce + ciphertext + tag). */
export const SEALED_SHARE_BYTES = SHARE_PLAINTEXT_BYTES + AEAD_OVERHEAD_BYTES

/** The two shares one holder keeps for one owner. */
export interface SharePair {
  x: number
  b: Uint8Array
  s: Uint8Array
}

/** Where a share message belongs. */
export interface ShareRoute {
  jobId: string
  round: number
  src: PeerRef
  dst: PeerRef
}

/**
 * Seals the shares of `route.src`'s secrets for `route.dst`.
 *
 * @example
 * const sealed = sealSharePair(aeadKey, { x: 3, b: bShare.y, s: sShare.y }, { jobId, round, src: self, dst: peer })
 */
export function sealSharePair(key: Uint8Array, pair: SharePair, route: ShareRoute): Uint8Array {
  const pt = new Uint8Array(SHARE_PLAINTEXT_BYTES)
  pt[0] = pair.x >>> 8
  pt[1] = pair.x & 0xff
  pt.set(pair.b, 2)
  pt.set(pair.s, 2 + SHAMIR_SHARE_BYTES)
  try {
    return sealShare(key, pt, { ...route, phase: 'share-keys' })
  } finally {
    pt.fill(0)
  }
}

/**
 * Opens a share message addressed to `route.dst` from `route.src`.
 *
 * @throws SecaggShareError when it does not authenticate in this context or has the wrong size
 * @example
 * const pair = openSharePair(aeadKey, sealed, { jobId, round, src: peer, dst: self })
 */
export function openSharePair(key: Uint8Array, sealed: Uint8Array, route: ShareRoute): SharePair {
  if (sealed.length !== SEALED_SHARE_BYTES) {
    throw new SecaggShareError(
      `the share from ${route.src} has ${sealed.length} bytes, expected ${SEALED_SHARE_BYTES}`,
      route.src
    )
  }
  let pt: Uint8Array
  try {
    pt = openShare(key, sealed, { ...route, phase: 'share-keys' })
  } catch {
    throw new SecaggShareError(
      `the share from ${route.src} does not open for job ${route.jobId} round ${route.round}: replayed, misrouted or altered`,
      route.src
    )
  }
  const pair = {
    x: (pt[0]! << 8) | pt[1]!,
    b: pt.slice(2, 2 + SHAMIR_SHARE_BYTES),
    s: pt.slice(2 + SHAMIR_SHARE_BYTES)
  }
  pt.fill(0)
  return pair
}
