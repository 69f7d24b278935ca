import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FederationManifest } from '../../../configs/federation.ts'
import { addMember } from '../../../platform/federation/manifest.ts'
import type { NodeHome } from '../../../node/home.ts'
import type { CohortNode } from '../../../node/node.ts'
import { apiFixture, errorOf } from './api-fixture.ts'
import type { ApiFixture } from './api-fixture.ts'

async function newPeerId(): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
}

describe('admin API: identity and peers without a running node', () => {
  let f: ApiFixture
  let other: string

  beforeAll(async () => {
    f = await apiFixture()
    other = await newPeerId()
  })
  afterAll(async () => {
    await f.close()
  })

  it('identity has no addresses', async () => {
    const res = await f.app.request('/v1/identity', { headers: f.auth })
    expect(await res.json()).toEqual({
      peerId: f.home.identity.peerId,
      name: 'bank-a',
      running: false,
      addrs: []
    })
  })

  it('peers is empty before there is a manifest', async () => {
    const res = await f.app.request('/v1/peers', { headers: f.auth })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ federation: null, running: false, peers: [] })
  })

  it('peers lists the manifest members except this node, all disconnected', async () => {
    addMember(
      f.home.federationPath,
      { org: 'bank-a', peerId: f.home.identity.peerId, roles: ['node'] },
      { federation: 'credit' }
    )
    addMember(f.home.federationPath, {
      org: 'telco-b',
      peerId: other,
      roles: ['node'],
      multiaddrs: ['/ip4/10.0.0.2/tcp/4001']
    })
    const res = await f.app.request('/v1/peers', { headers: f.auth })
    expect(await res.json()).toEqual({
      federation: 'credit',
      running: false,
      peers: [
        {
          peerId: other,
          org: 'telco-b',
          roles: ['node'],
          member: true,
          connected: false,
          addrs: ['/ip4/10.0.0.2/tcp/4001']
        }
      ]
    })
  })

  it('ping needs a running node: 503 COHORT_NODE_NOT_RUNNING', async () => {
    const res = await f.app.request(`/v1/peers/${other}/ping`, { method: 'POST', headers: f.auth })
    expect(res.status).toBe(503)
    expect((await errorOf(res)).code).toBe('COHORT_NODE_NOT_RUNNING')
  })

  it('ping refuses a malformed peer id with 400 COHORT_REQUEST_INVALID', async () => {
    const res = await f.app.request('/v1/peers/not-a-peer/ping', { method: 'POST', headers: f.auth })
    expect(res.status).toBe(400)
    expect((await errorOf(res)).code).toBe('COHORT_REQUEST_INVALID')
  })
})

describe('admin API: identity and peers with a running node (stubbed host)', () => {
  let f: ApiFixture
  let member: string
  let outsider: string
  let unreachable: string
  const pinged: string[] = []

  /** The parts of CohortNode the routes use, with a scripted ping. */
  function stubNode(home: NodeHome): CohortNode {
    const manifest: FederationManifest = {
      federation: 'credit',
      version: 1,
      members: [
        { org: 'bank-a', peerId: home.identity.peerId, roles: ['node'], multiaddrs: [] },
        { org: 'telco-b', peerId: member, roles: ['node'], multiaddrs: [] },
        { org: 'shop-c', peerId: unreachable, roles: ['node'], multiaddrs: [] }
      ]
    }
    const node: Partial<CohortNode> = {
      home,
      libp2p: {
        getMultiaddrs: () => [multiaddr(`/ip4/127.0.0.1/tcp/4001/p2p/${home.identity.peerId}`)]
      } as CohortNode['libp2p'],
      manifest: () => manifest,
      peers: () => [
        { peerId: member, org: 'telco-b', roles: ['node'], member: true, connected: true, addrs: [] },
        { peerId: unreachable, org: 'shop-c', roles: ['node'], member: true, connected: false, addrs: [] }
      ],
      async ping(peerId) {
        pinged.push(peerId)
        if (peerId === unreachable) throw new Error('The operation was aborted due to timeout')
        return 7
      }
    }
    return node as CohortNode
  }

  beforeAll(async () => {
    member = await newPeerId()
    outsider = await newPeerId()
    unreachable = await newPeerId()
    f = await apiFixture({ node: stubNode })
  })
  afterAll(async () => {
    await f.close()
  })

  it('identity lists the libp2p addresses', async () => {
    const res = await f.app.request('/v1/identity', { headers: f.auth })
    expect(await res.json()).toEqual({
      peerId: f.home.identity.peerId,
      name: 'bank-a',
      running: true,
      addrs: [`/ip4/127.0.0.1/tcp/4001/p2p/${f.home.identity.peerId}`]
    })
  })

  it('peers shows connection state from the host', async () => {
    const body = (await (await f.app.request('/v1/peers', { headers: f.auth })).json()) as {
      federation: string
      running: boolean
      peers: Array<{ org: string; connected: boolean }>
    }
    expect(body.federation).toBe('credit')
    expect(body.running).toBe(true)
    expect(body.peers.map((p) => [p.org, p.connected])).toEqual([
      ['telco-b', true],
      ['shop-c', false]
    ])
  })

  it('ping returns the rtt and is audit-logged as an api-write', async () => {
    const head = (await f.home.audit.head())!.seq
    const res = await f.app.request(`/v1/peers/${member}/ping`, { method: 'POST', headers: f.auth })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ peerId: member, rttMs: 7 })
    const entries = await f.home.audit.read({ gte: head + 1 })
    expect(entries.map((e) => [e.kind, e.actor, e.body])).toEqual([
      ['api-write', 'admin-api', { method: 'POST', path: `/v1/peers/${member}/ping` }]
    ])
  })

  it('ping of a non-member is 404 COHORT_PEER_NOT_FOUND and never dials', async () => {
    const before = pinged.length
    const res = await f.app.request(`/v1/peers/${outsider}/ping`, { method: 'POST', headers: f.auth })
    expect(res.status).toBe(404)
    expect((await errorOf(res)).code).toBe('COHORT_PEER_NOT_FOUND')
    expect(pinged.length).toBe(before)
  })

  it('ping of itself is 400 COHORT_REQUEST_INVALID', async () => {
    const res = await f.app.request(`/v1/peers/${f.home.identity.peerId}/ping`, {
      method: 'POST',
      headers: f.auth
    })
    expect(res.status).toBe(400)
    expect((await errorOf(res)).code).toBe('COHORT_REQUEST_INVALID')
  })

  it('a failed ping is 502 COHORT_PEER_UNREACHABLE with the reason, and is not logged as a write', async () => {
    const head = (await f.home.audit.head())!.seq
    const res = await f.app.request(`/v1/peers/${unreachable}/ping`, { method: 'POST', headers: f.auth })
    expect(res.status).toBe(502)
    const err = await errorOf(res)
    expect(err.code).toBe('COHORT_PEER_UNREACHABLE')
    expect(err.message).toContain('timeout')
    expect((await f.home.audit.head())!.seq).toBe(head)
    expect(f.logs).toHaveLength(1) // 5xx are logged
  })
})
