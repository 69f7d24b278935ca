import { describe, expect, it } from 'vitest'
import { parseScenario } from '../../../configs/scenario.ts'
import { planFaults, SECAGG_DROPOUT_PHASES } from '../../../simulations/faults/fault-plan.ts'
import { createFaultLog } from '../../../simulations/faults/fault-log.ts'
import { partyNames } from '../../../simulations/partition/partitioners.ts'

const base = {
  name: 's',
  dataset: { synthetic: { rows: 1000 } },
  partition: { kind: 'iid', parties: 20 },
  model: { kind: 'logreg', rounds: 50 }
}
const scenario = (over: Record<string, unknown>) => parseScenario({ ...base, ...over })
const parties = partyNames(20)

describe('fault plan', () => {
  it('draws random dropouts at the rate, at the allowed phases, reproducibly', () => {
    const s = scenario({ faults: [{ dropoutRate: 0.3 }] })
    const plan = planFaults(s, parties)
    let n = 0
    for (const [round, m] of plan.dropouts) {
      expect(round).toBeGreaterThanOrEqual(1)
      expect(round).toBeLessThanOrEqual(50)
      for (const phase of m.values()) expect(['fit', ...SECAGG_DROPOUT_PHASES]).toContain(phase)
      n += m.size
    }
    // 1000 draws at 0.3: 300 ± 14.5 (sd).
    expect(n).toBeGreaterThan(250)
    expect(n).toBeLessThan(350)
    expect(planFaults(s, parties).dropouts).toEqual(plan.dropouts)
    expect(planFaults(scenario({ seed: 2, faults: [{ dropoutRate: 0.3 }] }), parties).dropouts).not.toEqual(
      plan.dropouts
    )
  })

  it('uses only the fit phase without SecAgg+, and refuses SecAgg+ phases there', () => {
    const plan = planFaults(scenario({ secureAggregation: 'none', faults: [{ dropoutRate: 0.5 }] }), parties)
    for (const m of plan.dropouts.values()) for (const p of m.values()) expect(p).toBe('fit')
    expect(() =>
      planFaults(
        scenario({ secureAggregation: 'none', faults: [{ dropout: { party: 'party-01', round: 1 } }] }),
        parties
      )
    ).toThrow(expect.objectContaining({ code: 'COHORT_SIM_CONFIG' }))
  })

  it('keeps scheduled dropouts over random ones and never drops an attacking party at random', () => {
    const plan = planFaults(
      scenario({
        faults: [
          { dropoutRate: { rate: 1, fromRound: 2, toRound: 3 } },
          { dropout: { party: 'party-01', round: 2, phase: 'unmask' } },
          { malicious: { party: 'party-02', kind: 'scale', rounds: [3] } }
        ]
      }),
      parties
    )
    expect([...plan.dropouts.keys()].sort()).toEqual([2, 3])
    expect(plan.dropouts.get(2)!.get('party-01')).toBe('unmask')
    expect(plan.dropouts.get(2)!.size).toBe(20)
    expect(plan.dropouts.get(3)!.has('party-02')).toBe(false)
    expect(plan.malicious.get('party-02')).toMatchObject({ kind: 'scale', factor: 100 })
  })

  it('refuses unknown parties, loss over libp2p and malicious k-means', () => {
    const bad = [
      { faults: [{ dropout: { party: 'nobody', round: 1 } }] },
      { faults: [{ straggler: { party: 'nobody', latencyMs: 5 } }] },
      { transport: 'libp2p', faults: [{ loss: { rate: 0.1 } }] },
      { model: { kind: 'kmeans', k: 3 }, faults: [{ malicious: { party: 'party-01', kind: 'random' } }] },
      {
        secureAggregation: 'he',
        faults: [{ maliciousCoordinator: { script: 'swap-key', victim: 'party-01', round: 1 } }]
      }
    ]
    for (const b of bad)
      expect(() => planFaults(scenario(b), parties)).toThrow(
        expect.objectContaining({ code: 'COHORT_SIM_CONFIG' })
      )
  })

  it('expands a straggler "*" to every party', () => {
    const plan = planFaults(scenario({ faults: [{ straggler: { party: '*', latencyMs: 7 } }] }), parties)
    expect(plan.stragglers.size).toBe(20)
  })
})

describe('fault log', () => {
  it('lists faults in a canonical order, whatever order they were recorded in', () => {
    const a = createFaultLog()
    const b = createFaultLog()
    const faults = [
      { round: 2, kind: 'dropout' as const, party: 'p2', phase: 'fit', attempt: 1 },
      { round: 1, kind: 'dropout' as const, party: 'p3', phase: 'unmask', attempt: 1 },
      { round: 1, kind: 'dropout' as const, party: 'p1', phase: 'fit', attempt: 2 }
    ]
    for (const f of faults) a.record(f)
    for (const f of [...faults].reverse()) b.record(f)
    a.count(1, 'loss', 'messages')
    a.count(1, 'loss', 'messages', 2)
    b.count(1, 'loss', 'messages', 3)
    expect(a.all()).toEqual(b.all())
    expect(a.all().map((f) => `${f.round}/${f.kind}/${f.party ?? ''}`)).toEqual([
      '1/dropout/p1',
      '1/dropout/p3',
      '1/loss/',
      '2/dropout/p2'
    ])
    expect(a.all()[2]!.detail).toEqual({ messages: 3 })
  })
})
