import type { ProtocolId } from './ids.ts'

export interface AbortOptions {
  signal?: AbortSignal
}

/** A peer: a libp2p peer id string, or a simulation party id. */
export type PeerRef = string

/** Serves one request; a thrown CohortError reaches the caller as a RemoteError with its code. */
export type RequestHandler = (body: Uint8Array, from: PeerRef, options: AbortOptions) => Promise<Uint8Array>

export interface HandleInit {
  /** Largest request frame accepted; larger frames are refused before being buffered. */
  maxRequestBytes?: number
}

export interface RequestOptions extends AbortOptions {
  /** Largest response frame accepted. */
  maxResponseBytes?: number
  /** Deadline when no signal is given. @default 30000 */
  timeoutMs?: number
}

/**
 * Unary request/response between peers: one stream per request, one length-prefixed frame each way.
 * Implementations: libp2p (platform/net/libp2p-transport.ts) and in-process loopback
 * (simulations/loopback-transport.ts). Protocol code runs unchanged on both.
 */
export interface Transport {
  readonly self: PeerRef
  handle(protocol: ProtocolId, handler: RequestHandler, init?: HandleInit): Promise<void>
  unhandle(protocol: ProtocolId): Promise<void>
  request(
    peer: PeerRef,
    protocol: ProtocolId,
    body: Uint8Array,
    options?: RequestOptions
  ): Promise<Uint8Array>
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
