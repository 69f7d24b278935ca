import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import type { Identify } from '@libp2p/identify'
import type { Ping } from '@libp2p/ping'
import type { Ed25519PrivateKey, Libp2p } from '@libp2p/interface'
import { createLibp2p } from 'libp2p'
import { membershipGater } from './membership-gater.ts'
import type { RefusedPeer } from './membership-gater.ts'

export type CohortLibp2p = Libp2p<{ identify: Identify; ping: Ping }>

export interface HostInit {
  privateKey: Ed25519PrivateKey
  /** @default ['/ip4/127.0.0.1/tcp/0'] */
  listen?: string[]
  isMember: (peerId: string) => boolean
  onRefused: (refused: RefusedPeer) => void
}

/**
 * The node's libp2p host: TCP, Noise, yamux, identify, ping, and the membership gater. No peer
 * discovery: members are dialled by the addresses in the federation manifest.
 */
export async function createHost(init: HostInit): Promise<CohortLibp2p> {
  return createLibp2p({
    privateKey: init.privateKey,
    addresses: { listen: init.listen ?? ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: membershipGater(init.isMember, init.onRefused),
    // Members run seconds-long synchronous crypto (CKKS products, SEAL key loading) that holds the
    // event loop; libp2p's 10 s defaults for dialling and for negotiating a stream's protocol then
    // fail requests between members on a busy machine. Stream negotiation only happens after Noise
    // and the gater admitted a member, so a longer wait there gives nothing to strangers; the
    // inbound upgrade of unauthenticated connections keeps libp2p's 10 s.
    connectionManager: {
      dialTimeout: 30_000,
      inboundStreamProtocolNegotiationTimeout: 60_000,
      outboundStreamProtocolNegotiationTimeout: 60_000
    },
    services: { identify: identify(), ping: ping() }
  })
}
