/**
 * Acceptance 4 (issue 6): with 30 % of the parties dropping at random phases every round the run
 * completes every round (SecAgg+ recovers while at least t survive; a sum that falls below t is
 * retried), and the report lists every dropout; a party's scaled-up update trips the coordinator's
 * sum-norm check, that round is discarded rather than applied, and the report says so; a
 * malicious coordinator's unmask request is refused by its victim. Plus network loss on the
 * loopback transport. Faults are seeded: they fire the same way on every run.
 */
import { resolve } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadScenario, scenarioFrom } from '../../configs/scenario.ts'
import { planFaults } from '../../simulations/faults/fault-plan.ts'
import { SUM_NORM_CODE } from '../../simulations/faults/sum-norm-check.ts'
import { stripVolatile } from '../../simulations/report/report.ts'
import type { SimReport } from '../../simulations/report/report.ts'
import { runScenario } from '../../simulations/run-scenario.ts'

const FILE = resolve(import.meta.dirname, '../../configs/scenarios/credit-faults.yaml')
const DATA = resolve(import.meta.dirname, '../../datasets/credit_data')

describe('credit-faults.yaml: 30 % random dropouts, a scaled update, a malicious coordinator', () => {
  const scenario = loadScenario(FILE)
  let r: SimReport
  beforeAll(async () => {
    r = await runScenario(scenario)
  })

  it('completes every round, each with at least minParticipants parties in the sum', () => {
    expect(r.job.status).toBe('completed')
    expect(r.rounds.map((x) => x.round)).toEqual([1, 2, 3, 4, 5, 6])
    for (const x of r.rounds)
      expect(x.survivors.length).toBeGreaterThanOrEqual(scenario.config.minParticipants)
  })

  it('lists every dropout, and only planned ones; a party missing from a sum dropped in that round', () => {
    const dropouts = r.faults.filter((f) => f.kind === 'dropout')
    const plan = planFaults(
      scenario.config,
      r.parties.map((p) => p.name)
    )
    const planned = [...plan.dropouts].reduce((n, [, m]) => n + m.size, 0)
    // ~30 % of 10 parties over 6 rounds.
    expect(planned).toBeGreaterThan(10)
    for (const f of dropouts) expect(plan.dropouts.get(f.round)?.get(f.party!)).toBe(f.phase)
    // A party asked to fit always reaches its fit: every planned fit dropout fired.
    for (const [round, m] of plan.dropouts)
      for (const [party, phase] of m)
        if (phase === 'fit') expect(dropouts).toContainEqual(expect.objectContaining({ round, party, phase }))
    for (const x of r.rounds) {
      const dropped = new Set(dropouts.filter((f) => f.round === x.round).map((f) => f.party))
      for (const p of r.parties.map((q) => q.name))
        if (!x.survivors.includes(p)) expect(dropped.has(p), `round ${x.round}: ${p}`).toBe(true)
      expect(x.faults.filter((f) => f.kind === 'dropout')).toEqual(
        dropouts.filter((f) => f.round === x.round)
      )
    }
  })

  it('discards the round with the scaled-up update, and says so', () => {
    expect(r.faults).toContainEqual({
      round: 3,
      kind: 'malicious-update',
      party: 'party-04',
      detail: { update: 'scale' }
    })
    expect(
      r.sanityCheck.checkedRounds,
      'coordinator/jobs/round.ts must call JobRunContext.checkAggregate'
    ).toBe(6)
    expect(r.sanityCheck.discardedRounds).toEqual([3])
    const three = r.rounds[2]!
    expect(three.discarded).toMatchObject({ code: SUM_NORM_CODE })
    expect(three.sanity).toMatchObject({ tripped: true, bound: expect.closeTo(3, 5) })
    expect(three.faults).toContainEqual(expect.objectContaining({ kind: 'sanity-check' }))
    // Not applied: the model after round 3 is the model after round 2.
    expect(three.metrics.auc).toBe(r.rounds[1]!.metrics.auc)
    for (const x of r.rounds.filter((y) => y.round !== 3)) expect(x.sanity?.tripped).toBe(false)
    expect(r.metrics.test.auc).toBeGreaterThan(0.78)
  })

  it('fires the same faults the same way on a second run (report.json identical without timings)', async () => {
    const again = await runScenario(scenario)
    expect(stripVolatile(again)).toEqual(stripVolatile(r))
  })

  it('reports the victim refusing the malicious coordinator; the round still completes', () => {
    expect(r.faults).toContainEqual({
      round: 2,
      kind: 'malicious-coordinator',
      party: 'party-02',
      phase: 'unmask',
      detail: { script: 'unmask-inconsistent', refused: true, code: 'COHORT_SECAGG_UNMASK_REFUSED' }
    })
    expect(r.rounds[1]!.discarded).toBeUndefined()
  })
})

describe('network loss on the loopback transport', () => {
  it('loses messages reproducibly; lost requests time out and the rounds recover', async () => {
    const s = scenarioFrom(
      {
        name: 'loss',
        seed: 4,
        dataset: { csv: `${DATA}/data.csv`, spec: `${DATA}/spec.json` },
        partition: { kind: 'iid', parties: 6 },
        model: { kind: 'logreg', rounds: 3 },
        secagg: { threshold: 0.6 },
        deadlines: { phaseMs: 400, trainMs: 1500 },
        faults: [{ loss: { rate: 0.01 } }],
        baselines: { centralized: false, localOnly: false }
      },
      DATA
    )
    const r = await runScenario(s)
    expect(r.job.status).toBe('completed')
    const lost = r.faults.filter((f) => f.kind === 'loss')
    expect(lost.length).toBeGreaterThan(0)
    expect(lost.reduce((n, f) => n + Number(f.detail!.messages), 0)).toBeGreaterThan(0)
    expect(r.baselines).toEqual({ centralized: null, localOnly: {} })
  })
})
