import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addMember } from '../../platform/federation/manifest.ts'
import { initNodeHome, openNodeHome } from '../../node/home.ts'
import { startNode } from '../../node/node.ts'
import type { CohortNode } from '../../node/node.ts'

describe('federation membership over libp2p (TCP on 127.0.0.1)', () => {
  const root = mkdtempSync(join(tmpdir(), 'cohort-fed-'))
  const manifestPath = join(root, 'federation.json')
  let a: CohortNode
  let b: CohortNode

  beforeAll(async () => {
    const ia = await initNodeHome(join(root, 'a'), {
      name: 'bank-a',
      listen: ['/ip4/127.0.0.1/tcp/0'],
      federation: manifestPath
    })
    const ib = await initNodeHome(join(root, 'b'), {
      name: 'telco-b',
      listen: ['/ip4/127.0.0.1/tcp/0'],
      federation: manifestPath
    })
    addMember(manifestPath, { org: 'bank-a', peerId: ia.peerId, roles: ['node'] }, { federation: 'test' })
    addMember(manifestPath, { org: 'telco-b', peerId: ib.peerId, roles: ['node'] })
    a = await startNode(join(root, 'a'))
    b = await startNode(join(root, 'b'))
  })

  afterAll(async () => {
    await a?.stop()
    await b?.stop()
    rmSync(root, { recursive: true, force: true })
  })

  it('two members connect and ping', async () => {
    await b.libp2p.dial(a.libp2p.getMultiaddrs()[0]!)
    const rtt = await b.ping(a.home.identity.peerId)
    expect(rtt).toBeGreaterThanOrEqual(0)
    expect(a.peers().find((p) => p.org === 'telco-b')?.connected).toBe(true)
  })

  it('a second start on the same directory is refused with COHORT_NODE_LOCKED', async () => {
    await expect(openNodeHome(join(root, 'a'))).rejects.toMatchObject({ code: 'COHORT_NODE_LOCKED' })
  })

  it('a non-member with a valid key cannot open any stream, and the refusal is audit-logged', async () => {
    const outsider = await createLibp2p({
      privateKey: await generateKeyPair('Ed25519'),
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { ping: ping() }
    })
    try {
      await expect(
        outsider.dialProtocol(a.libp2p.getMultiaddrs()[0]!, '/ipfs/ping/1.0.0', {
          signal: AbortSignal.timeout(5000)
        })
      ).rejects.toThrow()
      await expect(
        outsider.services.ping.ping(a.libp2p.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(5000) })
      ).rejects.toThrow()
      expect(a.libp2p.getPeers().map(String)).not.toContain(outsider.peerId.toString())
      // Give the fire-and-forget audit write a moment to land.
      let refused: Array<{ kind: string; body: unknown }> = []
      for (let i = 0; i < 50 && refused.length === 0; i++) {
        refused = (await a.home.audit.read()).filter((e) => e.kind === 'peer-refused')
        if (refused.length === 0) await new Promise((r) => setTimeout(r, 50))
      }
      expect(refused).toHaveLength(1)
      expect(refused[0]!.body).toMatchObject({ peerId: outsider.peerId.toString(), direction: 'inbound' })
      expect((await a.home.audit.verify()).ok).toBe(true)
    } finally {
      await outsider.stop()
    }
  })
})
