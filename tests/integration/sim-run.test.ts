/**
 * Acceptance 1 (issue 6) over the loopback transport: the shipped scenario files run the real job
 * runner, node participants and SecAgg+ end to end (shortened to a few rounds here; the full runs
 * are in docs/simulations.md), write report.json and report.html with the contract's keys, and the
 * same seed reproduces report.json exactly once timings are stripped.
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadScenario } from '../../configs/scenario.ts'
import { stripVolatile } from '../../simulations/report/report.ts'
import type { SimReport } from '../../simulations/report/report.ts'
import { writeReport } from '../../simulations/report/write-report.ts'
import { runScenario } from '../../simulations/run-scenario.ts'

const SCENARIOS = resolve(import.meta.dirname, '../../configs/scenarios')
const run = (file: string, over: Record<string, unknown> = {}) =>
  runScenario(loadScenario(join(SCENARIOS, file), { 'model.rounds': 3, ...over }))

describe('credit-natural.yaml (logistic regression, SecAgg+, 3 lenders)', () => {
  let a: SimReport
  let b: SimReport
  beforeAll(async () => {
    a = await run('credit-natural.yaml')
    b = await run('credit-natural.yaml')
  })

  it('completes and reports what design.md promises', () => {
    expect(a.job.status).toBe('completed')
    expect(a.scenario).toMatchObject({ name: 'credit-horizontal', seed: 1 })
    expect(a.mode).toEqual({
      partition: 'horizontal',
      secureAggregation: 'secagg+',
      dp: 'none',
      transport: 'loopback'
    })
    expect(a.parties.map((p) => p.name)).toEqual([
      'lender_fixed_employment',
      'lender_freelance',
      'lender_parttime_other'
    ])
    expect(a.parties.reduce((s, p) => s + p.rows, 0)).toBe(4454)
    expect(a.rounds.map((r) => r.round)).toEqual([1, 2, 3])
    for (const r of a.rounds) {
      expect(r.survivors).toHaveLength(3)
      expect(r.bytes).toBeGreaterThan(10_000)
      expect(Object.keys(r.timing)).toEqual(expect.arrayContaining(['eval', 'secagg', 'total', 'train']))
      expect(r.metrics.auc).toBeGreaterThan(0.7)
    }
    for (const k of ['auc', 'accuracy', 'logloss', 'ks']) {
      expect(a.metrics.test[k]).toBeTypeOf('number')
      expect(a.baselines.centralized![k]).toBeTypeOf('number')
    }
    expect(Object.keys(a.baselines.localOnly)).toHaveLength(3)
    // The federated (histogram, 1000 bins) AUC and the exact AUC of the published model agree.
    expect(Math.abs(a.metrics.federated.auc! - a.metrics.test.auc!)).toBeLessThan(0.005)
    expect(a.privacy.perParty.lender_freelance).toEqual({ epsilon: null, delta: null })
    expect(a.comm.bytesTotal).toBe(
      a.comm.bytesSetup + a.comm.bytesPublish + a.rounds.reduce((s, r) => s + r.bytes, 0)
    )
    expect(a.timing.wallMs).toBeGreaterThan(0)
  })

  it('reproduces report.json exactly from the same seed (timings excluded)', () => {
    expect(a.timing).not.toEqual(b.timing)
    expect(stripVolatile(b)).toEqual(stripVolatile(a))
  })

  it('writes report.json and a self-contained report.html', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cohort-sim-run-'))
    const w = await writeReport(dir, a)
    expect(JSON.parse(readFileSync(w.json, 'utf8'))).toEqual(JSON.parse(JSON.stringify(a)))
    const html = readFileSync(w.html, 'utf8')
    expect(html).toContain('credit-horizontal')
    expect(html).not.toMatch(/<script[^>]+src=/)
  })

  it('a different seed gives a different run', async () => {
    const c = await run('credit-natural.yaml', { seed: 2 })
    expect(c.rounds[0]!.metrics.auc).not.toBe(a.rounds[0]!.metrics.auc)
  })
})

describe('credit-kmeans.yaml (federated k-means)', () => {
  it('reports test inertia and silhouette against the same baselines', async () => {
    const r = await run('credit-kmeans.yaml')
    expect(r.job.status).toBe('completed')
    for (const x of r.rounds) expect(x.metrics.inertia).toBeGreaterThan(0)
    expect(r.metrics.test.inertia).toBeGreaterThan(0)
    expect(r.metrics.test.silhouette).toBeGreaterThan(0)
    expect(r.metrics.test.silhouette).toBeLessThan(1)
    expect(r.baselines.centralized).toMatchObject({
      inertia: expect.any(Number),
      silhouette: expect.any(Number)
    })
    // The federated model is within 10 % of the pooled one, and beats every single lender's.
    expect(r.metrics.test.inertia!).toBeLessThan(1.1 * r.baselines.centralized!.inertia!)
    for (const m of Object.values(r.baselines.localOnly))
      expect(r.metrics.test.inertia!).toBeLessThan(m.inertia!)
  })
})

describe('update-level DP with the default sum-norm check', () => {
  it('charges every party per round, within the target, and discards no honest round', async () => {
    const r = await run('credit-dirichlet.yaml', {
      dp: { mode: 'update', epsilon: 4, delta: 1e-5, clipNorm: 1 },
      'statistics.ranges': 'auto'
    })
    expect(r.job.status).toBe('completed')
    expect(r.sanityCheck).toMatchObject({ enabled: true, maxUpdateNorm: 1, discardedRounds: [] })
    expect(
      r.sanityCheck.checkedRounds,
      'coordinator/jobs/round.ts must call JobRunContext.checkAggregate'
    ).toBe(3)
    for (const [party, p] of Object.entries(r.privacy.perParty)) {
      expect(p.epsilon, party).toBeGreaterThan(0)
      expect(p.epsilon!, party).toBeLessThanOrEqual(4 + 1e-9)
      const perRound = r.rounds.map((x) => x.epsilon[party]!)
      for (let i = 1; i < perRound.length; i++) expect(perRound[i]!).toBeGreaterThan(perRound[i - 1]!)
    }
  })
})
