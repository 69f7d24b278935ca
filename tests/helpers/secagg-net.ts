/**
 * TEST ONLY: coordinator-side Transport wrappers for SecAgg tests: a malicious relay that rewrites
 * requests, and a recorder that keeps the coordinator's whole transcript.
 */
import { decodeSecaggRequest, encodeSecagg } from '../../protocols/secagg/messages.ts'
import type { SecaggRequest } from '../../protocols/secagg/messages.ts'
import type { PeerRef, Transport } from '../../protocols/transport.ts'

/**
 * Rewrites each secagg request before it is sent: return a new request, raw bytes, or undefined to
 * send it unchanged.
 *
 * @example
 * const evil = mutatingTransport(t, (peer, req) => (req.phase === 'unmask' ? { ...req, dropped: [] } : undefined))
 */
export function mutatingTransport(
  inner: Transport,
  mutate: (peer: PeerRef, req: SecaggRequest) => SecaggRequest | Uint8Array | undefined
): Transport {
  return {
    ...inner,
    self: inner.self,
    request(peer, protocol, body, options) {
      const changed = mutate(peer, decodeSecaggRequest(body))
      const out =
        changed === undefined ? body : changed instanceof Uint8Array ? changed : encodeSecagg(changed)
      return inner.request(peer, protocol, out, options)
    }
  }
}

export interface TranscriptEntry {
  peer: PeerRef
  request: SecaggRequest
  reply?: Uint8Array
  error?: string
}

/**
 * Records every request and reply the coordinator sends and receives.
 *
 * @example
 * const log: TranscriptEntry[] = []
 * const t = recordingTransport(inner, log)
 */
export function recordingTransport(inner: Transport, log: TranscriptEntry[]): Transport {
  return {
    ...inner,
    self: inner.self,
    async request(peer, protocol, body, options) {
      const entry: TranscriptEntry = { peer, request: decodeSecaggRequest(body) }
      log.push(entry)
      try {
        const reply = await inner.request(peer, protocol, body, options)
        entry.reply = new Uint8Array(reply)
        return reply
      } catch (err) {
        entry.error = (err as { code?: string }).code ?? String(err)
        throw err
      }
    }
  }
}
