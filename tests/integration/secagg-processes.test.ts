/**
 * Issue 4, acceptance 1 across separate OS processes: 6 nodes, each its own `node` process with an
 * on-disk store and audit log, and the test process as coordinator, all over libp2p TCP on
 * 127.0.0.1. The unmasked sum must equal the plaintext ring sum exactly, with no dropout and with
 * a node killed (SIGKILL) before the round, after share-keys and after its masked input.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runSecaggRound } from '../../coordinator/secagg/run-round.ts'
import { ringAddInPlace, ringZeros } from '../../crypto/ring.ts'
import { initNodeHome, openNodeHome } from '../../node/home.ts'
import { addMember } from '../../platform/federation/manifest.ts'
import { createHost } from '../../platform/net/libp2p-host.ts'
import type { CohortLibp2p } from '../../platform/net/libp2p-host.ts'
import { createLibp2pTransport } from '../../platform/net/libp2p-transport.ts'
import { decodeSecaggRequest } from '../../protocols/secagg/messages.ts'
import type { Transport } from '../../protocols/transport.ts'
import { seededInput, simIdentity } from '../../simulations/secagg-federation.ts'
import { REPO, startScript } from '../helpers/cli.ts'

const N = 6
const D = 2000
const T = 4 // complete graph: holders = 6, and t must exceed half of them

interface Proc {
  index: number
  dir: string
  peerId: string
  child: ChildProcess
  addr: string
}

const root = mkdtempSync(join(tmpdir(), 'cohort-secagg-proc-'))
const procs: Proc[] = []
let coordinator: { host: CohortLibp2p; transport: Transport }

async function startProc(index: number, dir: string, peerId: string, manifestPath: string): Promise<Proc> {
  const script = join(REPO, 'tests/helpers/secagg-node-process.ts')
  const args = [dir, manifestPath, String(index), String(D)]
  const { child, match } = await startScript(script, args, /READY (\S+)/, 120_000)
  return { index, dir, peerId, child, addr: match[1]! }
}

function expectedSum(round: number, indices: number[]) {
  const sum = ringZeros(D, 32)
  for (const i of indices) ringAddInPlace(sum, seededInput(`proc-${round}`, i, D, 32), 32)
  return sum
}

/** A coordinator transport that SIGKILLs `victim` the moment it would send it a `phase` request. */
function killingTransport(inner: Transport, victim: Proc, phase: string): Transport {
  return {
    ...inner,
    self: inner.self,
    request: async (peer, protocol, body, options) => {
      if (
        peer === victim.peerId &&
        decodeSecaggRequest(body).phase === phase &&
        victim.child.exitCode === null
      ) {
        victim.child.kill('SIGKILL')
        await new Promise((r) => victim.child.once('exit', r))
      }
      return inner.request(peer, protocol, body, options)
    }
  }
}

beforeAll(async () => {
  const manifestPath = join(root, 'federation.json')
  const cid = await simIdentity()
  addMember(
    manifestPath,
    { org: 'coordinator', peerId: cid.peerId, roles: ['coordinator'] },
    { federation: 'secagg-proc' }
  )
  const homes: Array<{ dir: string; peerId: string }> = []
  for (let i = 0; i < N; i++) {
    const r = await initNodeHome(join(root, `n${i}`), { name: `org-${i}` })
    addMember(manifestPath, { org: `org-${i}`, peerId: r.peerId, roles: ['node'] })
    homes.push({ dir: r.dir, peerId: r.peerId })
  }
  procs.push(...(await Promise.all(homes.map((h, i) => startProc(i, h.dir, h.peerId, manifestPath)))))
  const ids = new Set([cid.peerId, ...homes.map((h) => h.peerId)])
  const host = await createHost({
    privateKey: cid.privateKey,
    isMember: (p) => ids.has(p),
    onRefused: () => {}
  })
  for (const p of procs)
    await host.dial(multiaddr(p.addr.includes('/p2p/') ? p.addr : `${p.addr}/p2p/${p.peerId}`))
  coordinator = { host, transport: createLibp2pTransport(host) }
}, 120_000)

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM')
  await Promise.all(
    procs.map((p) =>
      p.child.exitCode === null && p.child.signalCode === null
        ? new Promise((r) => p.child.once('exit', r))
        : undefined
    )
  )
  await coordinator?.host.stop()
  rmSync(root, { recursive: true, force: true })
})

describe('SecAgg+ across separate node processes over libp2p', () => {
  const live = () => procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null)

  it('sums exactly with every node present', async () => {
    const r = await runSecaggRound(coordinator.transport, {
      jobId: 'proc',
      round: 1,
      participants: procs.map((p) => p.peerId),
      t: T,
      k: N - 1,
      d: D
    })
    expect(r.survivors).toHaveLength(N)
    expect(r.sum).toEqual(
      expectedSum(
        1,
        procs.map((p) => p.index)
      )
    )
  })

  it('sums exactly over the survivors when a node is killed after share-keys', async () => {
    const victim = procs[5]!
    const transport = killingTransport(coordinator.transport, victim, 'masked-input')
    const r = await runSecaggRound(transport, {
      jobId: 'proc',
      round: 2,
      participants: procs.map((p) => p.peerId),
      t: T,
      k: N - 1,
      d: D,
      deadlines: { 'masked-input': 5000 }
    })
    expect(r.dropped).toContain(victim.peerId)
    expect(r.sum).toEqual(
      expectedSum(
        2,
        live().map((p) => p.index)
      )
    )
  })

  it('sums exactly with one node dead from the start and another killed after its masked input', async () => {
    const victim = procs[4]!
    // procs[5] died in the previous round: it drops out before advertise-keys.
    const participants = procs.map((p) => p.peerId)
    const alive = live().map((p) => p.peerId)
    const transport = killingTransport(coordinator.transport, victim, 'consistency-check')
    const r = await runSecaggRound(transport, {
      jobId: 'proc',
      round: 3,
      participants,
      t: T,
      k: participants.length - 1,
      d: D,
      deadlines: { 'consistency-check': 5000, unmask: 5000 }
    })
    // Its masked input arrived, so its input is in the sum; its self-mask is removed from survivors' shares.
    expect(r.dropped).toContain(procs[5]!.peerId)
    expect(victim.child.signalCode).toBe('SIGKILL')
    expect(r.sum).toEqual(
      expectedSum(
        3,
        procs.filter((p) => alive.includes(p.peerId)).map((p) => p.index)
      )
    )
  })

  it("every node's on-disk audit log verifies afterwards, killed ones included", async () => {
    for (const p of procs)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM')
    await Promise.all(
      procs.map((p) =>
        p.child.exitCode === null && p.child.signalCode === null
          ? new Promise((r) => p.child.once('exit', r))
          : undefined
      )
    )
    for (const p of procs) {
      const home = await openNodeHome(p.dir)
      try {
        const v = await home.audit.verify()
        expect(v.ok).toBe(true)
        const kinds = (await home.audit.read()).map((e) => e.kind)
        expect(kinds.some((k) => k.startsWith('secagg-'))).toBe(true)
      } finally {
        await home.close()
      }
    }
  })
})
