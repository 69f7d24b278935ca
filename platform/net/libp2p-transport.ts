import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import type { Libp2p, Stream } from '@libp2p/interface'
import { DEFAULT_MAX_FRAME_BYTES } from '../../protocols/ids.ts'
import type { ProtocolId } from '../../protocols/ids.ts'
import {
  MessageTooLargeError,
  PeerUnreachableError,
  ProtocolNotSupportedError,
  RequestTimeoutError
} from '../../protocols/errors.ts'
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../protocols/transport.ts'
import type { HandleInit, RequestHandler, RequestOptions, Transport } from '../../protocols/transport.ts'
import { errorReply, okReply, openReply } from '../../protocols/wire/reply.ts'

export interface Libp2pTransportInit {
  /** Called for every refused or failed inbound request (for logging/auditing). */
  onInboundError?: (info: { protocol: ProtocolId; from: string; code: string; message: string }) => void
}

function lpOptions(maxBytes: number) {
  // The byte buffer must hold one whole frame plus its varint prefix.
  return { maxDataLength: maxBytes, maxBufferSize: maxBytes + 16 }
}

function translate(err: unknown, peer: string, protocol: string, signal: AbortSignal): Error {
  const e = err as { name?: string; code?: string; message?: string }
  if (signal.aborted)
    return new RequestTimeoutError(`no answer from ${peer} on ${protocol} before the deadline`)
  if (e?.name === 'InvalidDataLengthError' || e?.name === 'StreamBufferError') {
    return new MessageTooLargeError(`reply from ${peer} on ${protocol} exceeds the frame limit`)
  }
  if (e?.name === 'UnsupportedProtocolError')
    return new ProtocolNotSupportedError(`${peer} does not serve ${protocol}`)
  if (typeof e?.code === 'string' && e.code.startsWith('COHORT_')) return err as Error
  return new PeerUnreachableError(`request to ${peer} on ${protocol} failed: ${e?.message ?? String(err)}`)
}

/**
 * The production Transport: each request opens a libp2p stream, writes one length-prefixed frame and
 * reads one back. Frame limits are enforced while reading, before a frame is buffered whole.
 */
export function createLibp2pTransport(libp2p: Libp2p, init: Libp2pTransportInit = {}): Transport {
  return {
    self: libp2p.peerId.toString(),

    async handle(protocol: ProtocolId, handler: RequestHandler, handleInit: HandleInit = {}) {
      const maxRequestBytes = handleInit.maxRequestBytes ?? DEFAULT_MAX_FRAME_BYTES
      await libp2p.handle(
        protocol,
        async (stream: Stream, connection) => {
          const from = connection.remotePeer.toString()
          const lp = lpStream(stream, lpOptions(maxRequestBytes))
          const controller = new AbortController()
          stream.addEventListener('close', () => controller.abort(), { once: true })
          try {
            const request = (
              await lp.read({ signal: AbortSignal.timeout(DEFAULT_REQUEST_TIMEOUT_MS) })
            ).subarray()
            let reply: Uint8Array
            try {
              reply = okReply(await handler(request, from, { signal: controller.signal }))
            } catch (err) {
              const code = (err as { code?: string }).code ?? 'COHORT_INTERNAL'
              init.onInboundError?.({ protocol, from, code, message: (err as Error).message })
              reply = errorReply(err)
            }
            await lp.write(reply)
            await stream.close()
          } catch (err) {
            const name = (err as { name?: string }).name
            const tooLarge = name === 'InvalidDataLengthError' || name === 'StreamBufferError'
            const e = tooLarge ? new MessageTooLargeError(`request exceeds ${maxRequestBytes} bytes`) : err
            init.onInboundError?.({
              protocol,
              from,
              code: (e as { code?: string }).code ?? 'COHORT_MALFORMED_MESSAGE',
              message: (e as Error).message
            })
            stream.abort(e as Error)
          }
        },
        { maxInboundStreams: 256, maxOutboundStreams: 256, force: true }
      )
    },

    async unhandle(protocol: ProtocolId) {
      await libp2p.unhandle(protocol)
    },

    async request(peer: string, protocol: ProtocolId, body: Uint8Array, options: RequestOptions = {}) {
      const signal = options.signal ?? AbortSignal.timeout(options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS)
      signal.throwIfAborted()
      let stream: Stream | undefined
      try {
        stream = await libp2p.dialProtocol(peerIdFromString(peer), protocol, { signal })
        const lp = lpStream(stream, lpOptions(options.maxResponseBytes ?? DEFAULT_MAX_FRAME_BYTES))
        await lp.write(body, { signal })
        const frame = (await lp.read({ signal })).subarray()
        await stream.close({ signal }).catch(() => {})
        return openReply(frame)
      } catch (err) {
        stream?.abort(err as Error)
        throw translate(err, peer, protocol, signal)
      }
    }
  }
}
