/**
 * PSI v2 compute across worker threads: hash-to-curve + first blinding (`hashAndBlind`) and the
 * second blinding (`blind`). Per id the first costs ~25 µs (hash-to-curve) + ~55–60 µs (X25519) and
 * the second ~55–60 µs on one core here, so a million ids need minutes of CPU: the pool cuts every
 * call into chunks that idle workers pull from one queue, and assembles the answers in order.
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

/** One call split into chunks; resolves when every chunk is back. */
interface Call {
  out: Uint8Array
  left: number
  failed: boolean
  resolve: (out: Uint8Array) => void
  reject: (err: Error) => void
}
/** A chunk of a call: items [from, to) of it. */
interface Chunk {
  call: Call
  from: number
  to: number
  make: (id: number) => { task: PsiTask; transfer: ArrayBuffer[] }
}
interface Slot {
  worker: Worker | undefined
  inFlight: Map<number, Chunk>
}

/**
 * Items per chunk. A chunk is ~0.1–0.3 s of work: small enough that an idle worker always finds
 * one (a busy machine preempts threads; equal halves would leave the other worker waiting), large
 * enough that messaging is noise (< 0.1% of the chunk's time).
 */
const CHUNK_ITEMS = 2048
/** Chunks queued at each worker, so that it never waits for the next message between chunks. */
const PER_WORKER = 2

function errorFrom(reply: Extract<PsiReply, { ok: false }>, first: number): Error {
  const where = `(batch slice from item ${first}) ${reply.message}`
  if (reply.code === 'COHORT_LOW_ORDER_POINT') return new LowOrderPointError(where)
  if (reply.code === 'COHORT_CRYPTO_ARGUMENT') return new CryptoArgumentError(where)
  return new BlindWorkerError(`${reply.name}: ${where}`)
}

/**
 * Starts a pool of PSI v2 workers (lazily: a worker is spawned on its first task). Every call is cut
 * into chunks of {@link CHUNK_ITEMS} items in one queue shared by all workers (first call first);
 * each worker pulls the next chunk when it answers one, so no worker idles while work is queued.
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
  const slots: Slot[] = Array.from({ length: size }, () => ({ worker: undefined, inFlight: new Map() }))
  const queue: Chunk[] = []
  let queueHead = 0
  let nextId = 1
  let closed = false

  const fail = (call: Call, err: Error): void => {
    if (call.failed) return
    call.failed = true
    call.reject(err)
  }

  const failSlot = (slot: Slot, err: Error): void => {
    for (const c of slot.inFlight.values()) fail(c.call, err)
    slot.inFlight.clear()
    slot.worker = undefined
  }

  const spawn = (slot: Slot): Worker => {
    const worker = new Worker(WORKER_URL)
    worker.unref()
    worker.on('message', (reply: PsiReply) => {
      const chunk = slot.inFlight.get(reply.id)
      if (chunk === undefined) return
      slot.inFlight.delete(reply.id)
      const { call } = chunk
      if (!reply.ok) fail(call, errorFrom(reply, chunk.from))
      else if (!call.failed) {
        call.out.set(reply.out, chunk.from * PSI_POINT_BYTES)
        if (--call.left === 0) call.resolve(call.out)
      }
      pump()
    })
    worker.on('error', (err) => {
      if (slot.worker === worker) {
        failSlot(slot, new BlindWorkerError(`PSI worker failed: ${err.message}`, { cause: err }))
        pump()
      }
    })
    worker.on('exit', (code) => {
      if (slot.worker === worker) {
        failSlot(slot, new BlindWorkerError(`PSI worker exited with code ${code}`))
        pump()
      }
    })
    slot.worker = worker
    return worker
  }

  const nextChunk = (): Chunk | undefined => {
    while (queueHead < queue.length) {
      const c = queue[queueHead]!
      queue[queueHead++] = undefined as unknown as Chunk
      if (!c.call.failed) return c
    }
    queue.length = 0
    queueHead = 0
    return undefined
  }

  const enqueue = (chunk: Chunk): void => {
    if (queueHead > 1024 && queueHead * 2 > queue.length) {
      queue.splice(0, queueHead)
      queueHead = 0
    }
    queue.push(chunk)
  }

  // Hands queued chunks to workers with room, the least loaded first.
  function pump(): void {
    if (closed) return
    for (let round = 0; round < PER_WORKER; round++) {
      for (const slot of slots) {
        if (slot.inFlight.size > round) continue
        const chunk = nextChunk()
        if (chunk === undefined) break
        const worker = slot.worker ?? spawn(slot)
        const id = nextId++
        const { task, transfer } = chunk.make(id)
        slot.inFlight.set(id, chunk)
        try {
          worker.postMessage(task, transfer)
        } catch (err) {
          slot.inFlight.delete(id)
          fail(
            chunk.call,
            new BlindWorkerError(`could not send a task to a PSI worker: ${(err as Error).message}`)
          )
        }
      }
    }
    for (const slot of slots) {
      if (slot.worker === undefined) continue
      if (slot.inFlight.size > 0) slot.worker.ref()
      else slot.worker.unref()
    }
  }

  // Cuts [0, n) into chunks (at least one per worker when n is small) and queues them. `key` is
  // copied now (the caller may wipe its own when it gives up) and the copy wiped once settled.
  const fanOut = (
    n: number,
    key: Uint8Array,
    make: (
      id: number,
      key: Uint8Array,
      from: number,
      to: number,
      prepared: unknown
    ) => { task: PsiTask; transfer: ArrayBuffer[] },
    prepare: (from: number, to: number) => unknown = () => undefined
  ): Promise<Uint8Array> => {
    const own = key.slice()
    const step = Math.max(1, Math.min(CHUNK_ITEMS, Math.ceil(n / size)))
    const settled = new Promise<Uint8Array>((resolve, reject) => {
      const call: Call = {
        out: new Uint8Array(n * PSI_POINT_BYTES),
        left: Math.ceil(n / step),
        failed: false,
        resolve,
        reject
      }
      for (let from = 0; from < n; from += step) {
        const to = Math.min(n, from + step)
        const prepared = prepare(from, to)
        enqueue({ call, from, to, make: (id) => make(id, own, from, to, prepared) })
      }
      pump()
    })
    return settled.finally(() => own.fill(0))
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
      return await fanOut(ids.length, key, (id, k, from, to) => ({
        task: { id, op: v1 ? 'hash-blind-v1' : 'hash-blind', key: k, salt, ids: ids.slice(from, to) },
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
      return await fanOut(
        n,
        key,
        (id, k, _from, _to, slice) => {
          const pts = slice as Uint8Array
          return { task: { id, op: 'blind', key: k, points: pts }, transfer: [pts.buffer as ArrayBuffer] }
        },
        // Copied now, as the caller's bytes may change once we return to the event loop; a real copy
        // (Buffer#slice is a view): its buffer is transferred to the worker, and transferring a view's
        // buffer would detach the caller's memory (e.g. a network frame).
        (from, to) => Uint8Array.prototype.slice.call(points, from * PSI_POINT_BYTES, to * PSI_POINT_BYTES)
      )
    },
    async close() {
      if (closed) return
      closed = true
      const err = new BlindWorkerError('PSI pool closed with work pending')
      for (let c = nextChunk(); c !== undefined; c = nextChunk()) fail(c.call, err)
      await Promise.all(
        slots.map(async (slot) => {
          const w = slot.worker
          if (w === undefined) return
          failSlot(slot, err)
          await w.terminate()
        })
      )
    },
    async [Symbol.asyncDispose]() {
      await this.close()
    }
  }
}
