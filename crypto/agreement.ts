/**
 * X25519 key agreement (RFC 7748) through node:crypto (OpenSSL), on raw 32-byte keys.
 *
 * Keys cross module boundaries as raw bytes: secret key = the 32-byte scalar string k (clamped by
 * X25519 itself, RFC 7748 §5), public key = the 32-byte little-endian u-coordinate. They are turned
 * into KeyObjects with Node 24's `raw-private` / `raw-public` key formats right before use.
 *
 * Invariant: {@link x25519SharedSecret} never returns the all-zero value. RFC 7748 §6.1: "check
 * whether the computed shared secret is the all-zero value and abort if so". With a clamped scalar
 * (a multiple of the cofactor 8) every small-order input u, including its non-canonical encodings
 * u + p, maps to zero, so this single check rejects all low-order public keys.
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { aBytes } from './asserts.ts'
import { LowOrderPointError } from './errors.ts'

/**
 * Byte length of X25519 secret keys, public keys and shared secrets.
 * @example
 * aBytes(peerPublicKey, X25519_KEY_BYTES, 'peerPublicKey')
 */
export const X25519_KEY_BYTES = 32

/**
 * A raw X25519 key pair.
 * @example
 * const pair: X25519KeyPair = x25519Keygen()
 */
export interface X25519KeyPair {
  /** 32-byte secret scalar string (unclamped bytes; X25519 clamps on use). */
  secretKey: Uint8Array
  /** 32-byte u-coordinate, little-endian. */
  publicKey: Uint8Array
}

const asBuffer = (u8: Uint8Array): Buffer => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength)

/**
 * @internal KeyObject for a raw secret key (used by the PSI code too).
 * @example
 * const keyObject = x25519PrivateKeyObject(secretKey) // reuse for many agreements
 */
export function x25519PrivateKeyObject(secretKey: Uint8Array): KeyObject {
  return createPrivateKey({ key: asBuffer(secretKey), format: 'raw-private', asymmetricKeyType: 'x25519' })
}

// RFC 8410 §4 SubjectPublicKeyInfo of an X25519 key: this fixed 12-byte DER header, then the
// 32-byte u-coordinate (SEQUENCE { SEQUENCE { OID 1.3.101.110 }, BIT STRING (0 unused bits) }).
const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex')

/**
 * @internal KeyObject for a raw u-coordinate. Built from a PEM string rather than the `raw-public`
 * format: for any object argument Node 24's createPublicKey first probes the argument and its `key`
 * as a KeyObject and as a CryptoKey, each probe throwing and catching an exception
 * (lib/internal/crypto/keys.js prepareAsymmetricKey); a string skips all four. Same key, 11 µs
 * instead of 30 µs, a third of each pairwise agreement. Public data only: a secret key is never put
 * in a string (strings cannot be wiped).
 * @example
 * const peer = x25519PublicKeyObject(peerPublicKey)
 */
export function x25519PublicKeyObject(publicKey: Uint8Array): KeyObject {
  // DER decoding would ignore bytes past the structure; the raw format refused them, and so do we.
  aBytes(publicKey, X25519_KEY_BYTES, 'publicKey')
  const der = Buffer.concat([SPKI_X25519_PREFIX, publicKey])
  return createPublicKey(`-----BEGIN PUBLIC KEY-----\n${der.toString('base64')}\n-----END PUBLIC KEY-----\n`)
}

/**
 * @internal True when all bytes are zero; reads every byte (no early exit on secret data).
 * @example
 * isAllZero(new Uint8Array(32)) // true
 */
export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0
  for (let i = 0; i < bytes.length; i++) acc |= bytes[i]!
  return acc === 0
}

/**
 * Generates a fresh X25519 key pair (OpenSSL's CSPRNG).
 *
 * @example
 * const { secretKey, publicKey } = x25519Keygen()
 */
export function x25519Keygen(): X25519KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519')
  return {
    secretKey: new Uint8Array(privateKey.export({ format: 'raw-private' })),
    publicKey: new Uint8Array(publicKey.export({ format: 'raw-public' }))
  }
}

/**
 * {@link x25519Keygen} plus OpenSSL's key object of the secret, for a caller that agrees with it
 * soon: importing the raw secret again ({@link x25519PrivateKeyObject}) costs ~80 µs, because OpenSSL
 * re-derives the public key on import. The key object cannot be zeroed; drop it with the raw secret.
 *
 * @example
 * const { secretKey, publicKey, privateKey } = x25519KeygenWithObject()
 */
export function x25519KeygenWithObject(): X25519KeyPair & { privateKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519')
  return {
    secretKey: new Uint8Array(privateKey.export({ format: 'raw-private' })),
    publicKey: new Uint8Array(publicKey.export({ format: 'raw-public' })),
    privateKey
  }
}

/**
 * The public key X25519(k, 9) of a raw secret key (RFC 7748 §6.1).
 *
 * @param secretKey - 32 bytes
 * @example
 * const publicKey = x25519PublicKey(secretKey)
 */
export function x25519PublicKey(secretKey: Uint8Array): Uint8Array {
  aBytes(secretKey, X25519_KEY_BYTES, 'secretKey')
  const pub = createPublicKey(x25519PrivateKeyObject(secretKey))
  return new Uint8Array(pub.export({ format: 'raw-public' }))
}

/**
 * Raw X25519 shared secret X25519(secretKey, peerPublicKey). Feed it to `deriveKey` (crypto/kdf.ts)
 * with a domain label; never use it as a key directly (RFC 7748 §6.1: hash it first).
 *
 * @param secretKey - our 32-byte secret key
 * @param peerPublicKey - the peer's 32-byte u-coordinate
 * @throws LowOrderPointError when the result would be all zero (low-order peer key)
 * @example
 * const ss = x25519SharedSecret(alice.secretKey, bob.publicKey)
 */
export function x25519SharedSecret(secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
  aBytes(secretKey, X25519_KEY_BYTES, 'secretKey')
  aBytes(peerPublicKey, X25519_KEY_BYTES, 'peerPublicKey')
  return x25519Objects(x25519PrivateKeyObject(secretKey), peerPublicKey)
}

/**
 * @internal X25519 with a prepared private KeyObject; the same zero check as the public function.
 * @example
 * const ss = x25519Objects(x25519PrivateKeyObject(sk), peerPublicKey)
 */
export function x25519Objects(privateKey: KeyObject, peerPublicKey: Uint8Array): Uint8Array {
  aBytes(peerPublicKey, X25519_KEY_BYTES, 'peerPublicKey')
  // The peer key goes in as a `raw-public` description with stack traces off: Node 24 probes such an
  // object as a KeyObject and a CryptoKey by throwing and catching five times per call
  // (lib/internal/crypto/keys.js), and without stack capture those throws are cheap. Measured per
  // agreement (min over runs): 50 µs, vs 57 µs through a KeyObject built from PEM and 41 µs with a
  // ready KeyObject. Nothing else runs in between: the limit is restored before any error leaves.
  const peer = { key: peerPublicKey, format: 'raw-public', asymmetricKeyType: 'x25519' }
  let out: Buffer
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    out = diffieHellman({ privateKey, publicKey: peer as unknown as KeyObject })
  } catch (err) {
    Error.stackTraceLimit = limit
    // OpenSSL refuses an all-zero X25519 output itself (ossl_x25519 returns 0): same condition.
    if ((err as { code?: unknown }).code === 'ERR_OSSL_FAILED_DURING_DERIVATION')
      throw new LowOrderPointError()
    throw err
  } finally {
    Error.stackTraceLimit = limit
  }
  // Copy out of Node's (possibly pooled) buffer so callers own, and may wipe, the secret.
  const secret = new Uint8Array(out)
  out.fill(0)
  if (isAllZero(secret)) throw new LowOrderPointError()
  return secret
}
