import { Hono } from 'hono'
import type { AdminContext } from '../context.ts'

/** `GET /v1/identity`: who this node is, and where it listens when it is running. */
export interface IdentityView {
  peerId: string
  name: string
  running: boolean
  /** libp2p listen addresses with `/p2p/<peerId>`; empty when the node is not running. */
  addrs: string[]
}

/**
 * `GET /` the node's peer id, name and (when running) its libp2p addresses.
 *
 * @example
 * app.route('/v1/identity', identityRoutes(ctx))
 */
export function identityRoutes(ctx: AdminContext): Hono {
  const { home, node } = ctx
  return new Hono().get('/', (c) => {
    const view: IdentityView = {
      peerId: home.identity.peerId,
      name: home.config.name,
      running: node !== undefined,
      addrs: node === undefined ? [] : node.libp2p.getMultiaddrs().map((a) => a.toString())
    }
    return c.json(view)
  })
}
