import { afterEach, describe, expect, it } from 'vitest'
import { ringAddInPlace, ringZeros } from '../../crypto/ring.ts'
import { runSecaggRound } from '../../coordinator/secagg/run-round.ts'
import type { SecaggRoundResult } from '../../coordinator/secagg/run-round.ts'
import { minimumThreshold, recommendedNeighbours } from '../../protocols/secagg/neighbours.ts'
import { SECAGG_PHASES } from '../../protocols/secagg/phases.ts'
import type { SecaggPhase } from '../../protocols/secagg/phases.ts'
import { dropoutTransport, runSecaggDevRound } from '../../simulations/secagg-dev-round.ts'
import { createSecaggFederation } from '../../simulations/secagg-federation.ts'
import type { SecaggFederation } from '../../simulations/secagg-federation.ts'

let fed: SecaggFederation | undefined
afterEach(async () => {
  await fed?.close()
  fed = undefined
})

function expectExactSum(f: SecaggFederation, r: SecaggRoundResult, ringBits = 32) {
  const expected = ringZeros(r.sum.length, ringBits)
  for (const s of r.survivors) ringAddInPlace(expected, f.inputs.get(s)!, ringBits)
  expect(
    Buffer.from(r.sum.buffer, r.sum.byteOffset, r.sum.byteLength).equals(Buffer.from(expected.buffer))
  ).toBe(true)
}

describe('secagg over the loopback transport, 100 parties (SecAgg+ graph, k = 15)', () => {
  it('unmasks the exact ring sum without dropouts', async () => {
    const report = await runSecaggDevRound({ parties: 100, dim: 64, dropout: 0, seed: 'loopback-100' })
    expect(report.k).toBe(15)
    expect(report.t).toBe(9)
    expect(report.survivors).toBe(100)
    expect(report.sumMatches).toBe(true)
    // Every party logged advertise, share, masked input, consistency, unmask and done.
    expect(report.auditEntries).toBe(600)
  })

  it('unmasks the exact ring sum with 2 dropouts in each of the five phases', async () => {
    const report = await runSecaggDevRound({ parties: 100, dim: 64, dropout: 0.1, seed: 'loopback-100-drop' })
    expect(report.droppedAt).toEqual({
      'advertise-keys': 2,
      'share-keys': 2,
      'masked-input': 2,
      'consistency-check': 2,
      unmask: 2
    })
    // Parties that dropped after sending their masked input are still in the sum.
    expect(report.survivors).toBe(94)
    expect(report.sumMatches).toBe(true)
  })
})

describe('secagg over the loopback transport: dropouts phase by phase', () => {
  for (const phase of SECAGG_PHASES) {
    it(`complete graph, 20 parties, 9 = n - t drop at ${phase}`, async () => {
      fed = await createSecaggFederation({ parties: 20, d: 50, seed: `phase-${phase}` })
      const ids = fed.parties.map((p) => p.identity.peerId)
      const plan = new Map<string, SecaggPhase>(ids.slice(3, 12).map((p) => [p, phase]))
      const r = await runSecaggRound(dropoutTransport(fed.coordinator.transport, fed.net, plan), {
        jobId: 'job-phase',
        round: 1,
        participants: ids,
        t: 11,
        k: 19,
        d: 50
      })
      const inSum = phase === 'consistency-check' || phase === 'unmask'
      expect(r.survivors.length).toBe(inSum ? 20 : 11)
      expectExactSum(fed, r)
      // Parties that stayed up end with their secrets wiped and no round state left.
      for (const p of fed.parties) if (!plan.has(p.identity.peerId)) expect(p.handle.activeRounds()).toBe(0)
    })
  }

  it('SecAgg+ graph, 40 parties, ring of 40 bits, dropouts in two phases', async () => {
    fed = await createSecaggFederation({ parties: 40, d: 33, ringBits: 40, seed: 'ring40' })
    const ids = fed.parties.map((p) => p.identity.peerId)
    const k = recommendedNeighbours(40)
    const plan = new Map<string, SecaggPhase>([
      [ids[5]!, 'share-keys'],
      [ids[17]!, 'masked-input'],
      [ids[29]!, 'unmask']
    ])
    const r = await runSecaggRound(dropoutTransport(fed.coordinator.transport, fed.net, plan), {
      jobId: 'job-40',
      round: 7,
      participants: ids,
      t: minimumThreshold(k + 1),
      k,
      ringBits: 40,
      d: 33
    })
    expect(r.survivors.length).toBe(38)
    expect(r.sum).toBeInstanceOf(BigUint64Array)
    expectExactSum(fed, r, 40)
  })

  it('writes the audit trail of a round on every survivor, in phase order, without secrets', async () => {
    fed = await createSecaggFederation({ parties: 6, d: 8 })
    const ids = fed.parties.map((p) => p.identity.peerId)
    await runSecaggRound(fed.coordinator.transport, {
      jobId: 'job-audit',
      round: 2,
      participants: ids,
      t: 4,
      k: 5,
      d: 8
    })
    const entries = await fed.parties[0]!.audit.read()
    expect(entries.map((e) => e.kind)).toEqual([
      'secagg-advertise-keys',
      'secagg-share-keys',
      'secagg-masked-input',
      'secagg-consistency-check',
      'secagg-unmask',
      'secagg-done'
    ])
    expect(entries.every((e) => e.round === 2 && e.actor === fed!.coordinator.peerId)).toBe(true)
    const unmask = entries[4]!.body as Record<string, unknown>
    expect(unmask).toMatchObject({
      jobId: 'job-audit',
      round: 2,
      survivors: 6,
      dropped: 0,
      selfSharesReleased: 6,
      keySharesReleased: 0
    })
    for (const e of entries) {
      for (const v of Object.values(e.body as Record<string, unknown>))
        expect(v instanceof Uint8Array).toBe(false)
    }
    expect((await fed.parties[0]!.audit.verify()).ok).toBe(true)
  })
})
