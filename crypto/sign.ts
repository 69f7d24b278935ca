/**
 * Ed25519 signatures (RFC 8032) over canonical encodings.
 *
 * Two paths, same bytes on the wire:
 * - identity path: a node signs with its libp2p identity key (`@libp2p/crypto` Ed25519PrivateKey)
 *   and anyone verifies from the signer's **peer id string** alone, because an Ed25519 peer id
 *   embeds its public key (identity multihash). So a key bundle relayed by the coordinator is
 *   checked against the pinned federation member, not against a key the relay chose. OpenSSL does
 *   the work, through KeyObjects imported once per key (sign-identity.ts).
 * - raw path: `@noble/curves` ed25519 on 32-byte keys, for keys that are not libp2p identities
 *   (tests, tools). Verification is strict RFC 8032 (`zip215: false`): non-canonical encodings of
 *   R, A and S >= L are rejected, which makes signatures non-malleable (SUF-CMA).
 *
 * What is signed is always `encodeCanonical(label, fields)` (crypto/hash.ts): a domain label plus a
 * fixed-order msgpack array, so a signature for one purpose can never verify for another.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import type { PrivateKey } from '@libp2p/interface'
import { aBytes } from './asserts.ts'
import { CryptoArgumentError, VerificationError } from './errors.ts'
import { encodeCanonical } from './hash.ts'
import type { CanonicalValue } from './hash.ts'
import type { DomainLabel } from './kdf.ts'
import { ed25519PeerKey, signWithIdentityKey, verifyPeerSignature } from './sign-identity.ts'

/**
 * Byte length of an Ed25519 signature.
 * @example
 * if (sig.length !== ED25519_SIGNATURE_BYTES) reject()
 */
export const ED25519_SIGNATURE_BYTES = 64

// ---------------------------------------------------------------- identity path (libp2p keys)

/**
 * Signs `encodeCanonical(label, fields)` with a libp2p Ed25519 identity key.
 *
 * @throws CryptoArgumentError when the key is not Ed25519
 * @example
 * const sig = await signWithIdentity(privateKey, 'cohort/secagg/keys/v1', [jobId, round, cPk, sPk])
 */
export async function signWithIdentity(
  privateKey: PrivateKey,
  label: DomainLabel,
  fields: readonly CanonicalValue[]
): Promise<Uint8Array> {
  if (privateKey?.type !== 'Ed25519') {
    throw new CryptoArgumentError(`identity key must be Ed25519, got ${String(privateKey?.type)}`)
  }
  return await signWithIdentityKey(privateKey, encodeCanonical(label, fields))
}

/**
 * The raw 32-byte Ed25519 public key embedded in a peer id string.
 *
 * @throws CryptoArgumentError when the string is not a peer id, or not an Ed25519 one
 * @example
 * const pk = ed25519KeyFromPeerId('12D3KooW...')
 */
export function ed25519KeyFromPeerId(peerId: string): Uint8Array {
  return ed25519PeerKey(peerId).raw.slice()
}

/**
 * True when `signature` is the peer's Ed25519 signature over `encodeCanonical(label, fields)`.
 *
 * @param peerId - the signer's libp2p peer id string (Ed25519, key inlined)
 * @throws CryptoArgumentError when `peerId` is not an Ed25519 peer id
 * @example
 * if (!(await verifyWithPeerId(member, 'cohort/secagg/keys/v1', fields, sig))) reject()
 */
export async function verifyWithPeerId(
  peerId: string,
  label: DomainLabel,
  fields: readonly CanonicalValue[],
  signature: Uint8Array
): Promise<boolean> {
  aBytes(signature, undefined, 'signature')
  ed25519PeerKey(peerId)
  return verifyPeerSignature(peerId, encodeCanonical(label, fields), signature)
}

/**
 * Like {@link verifyWithPeerId}, but throws instead of returning false.
 *
 * @throws VerificationError when the signature does not verify
 * @example
 * await assertSignedByPeer(member, 'cohort/audit/head/v1', [seq, headHash], sig)
 */
export async function assertSignedByPeer(
  peerId: string,
  label: DomainLabel,
  fields: readonly CanonicalValue[],
  signature: Uint8Array
): Promise<void> {
  if (!(await verifyWithPeerId(peerId, label, fields, signature))) {
    throw new VerificationError(`signature by ${peerId} over ${label} does not verify`)
  }
}

// ---------------------------------------------------------------- raw path (noble, 32-byte keys)

/**
 * A raw Ed25519 key pair: 32-byte secret seed, 32-byte public key (RFC 8032 §5.1.5).
 * @example
 * const { secretKey, publicKey }: Ed25519KeyPair = ed25519Keygen()
 */
export interface Ed25519KeyPair {
  secretKey: Uint8Array
  publicKey: Uint8Array
}

/**
 * Generates a raw Ed25519 key pair from `crypto.getRandomValues`.
 *
 * @example
 * const { secretKey, publicKey } = ed25519Keygen()
 */
export function ed25519Keygen(): Ed25519KeyPair {
  const secretKey = crypto.getRandomValues(new Uint8Array(32))
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) }
}

/**
 * The public key of a 32-byte Ed25519 secret seed.
 *
 * @example
 * const publicKey = ed25519PublicKey(secretKey)
 */
export function ed25519PublicKey(secretKey: Uint8Array): Uint8Array {
  aBytes(secretKey, 32, 'secretKey')
  return ed25519.getPublicKey(secretKey)
}

/**
 * Pure Ed25519 signature (RFC 8032 §5.1.6) of raw `message` bytes.
 *
 * @example
 * const sig = ed25519Sign(secretKey, message)
 */
export function ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  aBytes(secretKey, 32, 'secretKey')
  aBytes(message, undefined, 'message')
  return ed25519.sign(message, secretKey)
}

/**
 * Strict RFC 8032 §5.1.7 verification of raw `message` bytes. Returns false (never throws) for a
 * wrong signature, a malformed signature or an invalid public key encoding.
 *
 * @example
 * ed25519Verify(publicKey, message, sig) // true
 */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  aBytes(publicKey, 32, 'publicKey')
  aBytes(message, undefined, 'message')
  aBytes(signature, undefined, 'signature')
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false })
  } catch {
    return false
  }
}

/**
 * Signs `encodeCanonical(label, fields)` with a raw Ed25519 secret key.
 *
 * @example
 * const sig = signCanonical(secretKey, 'cohort/audit/head/v1', [seq, headHash])
 */
export function signCanonical(
  secretKey: Uint8Array,
  label: DomainLabel,
  fields: readonly CanonicalValue[]
): Uint8Array {
  return ed25519Sign(secretKey, encodeCanonical(label, fields))
}

/**
 * Verifies a {@link signCanonical} signature with a raw public key.
 *
 * @example
 * verifyCanonical(publicKey, 'cohort/audit/head/v1', [seq, headHash], sig) // true
 */
export function verifyCanonical(
  publicKey: Uint8Array,
  label: DomainLabel,
  fields: readonly CanonicalValue[],
  signature: Uint8Array
): boolean {
  return ed25519Verify(publicKey, encodeCanonical(label, fields), signature)
}
