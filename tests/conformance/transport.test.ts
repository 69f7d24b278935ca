import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { memory } from '@libp2p/memory'
import { tcp } from '@libp2p/tcp'
import type { Libp2p } from '@libp2p/interface'
import { createLibp2p } from 'libp2p'
import { createLibp2pTransport } from '../../platform/net/libp2p-transport.ts'
import { createLoopbackNetwork } from '../../simulations/loopback-transport.ts'
import { transportSuite } from './transport.suite.ts'

transportSuite(
  'loopback',
  async () => {
    const net = createLoopbackNetwork()
    return { a: net.transport('party-a'), b: net.transport('party-b') }
  },
  async () => {}
)

function libp2pSuite(name: string, transport: 'tcp' | 'memory') {
  const nodes: Libp2p[] = []
  transportSuite(
    name,
    async () => {
      for (let i = 0; i < 2; i++) {
        nodes.push(
          await createLibp2p({
            privateKey: await generateKeyPair('Ed25519'),
            addresses: {
              listen: [
                transport === 'tcp' ? '/ip4/127.0.0.1/tcp/0' : `/memory/cohort-conf-${i}-${Date.now()}`
              ]
            },
            transports: [transport === 'tcp' ? tcp() : memory()],
            connectionEncrypters: [noise()],
            streamMuxers: [yamux()]
          })
        )
      }
      await nodes[0]!.dial(nodes[1]!.getMultiaddrs()[0]!)
      return { a: createLibp2pTransport(nodes[0]!), b: createLibp2pTransport(nodes[1]!) }
    },
    async () => {
      await Promise.all(nodes.map((n) => n.stop()))
    }
  )
}

libp2pSuite('libp2p over TCP', 'tcp')
libp2pSuite('libp2p over @libp2p/memory', 'memory')
