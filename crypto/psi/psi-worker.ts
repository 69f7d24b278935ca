/**
 * Worker-thread entry of ./psi-pool.ts (PSI v2): `hash-blind` hashes ids onto the curve
 * (./hash-to-curve.ts) and blinds them with X25519; `blind` blinds packed points. Pure compute: no
 * I/O besides the message port. Runs as a .ts file under Node 24's type stripping (no build step).
 */
import { parentPort } from 'node:worker_threads'
import { blindPoints, hashAndBlind } from './blind.ts'
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

if (parentPort !== null) {
  const port = parentPort
  port.on('message', (task: PsiTask) => {
    try {
      const out =
        task.op === 'blind'
          ? blindPoints(task.key, task.points)
          : task.op === 'hash-blind-v1'
            ? hashAndBlind(task.ids, task.salt, task.key)
            : blindPoints(task.key, hashIdsToCurve(task.ids, task.salt))
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
