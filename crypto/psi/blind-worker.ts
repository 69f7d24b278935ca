/**
 * Worker-thread entry of ./blind-pool.ts: receives { id, key, points | ids+salt }, answers
 * { id, ok, out } or { id, ok: false, code, name, message }. Pure compute: no I/O besides the port.
 * Runs as a .ts file under Node 24's type stripping (no build step).
 */
import { parentPort } from 'node:worker_threads'
import { blindPoints, hashAndBlind } from './blind.ts'

/**
 * A task sent to the worker.
 * @example
 * const task: BlindTask = { id: 1, op: 'blind', key, points }
 */
export type BlindTask =
  | { id: number; op: 'blind'; key: Uint8Array; points: Uint8Array }
  | { id: number; op: 'hash-and-blind'; key: Uint8Array; salt: Uint8Array; ids: string[] }

/**
 * The worker's answer.
 * @example
 * const reply: BlindReply = { id: 1, ok: true, out }
 */
export type BlindReply =
  | { id: number; ok: true; out: Uint8Array }
  | { id: number; ok: false; name: string; code: string | undefined; message: string }

if (parentPort !== null) {
  const port = parentPort
  port.on('message', (task: BlindTask) => {
    try {
      const out =
        task.op === 'blind' ? blindPoints(task.key, task.points) : hashAndBlind(task.ids, task.salt, task.key)
      task.key.fill(0)
      const reply: BlindReply = { id: task.id, ok: true, out }
      port.postMessage(reply, [out.buffer as ArrayBuffer])
    } catch (err) {
      task.key.fill(0)
      const e = err as { name?: string; code?: unknown; message?: string }
      const reply: BlindReply = {
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
