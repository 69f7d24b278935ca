/**
 * Authenticated encryption for pairwise share messages: XChaCha20-Poly1305
 * (draft-irtf-cfrg-xchacha-03 = HChaCha20 subkey + RFC 8439 §2.8 AEAD) from @noble/ciphers.
 *
 * Why XChaCha20-Poly1305 rather than node:crypto AES-256-GCM:
 * - nonces are 24 random bytes per message. A random 192-bit nonce never needs a counter or state
 *   (crypto/ holds no state) and collides with probability ~q^2/2^193, while GCM's 96-bit random
 *   nonces are capped at 2^32 messages per key (NIST SP 800-38D §8.3) and a single repeat leaks
 *   the GHASH key and so breaks authenticity;
 * - the messages are tiny (two Shamir shares, ~140 bytes), so AES-NI's speed does not matter;
 * - noble's `wrapCipher` refuses a second encrypt() with the same key+nonce object, and is audited.
 *
 * Wire format: `nonce (24) || ciphertext || tag (16)`.
 *
 * Associated data binds the message to its place in the protocol: `encodeCanonical(SHARE_AAD_LABEL,
 * [jobId, round, phase, src, dst])`. A share replayed into another job, round or phase, or reflected
 * back to its sender (src/dst swapped), fails to authenticate.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { aBytes, aInt, aString } from './asserts.ts'
import { CryptoArgumentError, DecryptionError } from './errors.ts'
import { encodeCanonical } from './hash.ts'
import { deriveKey } from './kdf.ts'
import type { DomainLabel } from './kdf.ts'

/**
 * AEAD key length (bytes).
 * @example
 * const key = crypto.getRandomValues(new Uint8Array(AEAD_KEY_BYTES))
 */
export const AEAD_KEY_BYTES = 32
/**
 * XChaCha20 nonce length (bytes).
 * @example
 * const nonce = sealed.subarray(0, AEAD_NONCE_BYTES)
 */
export const AEAD_NONCE_BYTES = 24
/**
 * Poly1305 tag length (bytes).
 * @example
 * const tag = sealed.subarray(sealed.length - AEAD_TAG_BYTES)
 */
export const AEAD_TAG_BYTES = 16
/**
 * Bytes a sealed message adds to its plaintext.
 * @example
 * sealShare(key, pt, ctx).length === pt.length + AEAD_OVERHEAD_BYTES // true
 */
export const AEAD_OVERHEAD_BYTES = AEAD_NONCE_BYTES + AEAD_TAG_BYTES

/**
 * Domain label of the associated data of a share message.
 * @example
 * encodeCanonical(SHARE_AAD_LABEL, [jobId, round, phase, src, dst])
 */
export const SHARE_AAD_LABEL: DomainLabel = 'cohort/aead/share-aad/v1'
/**
 * Domain label of the pairwise share-encryption key derived from an X25519 shared secret.
 * @example
 * deriveKey(sharedSecret, SHARE_KEY_LABEL)
 */
export const SHARE_KEY_LABEL: DomainLabel = 'cohort/aead/share-key/v1'

/**
 * Where a sealed share belongs: bound into the AEAD associated data.
 * @example
 * const ctx: AadContext = { jobId: 'j1', round: 2, phase: 'share-keys', src: me, dst: peer }
 */
export interface AadContext {
  jobId: string
  round: number
  phase: string
  /** sender peer id */
  src: string
  /** receiver peer id */
  dst: string
}

/**
 * Canonical associated-data bytes for a context.
 *
 * @example
 * const aad = shareAad({ jobId: 'j1', round: 3, phase: 'share-keys', src: a, dst: b })
 */
export function shareAad(ctx: AadContext): Uint8Array {
  if (ctx === null || typeof ctx !== 'object') throw new CryptoArgumentError('ctx must be an AadContext')
  aString(ctx.jobId, 'ctx.jobId')
  aInt(ctx.round, 'ctx.round')
  aString(ctx.phase, 'ctx.phase')
  aString(ctx.src, 'ctx.src')
  aString(ctx.dst, 'ctx.dst')
  return encodeCanonical(SHARE_AAD_LABEL, [ctx.jobId, ctx.round, ctx.phase, ctx.src, ctx.dst])
}

/**
 * The 32-byte share-encryption key of a pair, from their X25519 shared secret (HKDF-SHA256 with
 * {@link SHARE_KEY_LABEL}). Both directions use the same key; the AAD's src/dst tell them apart.
 *
 * @example
 * const key = shareKeyFromSecret(x25519SharedSecret(mySk, peerPk))
 */
export function shareKeyFromSecret(sharedSecret: Uint8Array): Uint8Array {
  aBytes(sharedSecret, 32, 'sharedSecret')
  return deriveKey(sharedSecret, SHARE_KEY_LABEL, { length: AEAD_KEY_BYTES })
}

/**
 * Encrypts `plaintext` under `key` with a fresh random nonce, authenticating `aad`.
 *
 * @returns `nonce || ciphertext || tag`
 * @example
 * const sealed = aeadSeal(key, plaintext, aad)
 */
export function aeadSeal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  aBytes(key, AEAD_KEY_BYTES, 'key')
  aBytes(plaintext, undefined, 'plaintext')
  aBytes(aad, undefined, 'aad')
  const nonce = crypto.getRandomValues(new Uint8Array(AEAD_NONCE_BYTES))
  const out = new Uint8Array(AEAD_NONCE_BYTES + plaintext.length + AEAD_TAG_BYTES)
  out.set(nonce, 0)
  xchacha20poly1305(key, nonce, aad).encrypt(plaintext, out.subarray(AEAD_NONCE_BYTES))
  return out
}

/**
 * Decrypts and authenticates a {@link aeadSeal} output.
 *
 * @throws DecryptionError when the tag does not verify (wrong key or aad, altered bytes, truncated input)
 * @example
 * const plaintext = aeadOpen(key, sealed, aad)
 */
export function aeadOpen(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  aBytes(key, AEAD_KEY_BYTES, 'key')
  aBytes(sealed, undefined, 'sealed')
  aBytes(aad, undefined, 'aad')
  if (sealed.length < AEAD_OVERHEAD_BYTES) throw new DecryptionError('ciphertext is shorter than nonce + tag')
  const nonce = sealed.subarray(0, AEAD_NONCE_BYTES)
  try {
    return xchacha20poly1305(key, nonce, aad).decrypt(sealed.subarray(AEAD_NONCE_BYTES))
  } catch {
    throw new DecryptionError()
  }
}

/**
 * Seals one share message for `ctx.dst`, bound to (jobId, round, phase, src, dst).
 *
 * @example
 * const sealed = sealShare(key, shareBytes, { jobId, round, phase: 'share-keys', src: me, dst: peer })
 */
export function sealShare(key: Uint8Array, plaintext: Uint8Array, ctx: AadContext): Uint8Array {
  return aeadSeal(key, plaintext, shareAad(ctx))
}

/**
 * Opens a {@link sealShare} message; `ctx` must be exactly the sender's.
 *
 * @throws DecryptionError when it does not authenticate under this key and context
 * @example
 * const shareBytes = openShare(key, sealed, { jobId, round, phase: 'share-keys', src: peer, dst: me })
 */
export function openShare(key: Uint8Array, sealed: Uint8Array, ctx: AadContext): Uint8Array {
  return aeadOpen(key, sealed, shareAad(ctx))
}
