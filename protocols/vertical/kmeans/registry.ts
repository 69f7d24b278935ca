/**
 * One `/cohort/vertical-kmeans/1.0.0` handler per transport, dispatching to the member sessions
 * running on it by session id, so several sessions can share a node's transport. A request is
 * decoded (size cap, msgpack, schema) before its session is looked up; a request for a session not
 * running here is refused with COHORT_VKMEANS_UNKNOWN_SESSION.
 */
import { PROTOCOLS } from '../../ids.ts'
import type { AbortOptions, PeerRef, Transport } from '../../transport.ts'
import { VerticalKMeansConfigError, VerticalKMeansUnknownSessionError } from './errors.ts'
import { VKM_MAX_FRAME_BYTES } from './limits.ts'
import { decodeVkmRequest } from './messages.ts'
import type { VkmRequest } from './messages.ts'

/**
 * Handles one decoded request of a session; returns the encoded reply.
 * @example
 * const handler: VkmSessionHandler = async (req, from) => encodeVkm({ v: 1 })
 */
export type VkmSessionHandler = (req: VkmRequest, from: PeerRef, options: AbortOptions) => Promise<Uint8Array>

const sessions = new WeakMap<Transport, Map<string, VkmSessionHandler>>()

/**
 * Registers a session's handler; the returned function unregisters it (and the protocol handler
 * with the last session).
 *
 * @throws VerticalKMeansConfigError when the session id is already running on this transport
 * @example
 * const unregister = await registerVkmSession(transport, sessionId, handler)
 * try { ... } finally { await unregister() }
 */
export async function registerVkmSession(
  transport: Transport,
  sessionId: string,
  handler: VkmSessionHandler
): Promise<() => Promise<void>> {
  const map = sessions.get(transport) ?? new Map<string, VkmSessionHandler>()
  sessions.set(transport, map)
  if (map.has(sessionId))
    throw new VerticalKMeansConfigError(`vertical k-means session ${sessionId} is already running here`)
  const first = map.size === 0
  map.set(sessionId, handler)
  if (first) await install(transport, map)
  let done = false
  return async () => {
    if (done) return
    done = true
    map.delete(sessionId)
    if (map.size > 0) return
    await transport.unhandle(PROTOCOLS.verticalKmeans)
    // A session registered while the handler was being removed needs it back.
    if (map.size > 0) await install(transport, map)
  }
}

async function install(transport: Transport, live: Map<string, VkmSessionHandler>): Promise<void> {
  await transport.handle(
    PROTOCOLS.verticalKmeans,
    async (body, from, options) => {
      const req = decodeVkmRequest(body)
      const h = live.get(req.sessionId)
      if (h === undefined)
        throw new VerticalKMeansUnknownSessionError(`no vertical k-means session ${req.sessionId} here`)
      return h(req, from, options)
    },
    { maxRequestBytes: VKM_MAX_FRAME_BYTES }
  )
}
