/**
 * Spreads PSI blinding (./blind.ts) over worker threads: X25519 costs ~55 µs per point, so a
 * million ids take ~55 s on one core. Compute only; kept apart from blind.ts because crypto/ is
 * otherwise free of threads and resources.
 *
 * A batch is cut into `size` contiguous slices, one per worker; each worker handles its messages in
 * order, so concurrent calls queue naturally. Workers are unref'd while idle, so a forgotten pool
 * does not keep the process alive; still, close() it (or `await using`).
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { aBytes, aInRange } from '../asserts.ts'
import { CryptoArgumentError, LowOrderPointError } from '../errors.ts'
import { blindPoints, hashAndBlind, PSI_POINT_BYTES, PSI_SALT_BYTES } from './blind.ts'
import type { BlindReply, BlindTask } from './blind-worker.ts'
import { BlindPoolClosedError, BlindWorkerError } from './errors.ts'

/**
 * Options of {@link createBlindPool}.
 * @example
 * createBlindPool({ size: 4, inlineBelow: 128 } satisfies BlindPoolInit)
 */
export interface BlindPoolInit {
  /** Number of worker threads. @default os.availableParallelism() */
  size?: number
  /** Batches smaller than this run on the calling thread (no message overhead). @default 64 */
  inlineBelow?: number
}

/**
 * A pool of PSI blinding workers.
 * @example
 * const pool: BlindPool = createBlindPool()
 * await pool.close()
 */
export interface BlindPool extends AsyncDisposable {
  /** Number of worker threads. */
  readonly size: number
  /** `blindPoints(key, points)` across the workers. */
  blind(key: Uint8Array, points: Uint8Array): Promise<Uint8Array>
  /** `hashAndBlind(ids, salt, key)` across the workers. */
  hashAndBlind(ids: readonly string[], salt: Uint8Array, key: Uint8Array): Promise<Uint8Array>
  /** Terminates the workers; pending calls reject with BlindWorkerError. */
  close(): Promise<void>
}

// Under Node's type stripping this file is .ts; compiled output (tsc) is .js next to the worker's .js.
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './blind-worker.ts' : './blind-worker.js',
  import.meta.url
)

interface Slot {
  worker: Worker | undefined
  pending: Map<number, { resolve: (out: Uint8Array) => void; reject: (err: Error) => void; first: number }>
}

function errorFrom(reply: Extract<BlindReply, { ok: false }>, first: number): Error {
  const where = `(batch slice from point ${first}) ${reply.message}`
  if (reply.code === 'COHORT_LOW_ORDER_POINT') return new LowOrderPointError(where)
  if (reply.code === 'COHORT_CRYPTO_ARGUMENT') return new CryptoArgumentError(where)
  return new BlindWorkerError(`${reply.name}: ${where}`)
}

/**
 * Starts a pool of blinding workers.
 *
 * @example
 * await using pool = createBlindPool({ size: 4 })
 * const mine = await pool.hashAndBlind(ids, salt, key)
 */
export function createBlindPool(init: BlindPoolInit = {}): BlindPool {
  const size = init.size ?? Math.max(1, availableParallelism())
  const inlineBelow = init.inlineBelow ?? 64
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
    worker.on('message', (reply: BlindReply) => {
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

  const run = (slot: Slot, task: BlindTask, first: number, transfer: ArrayBuffer[]): Promise<Uint8Array> =>
    new Promise((resolve, reject) => {
      const worker = slot.worker ?? spawn(slot)
      slot.pending.set(task.id, { resolve, reject, first })
      if (slot.pending.size === 1) worker.ref()
      try {
        worker.postMessage(task, transfer)
      } catch (err) {
        slot.pending.delete(task.id)
        if (slot.pending.size === 0) worker.unref()
        reject(
          new BlindWorkerError(`could not send a task to a PSI worker: ${(err as Error).message}`, {
            cause: err
          })
        )
      }
    })

  // Splits [0, n) into `size` near-equal contiguous slices, runs one per worker, concatenates.
  const fanOut = async (
    n: number,
    makeTask: (id: number, from: number, to: number) => { task: BlindTask; transfer: ArrayBuffer[] }
  ): Promise<Uint8Array> => {
    const parts = Math.min(size, n)
    const jobs: Promise<Uint8Array>[] = []
    const starts: number[] = []
    for (let i = 0; i < parts; i++) {
      const from = Math.floor((i * n) / parts)
      const to = Math.floor(((i + 1) * n) / parts)
      const { task, transfer } = makeTask(nextId++, from, to)
      starts.push(from)
      jobs.push(run(slots[i]!, task, from, transfer))
    }
    const results = await Promise.all(jobs)
    const out = new Uint8Array(n * PSI_POINT_BYTES)
    results.forEach((r, i) => {
      out.set(r, starts[i]! * PSI_POINT_BYTES)
    })
    return out
  }

  const aOpen = (): void => {
    if (closed) throw new BlindPoolClosedError()
  }

  return {
    size,
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
        // A real copy, which we transfer: Buffer#slice is a view, and transferring its buffer would
        // detach the caller's memory (a decoded network frame is a Buffer).
        const slice = Uint8Array.prototype.slice.call(points, from * PSI_POINT_BYTES, to * PSI_POINT_BYTES)
        return { task: { id, op: 'blind', key, points: slice }, transfer: [slice.buffer] }
      })
    },
    async hashAndBlind(ids, salt, key) {
      aOpen()
      aBytes(key, PSI_POINT_BYTES, 'key')
      aBytes(salt, PSI_SALT_BYTES, 'salt')
      if (!Array.isArray(ids)) throw new CryptoArgumentError('ids must be an array of strings')
      if (ids.length < Math.max(1, inlineBelow)) return hashAndBlind(ids, salt, key)
      return await fanOut(ids.length, (id, from, to) => ({
        task: { id, op: 'hash-and-blind', key, salt, ids: ids.slice(from, to) },
        transfer: []
      }))
    },
    async close() {
      if (closed) return
      closed = true
      await Promise.all(
        slots.map(async (slot) => {
          const w = slot.worker
          if (w === undefined) return
          failAll(slot, new BlindWorkerError('PSI blind pool closed with work pending'))
          await w.terminate()
        })
      )
    },
    async [Symbol.asyncDispose]() {
      await this.close()
    }
  }
}
