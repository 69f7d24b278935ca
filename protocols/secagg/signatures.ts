/**
 * What SecAgg participants sign with their libp2p identity key, and a synchronous verifier.
 *
 * - Key bundle: encodeCanonical(BUNDLE_LABEL, [jobId, round, peerId, c_pk, s_pk]). Binding the peer
 *   id and the round means a relay can neither swap keys (the signature is checked against the
 *   pinned member's peer id, which embeds its Ed25519 key) nor replay a bundle from another round.
 * - Consistency check: encodeCanonical(CONSISTENCY_LABEL, [jobId, round, survivors in index order]).
 *
 * Verification runs inside the pure `step` of the participant machine, so it must be synchronous:
 * it uses node:crypto (OpenSSL) Ed25519 directly on the key embedded in the peer id (crypto/sign.ts
 * `verifyWithPeerId` is async because libp2p's key interface is). Public KeyObjects are cached per
 * peer id (public data; bounded). Signing stays with the runner, which holds the identity key.
 */
import { createPublicKey, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { encodeCanonical } from '../../crypto/hash.ts'
import { ED25519_SIGNATURE_BYTES, ed25519KeyFromPeerId } from '../../crypto/sign.ts'
import type { PeerRef } from '../transport.ts'
import { BUNDLE_LABEL, CONSISTENCY_LABEL } from './phases.ts'

const MAX_CACHED_KEYS = 4096
const keyCache = new Map<string, KeyObject | null>()

function publicKeyOf(peer: PeerRef): KeyObject | null {
  const cached = keyCache.get(peer)
  if (cached !== undefined) return cached
  let key: KeyObject | null = null
  try {
    const raw = ed25519KeyFromPeerId(peer)
    key = createPublicKey({ key: Buffer.from(raw), format: 'raw-public', asymmetricKeyType: 'ed25519' })
  } catch {
    key = null
  }
  if (keyCache.size >= MAX_CACHED_KEYS) keyCache.delete(keyCache.keys().next().value!)
  keyCache.set(peer, key)
  return key
}

/**
 * True when `sig` is `peer`'s Ed25519 signature over `payload` (false for a malformed peer id or
 * signature; never throws).
 *
 * @example
 * verifyPeerSignature(peer, bundlePayload(jobId, round, peer, cPk, sPk), sig)
 */
export function verifyPeerSignature(peer: PeerRef, payload: Uint8Array, sig: Uint8Array): boolean {
  if (!(sig instanceof Uint8Array) || sig.length !== ED25519_SIGNATURE_BYTES) return false
  const key = publicKeyOf(peer)
  if (key === null) return false
  try {
    return verify(null, payload, key, sig)
  } catch {
    return false
  }
}

/**
 * The bytes a participant signs to advertise its two X25519 public keys for one round.
 *
 * @example
 * const payload = bundlePayload('job-1', 3, self, cPk, sPk)
 */
export function bundlePayload(
  jobId: string,
  round: number,
  peer: PeerRef,
  cPk: Uint8Array,
  sPk: Uint8Array
): Uint8Array {
  return encodeCanonical(BUNDLE_LABEL, [jobId, round, peer, cPk, sPk])
}

/**
 * The bytes a participant signs in the consistency check: the survivor set, in index order.
 *
 * @example
 * const payload = consistencyPayload('job-1', 3, survivors)
 */
export function consistencyPayload(jobId: string, round: number, survivors: readonly PeerRef[]): Uint8Array {
  return encodeCanonical(CONSISTENCY_LABEL, [jobId, round, [...survivors]])
}
