/**
 * What SecAgg participants sign with their libp2p identity key, and a synchronous verifier.
 *
 * - Key bundle: encodeCanonical(BUNDLE_LABEL, [jobId, round, peerId, c_pk, s_pk, a_pk]). Binding the
 *   peer id and the round means a relay can neither swap keys (the signature is checked against the
 *   pinned member's peer id, which embeds its Ed25519 key) nor replay a bundle from another round.
 *   a_pk is the runner's auth key (pair-auth.ts), authenticated by the same signature.
 * - Consistency check: encodeCanonical(CONSISTENCY_LABEL, [jobId, round, survivors in index order]).
 *
 * Verification runs inside the pure `step` of the participant machine, so it must be synchronous:
 * `verifyPeerSignature` (crypto/sign-identity.ts) is OpenSSL Ed25519 on the key embedded in the
 * peer id, imported once per peer. Signing stays with the runner, which holds the identity key.
 */
import { encodeCanonical } from '../../crypto/hash.ts'
import type { PeerRef } from '../transport.ts'
import { BUNDLE_LABEL, CONSISTENCY_LABEL } from './phases.ts'

export { verifyPeerSignature } from '../../crypto/sign-identity.ts'

/**
 * The bytes a participant signs to advertise its two X25519 public keys for one round (and its
 * runner's auth key).
 *
 * @example
 * const payload = bundlePayload('job-1', 3, self, cPk, sPk, aPk)
 */
export function bundlePayload(
  jobId: string,
  round: number,
  peer: PeerRef,
  cPk: Uint8Array,
  sPk: Uint8Array,
  aPk: Uint8Array
): Uint8Array {
  return encodeCanonical(BUNDLE_LABEL, [jobId, round, peer, cPk, sPk, aPk])
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
