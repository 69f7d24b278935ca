import { DEFAULT_MAX_FRAME_BYTES } from '../protocols/ids.ts'
import type { ProtocolId } from '../protocols/ids.ts'
import {
  MessageTooLargeError,
  PeerUnreachableError,
  ProtocolNotSupportedError,
  RequestTimeoutError
} from '../protocols/errors.ts'
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../protocols/transport.ts'
import type {
  HandleInit,
  PeerRef,
  RequestHandler,
  RequestOptions,
  Transport
} from '../protocols/transport.ts'
import { errorReply, okReply, openReply } from '../protocols/wire/reply.ts'

/** What a hook sees of one message crossing the loopback network. */
export interface LinkEvent {
  from: PeerRef
  to: PeerRef
  protocol: ProtocolId
  direction: 'request' | 'response'
}

/**
 * Fault hooks of a loopback network (simulations and tests). Every hook is optional; each is called
 * for every request and every response.
 */
export interface LoopbackHooks {
  /** One-way latency in ms. */
  latencyMs?: (e: LinkEvent) => number
  /** Return true to lose the message; the requester then times out. */
  drop?: (e: LinkEvent) => boolean
  /** Return replacement bytes to tamper with a message in flight. */
  tamper?: (e: LinkEvent, bytes: Uint8Array) => Uint8Array
}

interface Registered {
  handler: RequestHandler
  maxRequestBytes: number
}

/** The in-process network that loopback transports attach to. */
export interface LoopbackNetwork {
  transport(self: PeerRef): Transport
  /** Makes a peer unreachable (a crashed party) or reachable again. */
  setDown(peer: PeerRef, down: boolean): void
  readonly hooks: LoopbackHooks
  /** Bytes carried, per sender, requests and responses included. */
  readonly bytesSent: Map<PeerRef, number>
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t)
        reject(signal.reason)
      },
      { once: true }
    )
  })
}

/** A message that never arrives: waits for the requester's deadline. */
function lost(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) =>
    signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  )
}

/**
 * Creates an in-process network. Messages are copied (a party can never alias another's memory),
 * frame limits are enforced as on libp2p, and handler errors travel as typed reply frames, so the
 * same protocol code behaves the same on both transports.
 */
export function createLoopbackNetwork(hooks: LoopbackHooks = {}): LoopbackNetwork {
  const handlers = new Map<PeerRef, Map<ProtocolId, Registered>>()
  const down = new Set<PeerRef>()
  const bytesSent = new Map<PeerRef, number>()
  const count = (peer: PeerRef, n: number) => bytesSent.set(peer, (bytesSent.get(peer) ?? 0) + n)

  async function carry(e: LinkEvent, bytes: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
    count(e.from, bytes.length)
    await sleep(hooks.latencyMs?.(e) ?? 0, signal)
    if (hooks.drop?.(e) === true) return lost(signal)
    const copy = new Uint8Array(bytes)
    return hooks.tamper?.(e, copy) ?? copy
  }

  return {
    hooks,
    bytesSent,
    setDown(peer, isDown) {
      if (isDown) down.add(peer)
      else down.delete(peer)
    },
    transport(self: PeerRef): Transport {
      if (!handlers.has(self)) handlers.set(self, new Map())
      return {
        self,
        async handle(protocol: ProtocolId, handler: RequestHandler, init: HandleInit = {}) {
          handlers
            .get(self)!
            .set(protocol, { handler, maxRequestBytes: init.maxRequestBytes ?? DEFAULT_MAX_FRAME_BYTES })
        },
        async unhandle(protocol: ProtocolId) {
          handlers.get(self)!.delete(protocol)
        },
        async request(peer: PeerRef, protocol: ProtocolId, body: Uint8Array, options: RequestOptions = {}) {
          const signal =
            options.signal ?? AbortSignal.timeout(options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS)
          try {
            signal.throwIfAborted()
            if (down.has(self)) throw new PeerUnreachableError(`${self} is down`)
            if (down.has(peer) || !handlers.has(peer)) throw new PeerUnreachableError(`cannot reach ${peer}`)
            const reg = handlers.get(peer)!.get(protocol)
            if (reg === undefined) throw new ProtocolNotSupportedError(`${peer} does not serve ${protocol}`)
            const req = await carry({ from: self, to: peer, protocol, direction: 'request' }, body, signal)
            if (down.has(peer)) return await lost(signal)
            let reply: Uint8Array
            if (req.length > reg.maxRequestBytes) {
              reply = errorReply(new MessageTooLargeError(`request exceeds ${reg.maxRequestBytes} bytes`))
            } else {
              try {
                reply = okReply(await Promise.race([reg.handler(req, self, { signal }), lost(signal)]))
              } catch (err) {
                reply = errorReply(err)
              }
            }
            if (down.has(peer)) return await lost(signal)
            const res = await carry({ from: peer, to: self, protocol, direction: 'response' }, reply, signal)
            const max = options.maxResponseBytes ?? DEFAULT_MAX_FRAME_BYTES
            if (res.length - 1 > max)
              throw new MessageTooLargeError(`reply from ${peer} on ${protocol} exceeds ${max} bytes`)
            return openReply(res)
          } catch (err) {
            if (signal.aborted)
              throw new RequestTimeoutError(`no answer from ${peer} on ${protocol} before the deadline`)
            throw err
          }
        }
      }
    }
  }
}
