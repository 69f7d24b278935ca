/**
 * Acceptance 2 (issue 6): the privacy–utility sweep on credit_data (configs/scenarios/
 * credit-dp-sweep.yaml: three lenders, logistic regression, SecAgg+, DP-SGD at every node) shows the
 * test AUC rising with ε and approaching the centralized baseline at ε = ∞. Three points here; the
 * full grid 0.5, 1, 2, 4, inf is in docs/simulations.md.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseParamValue } from '../../configs/scenario.ts'
import { parseSweepParam, runSweep } from '../../simulations/sweep.ts'
import type { SweepResult } from '../../simulations/sweep.ts'

const FILE = resolve(import.meta.dirname, '../../configs/scenarios/credit-dp-sweep.yaml')

describe('sweep of dp.epsilon on credit_data', () => {
  const out = mkdtempSync(join(tmpdir(), 'cohort-sweep-'))
  let s: SweepResult
  beforeAll(async () => {
    s = await runSweep(FILE, [parseSweepParam('dp.epsilon=0.5,2,inf', parseParamValue)], out)
  })

  it('test AUC rises with ε and reaches the centralized baseline at ε = ∞', () => {
    expect(s.points.map((p) => p.status)).toEqual(['completed', 'completed', 'completed'])
    const auc = s.points.map((p) => p.metrics.auc!)
    expect(auc[0]!).toBeLessThan(auc[1]!)
    expect(auc[1]!).toBeLessThan(auc[2]!)
    const central = s.baselines.centralized!.auc!
    expect(Math.abs(auc[2]! - central)).toBeLessThan(0.01)
    expect(central - auc[0]!).toBeGreaterThan(0.03)
  })

  it('spends at most the ε asked for, and none without DP', () => {
    expect(s.points[0]!.epsilonSpent!).toBeLessThanOrEqual(0.5 + 1e-9)
    expect(s.points[0]!.epsilonSpent!).toBeGreaterThan(0.4)
    expect(s.points[1]!.epsilonSpent!).toBeLessThanOrEqual(2 + 1e-9)
    expect(s.points[2]!.epsilonSpent).toBeNull()
    expect(s.points.map((p) => p.params['dp.epsilon'])).toEqual([0.5, 2, 'inf'])
  })

  it("writes the table, the chart and every point's report", () => {
    expect(JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(s)))
    expect(readFileSync(join(out, 'sweep.md'), 'utf8')).toMatch(/\| inf \| 0\.8/)
    expect(readFileSync(join(out, 'sweep.html'), 'utf8')).toContain('<canvas id="chart-sweep">')
    for (const p of s.points) {
      expect(existsSync(join(p.dir, 'report.json'))).toBe(true)
      expect(existsSync(join(p.dir, 'report.html'))).toBe(true)
    }
  })
})
