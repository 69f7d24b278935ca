import { existsSync } from 'node:fs'
import { Hono } from 'hono'
import { z } from 'zod'
import { PeerIdString } from '../../../configs/federation.ts'
import { findMember, readManifest } from '../../../platform/federation/manifest.ts'
import type { PeerView } from '../../node.ts'
import type { AdminContext } from '../context.ts'
import {
  NodeNotRunningError,
  PeerNotFoundError,
  PeerUnreachableError,
  RequestInvalidError
} from '../errors.ts'
import { pathParams } from '../middleware/validate.ts'

/** How long a ping may take before the API answers `COHORT_PEER_UNREACHABLE`. */
export const PING_TIMEOUT_MS = 5_000

/** `GET /v1/peers`: the federation's other members and whether this node is connected to each. */
export interface PeersView {
  /** Federation name, or null when the node has no manifest yet. */
  federation: string | null
  running: boolean
  peers: PeerView[]
}

/**
 * `GET /` the manifest's members (except this node) with their connection state (always
 * `connected: false` when the node is not running); `POST /:peerId/ping` pings a member over
 * libp2p and returns the round-trip time in milliseconds.
 *
 * @example
 * app.route('/v1/peers', peersRoutes(ctx))
 */
export function peersRoutes(ctx: AdminContext): Hono {
  const { home, node } = ctx
  const self = home.identity.peerId
  return new Hono()
    .get('/', (c) => {
      if (node !== undefined) {
        const view: PeersView = { federation: node.manifest().federation, running: true, peers: node.peers() }
        return c.json(view)
      }
      if (!existsSync(home.federationPath))
        return c.json({ federation: null, running: false, peers: [] } satisfies PeersView)
      const manifest = readManifest(home.federationPath)
      const peers: PeerView[] = manifest.members
        .filter((m) => m.peerId !== self)
        .map((m) => ({
          peerId: m.peerId,
          org: m.org,
          roles: m.roles,
          member: true,
          connected: false,
          addrs: m.multiaddrs
        }))
      return c.json({ federation: manifest.federation, running: false, peers } satisfies PeersView)
    })
    .post('/:peerId/ping', pathParams(z.object({ peerId: PeerIdString })), async (c) => {
      const { peerId } = c.req.valid('param')
      if (node === undefined) throw new NodeNotRunningError('pinging a peer')
      if (peerId === self) throw new RequestInvalidError('a node cannot ping itself')
      if (findMember(node.manifest(), peerId) === undefined) throw new PeerNotFoundError(peerId)
      let rttMs: number
      try {
        rttMs = await node.ping(peerId, {
          signal: AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(PING_TIMEOUT_MS)])
        })
      } catch (err) {
        const reason = err instanceof Error ? err.message.split('\n')[0] : String(err)
        throw new PeerUnreachableError(`could not ping ${peerId}: ${reason}`, { cause: err })
      }
      return c.json({ peerId, rttMs })
    })
}
