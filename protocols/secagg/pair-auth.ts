/**
 * Pairwise MACs that stand in for Ed25519 verifications between SecAgg participants that already
 * know each other (a fast path; the identity signatures stay on every message).
 *
 * Why: a participant verifies every neighbour's key bundle and t consistency signatures per round.
 * OpenSSL Ed25519 verification costs ~150 µs here, three times a signature or an X25519 agreement:
 * with 10 parties that was a quarter of a round's CPU, more than the masking itself. An HMAC over
 * the same bytes costs ~3 µs.
 *
 * How: every participant runner holds one **auth key pair** (X25519, memory only, rotated by the
 * runner) and advertises its public half `aPk` inside each signed key bundle. When u has accepted a
 * bundle of v by its identity signature, u knows v's authenticated aPk and derives
 *
 *   K_uv = HKDF(X25519(a_u, aPk_v), PAIR_AUTH_KEY_LABEL, (lo, hi, aPk_lo, aPk_hi))   (lo < hi: peer ids)
 *
 * which only u and v can compute. From then on u attaches, to its bundle and to its consistency
 * signature, one MAC per such peer v: HMAC-SHA256(K_uv, (PAIR_MAC_LABEL, from u, to v, payload)),
 * where payload is exactly the bytes the identity key signs. The receiver v accepts the message if
 * the MAC addressed to it verifies under its own K_vu for that aPk; otherwise (no MAC, unknown or
 * changed aPk, MAC does not verify) it verifies the identity signature exactly as before. So a
 * message is accepted iff it is authentic, as before: the coordinator cannot compute K_uv (it knows
 * neither secret), the direction in the MAC input stops it reflecting u's MAC for v back to u, and
 * the peer ids and both public keys in the KDF context stop a member that copies another's aPk from
 * sharing anyone's key. Stripping or corrupting a MAC only costs the receiver one verification.
 *
 * The auth key authenticates; it protects no secret. Its compromise lets an attacker impersonate its
 * owner to peers until rotation, which is what the identity key's compromise already allows.
 */
import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { x25519Keygen, x25519Objects, x25519PrivateKeyObject } from '../../crypto/agreement.ts'
import { encodeCanonical } from '../../crypto/hash.ts'
import { deriveKey } from '../../crypto/kdf.ts'
import type { DomainLabel } from '../../crypto/kdf.ts'
import type { PeerRef } from '../transport.ts'
import { wipe } from './masking.ts'

/** Key of a pair: HKDF info context (lo, hi, aPk_lo, aPk_hi). */
export const PAIR_AUTH_KEY_LABEL: DomainLabel = 'cohort/secagg/pair-auth-key/v1'
const PAIR_AUTH_CONTEXT_LABEL: DomainLabel = 'cohort/secagg/pair-auth-context/v1'
/** MAC input: (from, to, payload). */
export const PAIR_MAC_LABEL: DomainLabel = 'cohort/secagg/pair-mac/v1'
/** Bytes of a pair MAC (HMAC-SHA256, untruncated). */
export const PAIR_MAC_BYTES = 32
/** Peers a session remembers; the oldest is forgotten first (it falls back to signatures). */
const MAX_PAIR_PEERS = 2048

interface PairKey {
  readonly aPk: Uint8Array
  /**
   * A KeyObject, not bytes: createHmac with a byte key probes it as a KeyObject and a CryptoKey by
   * throwing and catching (Node 24), which made each MAC cost ~20 µs instead of ~3 µs.
   */
  readonly key: KeyObject
}

/**
 * One runner's auth key pair and the pair keys it derived. Mutable and shared by the rounds of the
 * runner: the only participant state that outlives a round. Holds no round secret.
 */
export interface PairAuthSession {
  readonly self: PeerRef
  readonly aPk: Uint8Array
  readonly aSk: KeyObject
  readonly peers: Map<PeerRef, PairKey>
  /** Counters for tests and benches: how many messages each path authenticated. */
  readonly counts: { mac: number; signature: number }
}

/**
 * A fresh session with a new auth key pair.
 *
 * @example
 * const auth = createPairAuthSession(self)
 */
export function createPairAuthSession(self: PeerRef): PairAuthSession {
  const { secretKey, publicKey } = x25519Keygen()
  const aSk = x25519PrivateKeyObject(secretKey)
  wipe(secretKey)
  return { self, aPk: publicKey, aSk, peers: new Map(), counts: { mac: 0, signature: 0 } }
}

const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))

function macInput(from: PeerRef, to: PeerRef, payload: Uint8Array): Uint8Array {
  return encodeCanonical(PAIR_MAC_LABEL, [from, to, payload])
}

function hmac(key: KeyObject, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(data).digest())
}

/**
 * Remembers `peer`'s auth public key, which the caller has just authenticated (the identity
 * signature over a bundle carrying it verified), and derives the pair key. A key that makes the
 * agreement fail (low order) is not remembered: that peer simply stays on signatures.
 *
 * @example
 * learnPeer(auth, peer, bundle.aPk)
 */
export function learnPeer(session: PairAuthSession, peer: PeerRef, aPk: Uint8Array): void {
  if (peer === session.self) return
  const known = session.peers.get(peer)
  if (known !== undefined && sameBytes(known.aPk, aPk)) return
  // A peer's pair key always belongs to the auth key it announced last.
  session.peers.delete(peer)
  let shared: Uint8Array
  try {
    shared = x25519Objects(session.aSk, aPk)
  } catch {
    return
  }
  const [lo, hi, loPk, hiPk] =
    session.self < peer ? [session.self, peer, session.aPk, aPk] : [peer, session.self, aPk, session.aPk]
  const context = encodeCanonical(PAIR_AUTH_CONTEXT_LABEL, [lo, hi, loPk, hiPk])
  const bytes = deriveKey(shared, PAIR_AUTH_KEY_LABEL, { context })
  const key = createSecretKey(bytes)
  wipe(shared, bytes)
  if (session.peers.size >= MAX_PAIR_PEERS) session.peers.delete(session.peers.keys().next().value!)
  session.peers.set(peer, { aPk: aPk.slice(), key })
}

/**
 * The MACs of `payload` from this session's owner to every listed peer it has a pair key with.
 *
 * @example
 * const macs = pairMacs(auth, neighbours, payload) // [{ to, mac }, ...]
 */
export function pairMacs(
  session: PairAuthSession,
  to: Iterable<PeerRef>,
  payload: Uint8Array
): Array<{ to: PeerRef; mac: Uint8Array }> {
  const out: Array<{ to: PeerRef; mac: Uint8Array }> = []
  for (const peer of to) {
    const known = session.peers.get(peer)
    if (known !== undefined && peer !== session.self) {
      out.push({ to: peer, mac: hmac(known.key, macInput(session.self, peer, payload)) })
    }
  }
  return out
}

/**
 * True when `mac` is `from`'s MAC of `payload` addressed to this session's owner, under the pair key
 * of exactly `aPk` (when given: the auth key the message itself names). False for no MAC, an
 * unknown peer or key, or a MAC that does not verify: the caller then checks the signature.
 *
 * @example
 * if (!checkPairMac(auth, peer, payload, bundle.mac, bundle.aPk)) verifyPeerSignature(...)
 */
export function checkPairMac(
  session: PairAuthSession,
  from: PeerRef,
  payload: Uint8Array,
  mac: Uint8Array | undefined,
  aPk?: Uint8Array
): boolean {
  if (mac === undefined || mac.length !== PAIR_MAC_BYTES || from === session.self) return false
  const known = session.peers.get(from)
  if (known === undefined || (aPk !== undefined && !sameBytes(known.aPk, aPk))) return false
  return sameBytes(hmac(known.key, macInput(from, session.self, payload)), mac)
}

/**
 * Forgets every pair key. Keys are KeyObjects (native memory, freed with the object), like the
 * auth secret: nothing here can be zeroed from JavaScript.
 *
 * @example
 * wipePairAuthSession(auth)
 */
export function wipePairAuthSession(session: PairAuthSession): void {
  session.peers.clear()
}
