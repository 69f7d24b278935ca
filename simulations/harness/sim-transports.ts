import type { CohortLibp2p } from '../../platform/net/libp2p-host.ts'
import { createHost } from '../../platform/net/libp2p-host.ts'
import { createLibp2pTransport } from '../../platform/net/libp2p-transport.ts'
import type { PeerRef, Transport } from '../../protocols/transport.ts'
import type { LoopbackHooks, LoopbackNetwork } from '../loopback-transport.ts'
import { createLoopbackNetwork } from '../loopback-transport.ts'
import type { SimIdentity } from '../secagg-federation.ts'

/**
 * Transports of a simulated federation: one in-process loopback network, or (`libp2p`) a real
 * libp2p host per party on 127.0.0.1 that admits only `members`. `hosts` lists the libp2p hosts in
 * creation order (callers dial them to each other); `stopHosts` stops them.
 *
 * @example
 * const t = simTransports('loopback', new Set(peerIds)); const tr = await t.transportOf(id)
 */
export function simTransports(
  kind: 'loopback' | 'libp2p',
  members: { has(peerId: string): boolean },
  hooks: LoopbackHooks = {}
): {
  /** The loopback network (undefined over libp2p). */
  net: LoopbackNetwork | undefined
  hosts: CohortLibp2p[]
  transportOf(id: SimIdentity): Promise<Transport>
  stopHosts(): Promise<void>
} {
  const net = kind === 'libp2p' ? undefined : createLoopbackNetwork(hooks)
  const hosts: CohortLibp2p[] = []
  return {
    net,
    hosts,
    async transportOf(id) {
      if (net !== undefined) return net.transport(id.peerId as PeerRef)
      const host = await createHost({
        privateKey: id.privateKey,
        isMember: (p) => members.has(p),
        onRefused: () => {}
      })
      hosts.push(host)
      return createLibp2pTransport(host)
    },
    async stopHosts() {
      for (const h of hosts) await h.stop()
    }
  }
}
