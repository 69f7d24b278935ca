/**
 * Worker-thread entry of ./psi-pool.ts (PSI v2): `hash-blind` hashes ids onto the curve
 * (./hash-to-curve.ts) and blinds them with X25519; `blind` blinds packed points. Pure compute: no
 * I/O besides the message port. Runs as a .ts file under Node 24's type stripping (no build step).
 */
import { diffieHellman } from 'node:crypto'
import { parentPort } from 'node:worker_threads'
import { isAllZero, x25519PrivateKeyObject } from '../agreement.ts'
import { CryptoArgumentError, LowOrderPointError } from '../errors.ts'
import { hashAndBlind, PSI_POINT_BYTES } from './blind.ts'
import { hashIdsToCurve } from './hash-to-curve.ts'

/**
 * A task sent to a PSI v2 worker.
 * @example
 * const task: PsiTask = { id: 1, op: 'blind', key, points }
 */
export type PsiTask =
  | { id: number; op: 'blind'; key: Uint8Array; points: Uint8Array }
  | { id: number; op: 'hash-blind'; key: Uint8Array; salt: Uint8Array; ids: string[] }
  /** Superseded v1 hashing (raw hashed u-coordinates, ./blind.ts hashAndBlind), for ./blind-pool.ts. */
  | { id: number; op: 'hash-blind-v1'; key: Uint8Array; salt: Uint8Array; ids: string[] }

/**
 * A PSI v2 worker's answer.
 * @example
 * const reply: PsiReply = { id: 1, ok: true, out }
 */
export type PsiReply =
  | { id: number; ok: true; out: Uint8Array }
  | { id: number; ok: false; name: string; code: string | undefined; message: string }

// RFC 8410 §4 SubjectPublicKeyInfo of an X25519 key is a fixed 12-byte DER header then the 32-byte
// u-coordinate; 12 bytes are exactly 16 base64 characters, so a point's PEM is HEAD + base64(u) + TAIL.
const SPKI_X25519_HEADER = Buffer.from('302a300506032b656e032100', 'hex').toString('base64') // MCowBQYDK2VuAyEA
const PEM_HEAD = `-----BEGIN PUBLIC KEY-----\n${SPKI_X25519_HEADER}`
const PEM_TAIL = '\n-----END PUBLIC KEY-----\n'

/**
 * ./blind.ts `blindPoints`, same results and errors, cheaper per point in a worker thread: each peer
 * point goes to node:crypto as a PEM string, with no KeyObject per point. Any object key description
 * (`raw-public`, `jwk`, `der`) makes Node 24 probe it as a KeyObject and as a CryptoKey by throwing
 * and catching five times per call (lib/internal/crypto/keys.js prepareAsymmetricKey); a string skips
 * the probes and costs OpenSSL a PEM/DER decode instead. Measured here in worker threads (thread CPU,
 * 8,192 points, interleaved): 55–63 µs per point as PEM against 59–90 µs as `raw-public` with stack
 * traces off (on the main thread the two are within 2 µs); a prebuilt KeyObject is ~41–46 µs.
 */
export function blindPacked(key: Uint8Array, points: Uint8Array): Uint8Array {
  if (points.length % PSI_POINT_BYTES !== 0) {
    throw new CryptoArgumentError(`points must hold whole 32-byte points, got ${points.length} bytes`)
  }
  const privateKey = x25519PrivateKeyObject(key)
  const out = new Uint8Array(points.length)
  const bytes = Buffer.from(points.buffer, points.byteOffset, points.length)
  const options = { privateKey, publicKey: '' }
  for (let at = 0; at < points.length; at += PSI_POINT_BYTES) {
    options.publicKey = PEM_HEAD + bytes.toString('base64', at, at + PSI_POINT_BYTES) + PEM_TAIL
    let shared: Buffer
    try {
      shared = diffieHellman(options)
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ERR_OSSL_FAILED_DURING_DERIVATION') throw err
      throw new LowOrderPointError(`point ${at / PSI_POINT_BYTES} is a low-order X25519 point`)
    }
    if (isAllZero(shared)) {
      throw new LowOrderPointError(`point ${at / PSI_POINT_BYTES} is a low-order X25519 point`)
    }
    out.set(shared, at)
  }
  return out
}

if (parentPort !== null) {
  const port = parentPort
  port.on('message', (task: PsiTask) => {
    try {
      const out =
        task.op === 'blind'
          ? blindPacked(task.key, task.points)
          : task.op === 'hash-blind-v1'
            ? hashAndBlind(task.ids, task.salt, task.key)
            : blindPacked(task.key, hashIdsToCurve(task.ids, task.salt))
      task.key.fill(0)
      const reply: PsiReply = { id: task.id, ok: true, out }
      port.postMessage(reply, [out.buffer as ArrayBuffer])
    } catch (err) {
      task.key.fill(0)
      const e = err as { name?: string; code?: unknown; message?: string }
      const reply: PsiReply = {
        id: task.id,
        ok: false,
        name: String(e.name ?? 'Error'),
        code: typeof e.code === 'string' ? e.code : undefined,
        message: String(e.message ?? err)
      }
      port.postMessage(reply)
    }
  })
}
