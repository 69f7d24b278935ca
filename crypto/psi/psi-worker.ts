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

/**
 * ./blind.ts `blindPoints`, same results and errors, ~10% cheaper per point: the peer point goes to
 * node:crypto as a `raw-public` key description instead of a KeyObject built from PEM (no DER/PEM
 * decoding in OpenSSL, no KeyObject per point). Node probes such an object for KeyObject/CryptoKey
 * by throwing and catching internally (lib/internal/crypto/keys.js); with stack traces off those
 * throws cost little. Stack traces are restored before anything leaves this function.
 */
export function blindPacked(key: Uint8Array, points: Uint8Array): Uint8Array {
  if (points.length % PSI_POINT_BYTES !== 0) {
    throw new CryptoArgumentError(`points must hold whole 32-byte points, got ${points.length} bytes`)
  }
  const privateKey = x25519PrivateKeyObject(key)
  const out = new Uint8Array(points.length)
  const peer = { key: points, format: 'raw-public', asymmetricKeyType: 'x25519' }
  const options = { privateKey, publicKey: peer as unknown as string }
  const limit = Error.stackTraceLimit
  let lowOrderAt = -1
  Error.stackTraceLimit = 0
  try {
    for (let at = 0; at < points.length; at += PSI_POINT_BYTES) {
      peer.key = points.subarray(at, at + PSI_POINT_BYTES)
      let shared: Buffer
      try {
        shared = diffieHellman(options)
      } catch (err) {
        if ((err as { code?: unknown }).code !== 'ERR_OSSL_FAILED_DURING_DERIVATION') throw err
        lowOrderAt = at
        break
      }
      if (isAllZero(shared)) {
        lowOrderAt = at
        break
      }
      out.set(shared, at)
    }
  } finally {
    Error.stackTraceLimit = limit
  }
  if (lowOrderAt >= 0) {
    throw new LowOrderPointError(`point ${lowOrderAt / PSI_POINT_BYTES} is a low-order X25519 point`)
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
