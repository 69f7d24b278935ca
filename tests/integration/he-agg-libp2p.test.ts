/**
 * HE aggregation over real libp2p: a coordinator, a key-holder and three nodes as separate hosts
 * on 127.0.0.1 TCP (Noise, yamux, membership gater), real runners on createLibp2pTransport.
 * Ciphertext frames (two BFV ciphertexts per node) exceed libp2p's 4 MiB default only for larger
 * vectors; the per-protocol limits apply either way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fetchKeyAnnouncement, runHeAggRound } from '../../coordinator/he-agg/run-round.ts'
import { createHost } from '../../platform/net/libp2p-host.ts'
import type { CohortLibp2p } from '../../platform/net/libp2p-host.ts'
import { createLibp2pTransport } from '../../platform/net/libp2p-transport.ts'
import { decodeHeAgg, HeAggRequestSchema, MAX_HE_AGG_VECTOR_BYTES } from '../../protocols/he-agg/messages.ts'
import type { Transport } from '../../protocols/transport.ts'
import type { HeFederation } from './he-agg-fixture.ts'
import { heFederation, identities } from './he-agg-fixture.ts'

const LENGTH = 20_000 // three ciphertexts per vector
const hosts = new Map<string, CohortLibp2p>()
let fed: HeFederation

beforeAll(async () => {
  const ids = await identities(5)
  const isMember = (p: string) => ids.some((x) => x.peerId === p)
  for (const id of ids)
    hosts.set(id.peerId, await createHost({ privateKey: id.privateKey, isMember, onRefused: () => {} }))
  const coordinator = hosts.get(ids[0]!.peerId)!
  for (const id of ids.slice(1)) await coordinator.dial(hosts.get(id.peerId)!.getMultiaddrs()[0]!)
  fed = await heFederation({
    nodes: 3,
    length: LENGTH,
    ids,
    transportFor: (p) => createLibp2pTransport(hosts.get(p)!)
  })
}, 60_000)

afterAll(async () => {
  await fed?.close()
  for (const h of hosts.values()) await h.stop()
})

describe('he-agg over libp2p TCP', () => {
  it('the decrypted sum equals the plaintext sum of the three updates', async () => {
    const announcement = await fetchKeyAnnouncement(fed.coordinator.transport, fed.keyholder.peerId)
    const r = await runHeAggRound(fed.coordinator.transport, {
      jobId: 'job-libp2p',
      round: 1,
      participants: fed.nodes.map((n) => n.peerId),
      keyholder: fed.keyholder.peerId,
      announcement,
      context: fed.ctx,
      length: LENGTH,
      maxAbsPerParty: 1000,
      minParticipants: 3
    })
    expect(r.contributors).toHaveLength(3)
    const expected = new Float64Array(LENGTH)
    for (const n of fed.nodes) {
      const x = n.input(1)
      for (let j = 0; j < LENGTH; j++) expected[j]! += x[j]!
    }
    expect(Buffer.from(r.sum.buffer).equals(Buffer.from(expected.buffer))).toBe(true)
  })

  it('one node host stopped mid-round (after submitting): the round completes with the others', async () => {
    const victim = fed.nodes[0]!
    const inner = fed.coordinator.transport
    const killing: Transport = {
      ...inner,
      self: inner.self,
      async request(peer, protocol, body, options) {
        const req = decodeHeAgg(HeAggRequestSchema, body, MAX_HE_AGG_VECTOR_BYTES)
        if (peer === victim.peerId && req.phase === 'challenge') await hosts.get(victim.peerId)!.stop()
        return inner.request(peer, protocol, body, options)
      }
    }
    const r = await runHeAggRound(killing, {
      jobId: 'job-libp2p',
      round: 2,
      participants: fed.nodes.map((n) => n.peerId),
      keyholder: fed.keyholder.peerId,
      announcement: fed.keyholder.keyring.current().announcement,
      context: fed.ctx,
      length: LENGTH,
      maxAbsPerParty: 1000,
      minParticipants: 2,
      deadlines: { submit: 30_000, challenge: 5_000, decrypt: 30_000 }
    })
    expect(r.dropped).toEqual([victim.peerId])
    const expected = new Float64Array(LENGTH)
    for (const n of fed.nodes.slice(1)) {
      const x = n.input(2)
      for (let j = 0; j < LENGTH; j++) expected[j]! += x[j]!
    }
    expect(Buffer.from(r.sum.buffer).equals(Buffer.from(expected.buffer))).toBe(true)
  })
})
