/**
 * Ed25519 with libp2p identity keys through node:crypto KeyObjects that are built once per key.
 *
 * libp2p's `PrivateKey.sign` and `PublicKey.verify` rebuild an OpenSSL key from a JWK on every call
 * (several times the cost of the signature operation itself), and parsing a peer id string costs a
 * base58 decode plus a protobuf parse. A SecAgg round signs and verifies tens of times per party and
 * every audit entry signs its head, so the keys are kept:
 * - private: one KeyObject per PrivateKey in a WeakMap, so it goes when the key does (it holds the
 *   same secret the PrivateKey already holds for the node's lifetime);
 * - public: a bounded LRU of KeyObjects keyed by the peer id string, and one keyed by the raw 32-byte
 *   public key (public data).
 *
 * Same bytes, same checks: Ed25519 is deterministic (RFC 8032), so signatures equal those
 * `privateKey.sign` returns, and verification is the same OpenSSL call libp2p makes; only the key
 * import is cached, never a verification result.
 */
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import type { Ed25519PublicKey, PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { aString } from './asserts.ts'
import { CryptoArgumentError } from './errors.ts'

const SIGNATURE_BYTES = 64
const PUBLIC_KEY_BYTES = 32
const MAX_CACHED_KEYS = 4096

// RFC 8410 §7 PKCS#8 PrivateKeyInfo of an Ed25519 key: this fixed 16-byte DER header, then the seed.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const privateKeys = new WeakMap<PrivateKey, KeyObject>()

/** A bounded map that forgets the least recently used entry first. */
class Lru<K, V> {
  readonly #map = new Map<K, V>()
  get(key: K): V | undefined {
    const value = this.#map.get(key)
    if (value !== undefined) {
      this.#map.delete(key)
      this.#map.set(key, value)
    }
    return value
  }
  set(key: K, value: V): void {
    if (this.#map.size >= MAX_CACHED_KEYS) this.#map.delete(this.#map.keys().next().value!)
    this.#map.set(key, value)
  }
}

/** A peer id's Ed25519 key, or why the string is not usable as one. */
type PeerKey = { raw: Uint8Array; keyObject: KeyObject } | { error: string }
const peerKeys = new Lru<string, PeerKey>()
const rawKeys = new Lru<string, KeyObject | null>()

function importPublic(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(raw), format: 'raw-public', asymmetricKeyType: 'ed25519' })
}

function parsePeerKey(peerId: string): PeerKey {
  let key: Ed25519PublicKey
  try {
    const parsed = peerIdFromString(peerId)
    if (parsed.type !== 'Ed25519') {
      return { error: `peer id must embed an Ed25519 key, got type ${parsed.type}` }
    }
    key = parsed.publicKey
  } catch (err) {
    return { error: `not a peer id: ${JSON.stringify(peerId)} (${(err as Error).message})` }
  }
  try {
    return { raw: key.raw, keyObject: importPublic(key.raw) }
  } catch (err) {
    return { error: `peer id ${peerId} embeds an unusable Ed25519 key (${(err as Error).message})` }
  }
}

/**
 * The Ed25519 key embedded in a peer id string, imported once.
 *
 * @throws CryptoArgumentError when the string is not a peer id, or not an Ed25519 one
 * @example
 * const { raw } = ed25519PeerKey('12D3KooW...')
 */
export function ed25519PeerKey(peerId: string): { raw: Uint8Array; keyObject: KeyObject } {
  aString(peerId, 'peerId')
  let key = peerKeys.get(peerId)
  if (key === undefined) {
    key = parsePeerKey(peerId)
    peerKeys.set(peerId, key)
  }
  if ('error' in key) throw new CryptoArgumentError(key.error)
  return key
}

function verifyWith(key: KeyObject, payload: Uint8Array, sig: Uint8Array): boolean {
  if (!(sig instanceof Uint8Array) || sig.length !== SIGNATURE_BYTES) return false
  try {
    return verify(null, payload, key, sig)
  } catch {
    return false
  }
}

/**
 * True when `sig` is `peerId`'s Ed25519 signature over `payload`; false for a malformed peer id,
 * a non-Ed25519 one or a malformed signature (never throws). Synchronous, so pure protocol steps
 * can call it.
 *
 * @example
 * if (!verifyPeerSignature(peer, bundlePayload(jobId, round, peer, cPk, sPk), sig)) reject()
 */
export function verifyPeerSignature(peerId: string, payload: Uint8Array, sig: Uint8Array): boolean {
  let key: KeyObject
  try {
    key = ed25519PeerKey(peerId).keyObject
  } catch {
    return false
  }
  return verifyWith(key, payload, sig)
}

/**
 * True when `sig` is a valid Ed25519 signature over `payload` under the raw 32-byte `publicKey`
 * (OpenSSL's checks; false, never a throw, for a bad key encoding or signature).
 *
 * @example
 * verifyEd25519Raw(publicKey, payload, sig)
 */
export function verifyEd25519Raw(publicKey: Uint8Array, payload: Uint8Array, sig: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_BYTES) return false
  const id = Buffer.from(publicKey).toString('hex')
  let key = rawKeys.get(id)
  if (key === undefined) {
    try {
      key = importPublic(publicKey)
    } catch {
      key = null
    }
    rawKeys.set(id, key)
  }
  return key !== null && verifyWith(key, payload, sig)
}

function privateKeyObject(privateKey: PrivateKey): KeyObject {
  let key = privateKeys.get(privateKey)
  if (key === undefined) {
    const der = Buffer.concat([PKCS8_ED25519_PREFIX, privateKey.raw.subarray(0, 32)])
    try {
      key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
    } finally {
      der.fill(0)
    }
    privateKeys.set(privateKey, key)
  }
  return key
}

/**
 * `privateKey.sign(payload)`, without re-importing the key each time (other key types than a
 * 64-byte libp2p Ed25519 key fall back to `privateKey.sign`).
 *
 * @example
 * const sig = await signWithIdentityKey(identity.privateKey, bundlePayload(jobId, round, self, cPk, sPk))
 */
export async function signWithIdentityKey(privateKey: PrivateKey, payload: Uint8Array): Promise<Uint8Array> {
  if (privateKey.type !== 'Ed25519' || privateKey.raw?.length !== 64) return await privateKey.sign(payload)
  return new Uint8Array(sign(null, payload, privateKeyObject(privateKey)))
}
