/**
 * Acceptance 1 over real libp2p: 7 participant hosts and a coordinator on 127.0.0.1 TCP (Noise,
 * yamux, membership gater), each participant running the real runner on createLibp2pTransport.
 * The separate-process version is the lead's (node daemon `start` registers the participant).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FederationManifest } from '../../configs/federation.ts'
import { ringAddInPlace, ringZeros } from '../../crypto/ring.ts'
import { runSecaggRound } from '../../coordinator/secagg/run-round.ts'
import type { SecaggRoundResult } from '../../coordinator/secagg/run-round.ts'
import { createHost } from '../../platform/net/libp2p-host.ts'
import type { CohortLibp2p } from '../../platform/net/libp2p-host.ts'
import { createLibp2pTransport } from '../../platform/net/libp2p-transport.ts'
import { registerSecaggParticipant } from '../../node/runners/secagg-participant.ts'
import type { SecaggParticipantHandle } from '../../node/runners/secagg-participant.ts'
import { decodeSecaggRequest } from '../../protocols/secagg/messages.ts'
import type { Transport } from '../../protocols/transport.ts'
import { memoryAudit, seededInput, simIdentity } from '../../simulations/secagg-federation.ts'
import type { SimIdentity } from '../../simulations/secagg-federation.ts'
import type { RingVector } from '../../crypto/ring.ts'

const N = 7
const D = 500
/** Round 3 uses vectors of 6 MB, beyond libp2p's 4 MiB default frame. */
const BIG_D = 1_500_000

let coordinator: { id: SimIdentity; host: CohortLibp2p; transport: Transport }
const parties: Array<{
  id: SimIdentity
  host: CohortLibp2p
  handle: SecaggParticipantHandle
  input: RingVector
  big: () => RingVector
  close: () => Promise<void>
}> = []

beforeAll(async () => {
  const cid = await simIdentity()
  const ids = await Promise.all(Array.from({ length: N }, () => simIdentity()))
  const manifest: FederationManifest = {
    federation: 'cohort-libp2p-test',
    version: 1,
    members: [
      { org: 'coord', peerId: cid.peerId, multiaddrs: [], roles: ['coordinator'] },
      ...ids.map((id, i) => ({
        org: `org-${i}`,
        peerId: id.peerId,
        multiaddrs: [],
        roles: ['node' as const]
      }))
    ]
  }
  const isMember = (p: string) => manifest.members.some((m) => m.peerId === p)
  const chost = await createHost({ privateKey: cid.privateKey, isMember, onRefused: () => {} })
  coordinator = { id: cid, host: chost, transport: createLibp2pTransport(chost) }
  for (const [i, id] of ids.entries()) {
    const host = await createHost({ privateKey: id.privateKey, isMember, onRefused: () => {} })
    const { audit, store } = await memoryAudit(id)
    const input = seededInput('libp2p', i, D, 32)
    const big = () => seededInput('libp2p-big', i, BIG_D, 32)
    const handle = await registerSecaggParticipant(createLibp2pTransport(host), {
      identity: id,
      audit,
      manifest: () => manifest,
      inputProvider: async (_jobId, round) => (round === 3 ? big() : input)
    })
    parties.push({ id, host, handle, input, big, close: () => store.close() })
    await chost.dial(host.getMultiaddrs()[0]!)
  }
}, 60_000)

afterAll(async () => {
  for (const p of parties) {
    await p.handle.close().catch(() => {})
    await p.host.stop()
    await p.close()
  }
  await coordinator?.host.stop()
})

function expectExactSum(r: SecaggRoundResult, big = false) {
  const expected = ringZeros(big ? BIG_D : D, 32)
  for (const s of r.survivors) {
    const p = parties.find((x) => x.id.peerId === s)!
    ringAddInPlace(expected, big ? p.big() : p.input, 32)
  }
  expect(
    Buffer.from(r.sum.buffer, r.sum.byteOffset, r.sum.byteLength).equals(Buffer.from(expected.buffer))
  ).toBe(true)
}

describe(`secagg over libp2p TCP: ${N} hosts and a coordinator on 127.0.0.1`, () => {
  it('SecAgg+ graph (k = 4, t = 3): the unmasked sum equals the plaintext ring sum', async () => {
    const r = await runSecaggRound(coordinator.transport, {
      jobId: 'job-libp2p',
      round: 1,
      participants: parties.map((p) => p.id.peerId),
      t: 3,
      k: 4,
      d: D
    })
    expect(r.survivors).toHaveLength(N)
    expect(r.failures).toEqual([])
    expectExactSum(r)
  })

  it('masked vectors of 6 MB travel in one frame (per-protocol limit above the 4 MiB default)', async () => {
    const r = await runSecaggRound(coordinator.transport, {
      jobId: 'job-libp2p',
      round: 3,
      participants: parties.map((p) => p.id.peerId),
      t: 3,
      k: 4,
      d: BIG_D
    })
    expect(r.survivors).toHaveLength(N)
    expectExactSum(r, true)
  })

  it('complete graph with a host that shuts down after sharing keys', async () => {
    const victim = parties[2]!
    const crashing: Transport = {
      ...coordinator.transport,
      self: coordinator.transport.self,
      async request(peer, protocol, body, options) {
        if (peer === victim.id.peerId && decodeSecaggRequest(body).phase === 'masked-input')
          await victim.host.stop()
        return coordinator.transport.request(peer, protocol, body, options)
      }
    }
    const r = await runSecaggRound(crashing, {
      jobId: 'job-libp2p',
      round: 2,
      participants: parties.map((p) => p.id.peerId),
      t: 4,
      k: N - 1,
      d: D,
      deadlines: { 'masked-input': 5_000 }
    })
    expect(r.survivors).toHaveLength(N - 1)
    expect(r.survivors).not.toContain(victim.id.peerId)
    expectExactSum(r)
  })
})
