/**
 * Vertical scenarios in the simulator (`cohort sim run`): runScenario hands a vertical partition to
 * simulations/vertical/run-vertical-scenario.ts, which builds one node per column group (each storing
 * only its columns and, with an overlap, only its customers), runs the real vertical job (PSI, then
 * the protocol over the loopback transport) and writes report.json / report.html with the label
 * party's metrics next to the baselines.
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadScenario } from '../../configs/scenario.ts'
import type { SimReport } from '../../simulations/report/report.ts'
import { writeReport } from '../../simulations/report/write-report.ts'
import { runScenario } from '../../simulations/run-scenario.ts'

const SCENARIOS = resolve(import.meta.dirname, '../../configs/scenarios')

describe('credit-vertical.yaml (vertical logistic regression, PSI over an 85% overlap)', () => {
  let report: SimReport
  let written: { json: string; html: string }
  beforeAll(async () => {
    report = await runScenario(loadScenario(join(SCENARIOS, 'credit-vertical.yaml'), { 'model.rounds': 6 }))
    written = await writeReport(mkdtempSync(join(tmpdir(), 'cohort-sim-vertical-')), report)
  }, 120_000)

  it('completes and reports AUC next to the intersection baseline in report.json', () => {
    console.log(
      `sim vertical LR: ${JSON.stringify(report.metrics)} baselines ${JSON.stringify(report.baselines)}`
    )
    expect(report.job.error).toBeUndefined()
    expect(report.job.status).toBe('completed')
    expect(report.mode).toMatchObject({ partition: 'vertical', transport: 'loopback' })
    expect(report.parties.map((p) => p.name)).toEqual(['lender', 'payroll_provider', 'retailer'])
    for (const p of report.parties) expect(p.rows).toBeLessThan(4454)
    const m = report.metrics.test
    expect(m.auc).toBeGreaterThan(0.78)
    expect(m.ks).toBeGreaterThan(0.3)
    expect(report.metrics.federated.intersection).toBeLessThan(report.parties[0]!.rows)
    const target = report.baselines.localOnly.intersection!.auc!
    expect(target).toBeGreaterThan(0.8)
    expect(m.auc).toBeGreaterThan(target - 0.05)
    const onDisk = JSON.parse(readFileSync(written.json, 'utf8')) as SimReport
    expect(onDisk.metrics.test.auc).toBe(m.auc)
    expect(readFileSync(written.html, 'utf8')).toContain('credit-vertical')
  })
})
