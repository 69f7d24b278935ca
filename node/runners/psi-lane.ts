/**
 * An ordered outgoing lane of PSI batches to one peer for one chain: items are sent one at a time,
 * in push order, each as a unary request; `push` resolves once the lane has room again (at most
 * `capacity` items queued), which is how backpressure travels up a chain. Lanes of different chains
 * are independent, so a slow chain never blocks another (and hop cycles cannot deadlock).
 */
import type { ProtocolId } from '../../protocols/ids.ts'
import type { PeerRef, Transport } from '../../protocols/transport.ts'

/**
 * Options of {@link createLane}.
 * @example
 * createLane({ transport, protocol: PROTOCOLS.psi, to, timeoutMs: 300_000, signal, onError } satisfies LaneInit)
 */
export interface LaneInit {
  transport: Transport
  protocol: ProtocolId
  to: PeerRef
  /** Items that may wait in the lane. @default 2 */
  capacity?: number
  /** Deadline of one request. */
  timeoutMs: number
  /** Aborts everything (the session's signal). */
  signal: AbortSignal
  /** Called once when a send fails; the lane stops. */
  onError: (err: unknown) => void
}

/**
 * An ordered sender.
 * @example
 * const lane: Lane = createLane(init); await lane.push(frame)
 */
export interface Lane {
  /** Queues a frame; resolves when the lane has room for the next one. */
  push(frame: Uint8Array): Promise<void>
  /** Resolves when every queued frame was delivered (rejects if the lane failed). */
  drain(): Promise<void>
  /** Frames delivered so far. */
  readonly sent: number
}

/**
 * Creates a lane.
 *
 * @example
 * const lane = createLane({ transport, protocol: PROTOCOLS.psi, to, timeoutMs: 300_000, signal, onError })
 * await lane.push(frame)
 * await lane.drain()
 */
export function createLane(init: LaneInit): Lane {
  const capacity = init.capacity ?? 2
  const queue: Uint8Array[] = []
  const roomWaiters: Array<() => void> = []
  const drainWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = []
  let pumping = false
  let failed: unknown
  let sent = 0

  const wake = (): void => {
    while (roomWaiters.length > 0 && (queue.length < capacity || failed !== undefined)) roomWaiters.shift()!()
    if (queue.length === 0 && !pumping) {
      for (const w of drainWaiters.splice(0)) failed === undefined ? w.resolve() : w.reject(failed)
    }
  }

  const pump = async (): Promise<void> => {
    if (pumping) return
    pumping = true
    try {
      while (queue.length > 0 && failed === undefined) {
        const frame = queue[0]!
        try {
          await init.transport.request(init.to, init.protocol, frame, {
            signal: AbortSignal.any([init.signal, AbortSignal.timeout(init.timeoutMs)])
          })
          sent++
        } catch (err) {
          failed = err
          queue.length = 0
          init.onError(err)
          break
        }
        queue.shift()
        wake()
      }
    } finally {
      pumping = false
      wake()
    }
  }

  return {
    get sent() {
      return sent
    },
    async push(frame) {
      if (failed !== undefined) throw failed
      queue.push(frame)
      void pump()
      if (queue.length >= capacity) await new Promise<void>((resolve) => roomWaiters.push(resolve))
      if (failed !== undefined) throw failed
    },
    drain() {
      if (failed !== undefined) return Promise.reject(failed)
      if (queue.length === 0 && !pumping) return Promise.resolve()
      return new Promise((resolve, reject) => drainWaiters.push({ resolve, reject }))
    }
  }
}
