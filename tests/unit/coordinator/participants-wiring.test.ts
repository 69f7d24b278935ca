import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCoordinator } from '../../../coordinator/coordinator.ts'
import type { CohortCoordinator } from '../../../coordinator/coordinator.ts'
import { initCoordinatorHome } from '../../../coordinator/home.ts'
import { runSecaggRound } from '../../../coordinator/secagg/run-round.ts'
import { initNodeHome } from '../../../node/home.ts'
import { startNode } from '../../../node/node.ts'
import type { CohortNode } from '../../../node/node.ts'
import { addMember } from '../../../platform/federation/manifest.ts'
import { PROTOCOLS } from '../../../protocols/ids.ts'
import { freePort } from '../../../simulations/demo/free-port.ts'

/**
 * The node side of `cohort node start` as the coordinator sees it: participants registered on the
 * node's libp2p transport answer a SecAgg+ round driven over the coordinator's transport, and a
 * refused inbound request lands in the node's audit log as `protocol-refused`.
 */
describe('coordinator <-> node participants over libp2p', () => {
  const root = mkdtempSync(join(tmpdir(), 'cohort-wiring-'))
  const manifest = join(root, 'federation.json')
  let coordinator: CohortCoordinator
  const nodes: CohortNode[] = []

  beforeAll(async () => {
    const cAddr = `/ip4/127.0.0.1/tcp/${await freePort()}`
    const c = await initCoordinatorHome(join(root, 'coord'), {
      name: 'coord',
      listen: [cAddr],
      federation: manifest
    })
    addMember(manifest, { org: 'coord', peerId: c.peerId, multiaddrs: [cAddr], roles: ['coordinator'] })
    const dirs: string[] = []
    for (const org of ['bank-a', 'bank-b', 'bank-c']) {
      const addr = `/ip4/127.0.0.1/tcp/${await freePort()}`
      const n = await initNodeHome(join(root, org), { name: org, listen: [addr], federation: manifest })
      addMember(manifest, { org, peerId: n.peerId, multiaddrs: [addr], roles: ['node'] })
      dirs.push(n.dir)
    }
    coordinator = await startCoordinator(c.dir, { resumeJobs: false })
    for (const d of dirs) nodes.push(await startNode(d))
    for (const n of nodes) await n.connectMembers()
    // The dialler resolves before the listener has registered the connection.
    for (let i = 0; i < 100 && coordinator.status().connected < 3; i++)
      await new Promise((r) => setTimeout(r, 50))
  })
  afterAll(async () => {
    for (const n of nodes) await n.stop()
    await coordinator?.stop()
    rmSync(root, { recursive: true, force: true })
  })

  it('the coordinator sees its nodes connected', () => {
    const s = coordinator.status()
    expect(s.connected).toBe(3)
    expect(s.nodes.map((n) => n.org)).toEqual(['bank-a', 'bank-b', 'bank-c'])
  })

  it("runs a SecAgg+ round on the nodes' registered participants, with inputs from their stashes", async () => {
    const inputs = nodes.map((_, i) => Uint32Array.from([i + 1, 10 * (i + 1), 0xffffffff, 7]))
    for (const [i, n] of nodes.entries()) n.participants.stash.put('wiring-job', 1, inputs[i]!)
    const result = await runSecaggRound(coordinator.transport, {
      jobId: 'wiring-job',
      round: 1,
      participants: nodes.map((n) => n.home.identity.peerId),
      // Each node's policy (minParticipants 3 by default) refuses a round that could be unmasked over 2.
      t: 3,
      k: 2,
      d: 4,
      ringBits: 32
    })
    expect(result.survivors).toHaveLength(3)
    const expected = new Uint32Array(4)
    for (const v of inputs) for (let j = 0; j < 4; j++) expected[j] = (expected[j]! + v[j]!) >>> 0
    expect(result.sum).toEqual(expected)
    const kinds = (await nodes[0]!.home.audit.read()).map((e) => e.kind)
    expect(kinds.some((k) => k.startsWith('secagg-'))).toBe(true)
  })

  it('a refused inbound request is audit-logged on the node as protocol-refused', async () => {
    const target = nodes[1]!
    await expect(
      coordinator.transport.request(target.home.identity.peerId, PROTOCOLS.secagg, new Uint8Array([1, 2, 3]))
    ).rejects.toMatchObject({ code: expect.stringMatching(/^COHORT_/) })
    // The training participant is registered too: a malformed train request is refused, not unsupported.
    const train = coordinator.transport.request(
      target.home.identity.peerId,
      PROTOCOLS.train,
      new Uint8Array([9])
    )
    await expect(train).rejects.toMatchObject({ code: expect.stringMatching(/^COHORT_/) })
    await expect(train).rejects.not.toMatchObject({ code: 'COHORT_PROTOCOL_NOT_SUPPORTED' })
    await new Promise((r) => setTimeout(r, 100))
    const entries = await target.home.audit.read()
    expect(entries.map((e) => e.kind)).toContain('train-refused')
    const refused = entries.filter(
      (e) => e.kind === 'protocol-refused' && (e.body as { protocol: string }).protocol === PROTOCOLS.secagg
    )
    expect(refused).toHaveLength(1)
    expect(refused[0]).toMatchObject({
      actor: coordinator.home.identity.peerId,
      body: { protocol: PROTOCOLS.secagg, from: coordinator.home.identity.peerId, code: expect.any(String) }
    })
  })
})
