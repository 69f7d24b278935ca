/**
 * PSI v2 compute across worker threads: hash-to-curve + first blinding (`hashAndBlind`) and the
 * second blinding (`blind`). Per id the first costs ~65 µs (hash-to-curve) + ~60 µs (X25519) and the
 * second ~60 µs on one core here, so a million ids need minutes of CPU: the pool splits each batch
 * into `size` contiguous slices, one per worker, and concatenates the answers in order.
 *
 * Compute only (no I/O); kept apart from hash-to-curve.ts because crypto/ is otherwise free of
 * threads. Workers are unref'd while idle, so a forgotten pool does not keep the process alive;
 * still, close() it (or `await using`). v1 blinding (raw hashed u-coordinates) stays in
 * ./blind-pool.ts for compatibility.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { aBytes, aInRange } from '../asserts.ts'
import { CryptoArgumentError, LowOrderPointError } from '../errors.ts'
import { blindPoints, hashAndBlind, PSI_POINT_BYTES, PSI_SALT_BYTES } from './blind.ts'
import { BlindPoolClosedError, BlindWorkerError } from './errors.ts'
import { hashIdsToCurve } from './hash-to-curve.ts'
import type { PsiReply, PsiTask } from './psi-worker.ts'

/**
 * Options of {@link createPsiPool}.
 * @example
 * createPsiPool({ size: 2, inlineBelow: 16 } satisfies PsiPoolInit)
 */
export interface PsiPoolInit {
  /** Number of worker threads. @default os.availableParallelism() */
  size?: number
  /** Batches smaller than this run on the calling thread (no message overhead). @default 32 */
  inlineBelow?: number
  /**
   * How `hashAndBlind` maps ids to points: 'v2' hashes onto the curve (./hash-to-curve.ts); 'v1' is
   * the superseded raw hashed u-coordinate of ./blind.ts, kept only for ./blind-pool.ts.
   * @default 'v2'
   */
  hashing?: 'v1' | 'v2'
}

/**
 * A pool of PSI v2 workers.
 * @example
 * const pool: PsiPool = createPsiPool()
 * await pool.close()
 */
export interface PsiPool extends AsyncDisposable {
  /** Number of worker threads. */
  readonly size: number
  /** `blindPoints(key, hashIdsToCurve(ids, salt))` across the workers. */
  hashAndBlind(ids: readonly string[], salt: Uint8Array, key: Uint8Array): Promise<Uint8Array>
  /** `blindPoints(key, points)` across the workers. */
  blind(key: Uint8Array, points: Uint8Array): Promise<Uint8Array>
  /** Terminates the workers; pending calls reject with BlindWorkerError. */
  close(): Promise<void>
}

// Under Node's type stripping this file is .ts; compiled output (tsc) is .js next to the worker's .js.
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './psi-worker.ts' : './psi-worker.js',
  import.meta.url
)

type Pending = { resolve: (out: Uint8Array) => void; reject: (err: Error) => void; first: number }
interface Slot {
  worker: Worker | undefined
  pending: Map<number, Pending>
}

function errorFrom(reply: Extract<PsiReply, { ok: false }>, first: number): Error {
  const where = `(batch slice from item ${first}) ${reply.message}`
  if (reply.code === 'COHORT_LOW_ORDER_POINT') return new LowOrderPointError(where)
  if (reply.code === 'COHORT_CRYPTO_ARGUMENT') return new CryptoArgumentError(where)
  return new BlindWorkerError(`${reply.name}: ${where}`)
}

/**
 * Starts a pool of PSI v2 workers (lazily: a worker is spawned on its first task).
 *
 * @example
 * await using pool = createPsiPool({ size: 2 })
 * const mine = await pool.hashAndBlind(ids, salt, key)
 * const doubled = await pool.blind(key, theirs)
 */
export function createPsiPool(init: PsiPoolInit = {}): PsiPool {
  const size = init.size ?? Math.max(1, availableParallelism())
  const inlineBelow = init.inlineBelow ?? 32
  const v1 = init.hashing === 'v1'
  aInRange(size, 1, 256, 'size')
  aInRange(inlineBelow, 0, Number.MAX_SAFE_INTEGER, 'inlineBelow')
  const slots: Slot[] = Array.from({ length: size }, () => ({ worker: undefined, pending: new Map() }))
  let nextId = 1
  let closed = false

  const failAll = (slot: Slot, err: Error): void => {
    for (const p of slot.pending.values()) p.reject(err)
    slot.pending.clear()
    slot.worker = undefined
  }

  const spawn = (slot: Slot): Worker => {
    const worker = new Worker(WORKER_URL)
    worker.unref()
    worker.on('message', (reply: PsiReply) => {
      const p = slot.pending.get(reply.id)
      if (p === undefined) return
      slot.pending.delete(reply.id)
      if (slot.pending.size === 0) worker.unref()
      if (reply.ok) p.resolve(reply.out)
      else p.reject(errorFrom(reply, p.first))
    })
    worker.on('error', (err) => {
      if (slot.worker === worker)
        failAll(slot, new BlindWorkerError(`PSI worker failed: ${err.message}`, { cause: err }))
    })
    worker.on('exit', (code) => {
      if (slot.worker === worker) failAll(slot, new BlindWorkerError(`PSI worker exited with code ${code}`))
    })
    slot.worker = worker
    return worker
  }

  const run = (slot: Slot, task: PsiTask, first: number, transfer: ArrayBuffer[]): Promise<Uint8Array> =>
    new Promise((resolve, reject) => {
      const worker = slot.worker ?? spawn(slot)
      slot.pending.set(task.id, { resolve, reject, first })
      if (slot.pending.size === 1) worker.ref()
      try {
        worker.postMessage(task, transfer)
      } catch (err) {
        slot.pending.delete(task.id)
        if (slot.pending.size === 0) worker.unref()
        reject(new BlindWorkerError(`could not send a task to a PSI worker: ${(err as Error).message}`))
      }
    })

  // Splits [0, n) into near-equal contiguous slices, one per worker, and concatenates the answers.
  let rotate = 0
  const fanOut = async (
    n: number,
    makeTask: (id: number, from: number, to: number) => { task: PsiTask; transfer: ArrayBuffer[] }
  ): Promise<Uint8Array> => {
    const parts = Math.min(size, n)
    const jobs: Promise<Uint8Array>[] = []
    const starts: number[] = []
    // Rotate the first slot so that concurrent small batches spread over the workers.
    const offset = rotate++ % size
    for (let i = 0; i < parts; i++) {
      const from = Math.floor((i * n) / parts)
      const to = Math.floor(((i + 1) * n) / parts)
      const { task, transfer } = makeTask(nextId++, from, to)
      starts.push(from)
      jobs.push(run(slots[(i + offset) % size]!, task, from, transfer))
    }
    const results = await Promise.all(jobs)
    const out = new Uint8Array(n * PSI_POINT_BYTES)
    results.forEach((r, i) => {
      out.set(r, starts[i]! * PSI_POINT_BYTES)
    })
    return out
  }

  const aOpen = (): void => {
    if (closed) throw new BlindPoolClosedError('the PSI pool is closed; create a new one')
  }

  return {
    size,
    async hashAndBlind(ids, salt, key) {
      aOpen()
      aBytes(key, PSI_POINT_BYTES, 'key')
      aBytes(salt, PSI_SALT_BYTES, 'salt')
      if (!Array.isArray(ids)) throw new CryptoArgumentError('ids must be an array of strings')
      if (ids.length < Math.max(1, inlineBelow)) {
        return v1 ? hashAndBlind(ids, salt, key) : blindPoints(key, hashIdsToCurve(ids, salt))
      }
      return await fanOut(ids.length, (id, from, to) => ({
        task: { id, op: v1 ? 'hash-blind-v1' : 'hash-blind', key, salt, ids: ids.slice(from, to) },
        transfer: []
      }))
    },
    async blind(key, points) {
      aOpen()
      aBytes(key, PSI_POINT_BYTES, 'key')
      aBytes(points, undefined, 'points')
      if (points.length % PSI_POINT_BYTES !== 0) {
        throw new CryptoArgumentError(`points must hold whole 32-byte points, got ${points.length} bytes`)
      }
      const n = points.length / PSI_POINT_BYTES
      if (n < Math.max(1, inlineBelow)) return blindPoints(key, points)
      return await fanOut(n, (id, from, to) => {
        // A real copy (Buffer#slice is a view): its buffer is transferred to the worker, and
        // transferring a view's buffer would detach the caller's memory (e.g. a network frame).
        const slice = Uint8Array.prototype.slice.call(points, from * PSI_POINT_BYTES, to * PSI_POINT_BYTES)
        return { task: { id, op: 'blind', key, points: slice }, transfer: [slice.buffer] }
      })
    },
    async close() {
      if (closed) return
      closed = true
      await Promise.all(
        slots.map(async (slot) => {
          const w = slot.worker
          if (w === undefined) return
          failAll(slot, new BlindWorkerError('PSI pool closed with work pending'))
          await w.terminate()
        })
      )
    },
    async [Symbol.asyncDispose]() {
      await this.close()
    }
  }
}
