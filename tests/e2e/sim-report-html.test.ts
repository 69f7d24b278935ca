/**
 * Acceptance 5 (issue 6): report.html renders in headless Chromium with all its charts (the page
 * sets `data-charts-rendered` on <body> after drawing), and a screenshot is saved next to the
 * report. Needs Debian's `chromium` (CI installs it); without it this test fails and says so.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { scenarioFrom } from '../../configs/scenario.ts'
import { CHROMIUM_MISSING, findChromium, renderPage } from '../../simulations/report/chromium.ts'
import type { SimReport } from '../../simulations/report/report.ts'
import { REPORT_CHARTS } from '../../simulations/report/report-html.ts'
import { writeReport } from '../../simulations/report/write-report.ts'
import { runScenario } from '../../simulations/run-scenario.ts'

const PNG = [0x89, 0x50, 0x4e, 0x47]

describe('report.html in headless Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cohort-report-html-'))
  let report: SimReport
  beforeAll(async () => {
    if (findChromium() === undefined) throw new Error(CHROMIUM_MISSING)
    report = await runScenario(
      scenarioFrom(
        {
          name: 'html-check',
          dataset: { synthetic: { rows: 3000 } },
          partition: { kind: 'iid', parties: 4 },
          model: { kind: 'logreg', rounds: 3 },
          dp: { mode: 'record', epsilon: 2, clipNorm: 3 },
          faults: [{ dropout: { party: 'party-2', round: 2, phase: 'share-keys' } }]
        },
        dir
      )
    )
  })

  it('draws every chart, offline', async () => {
    const w = await writeReport(dir, report)
    const page = await renderPage(w.html)
    expect(page.chartsError).toBeUndefined()
    expect(page.chartsRendered).toBe(REPORT_CHARTS)
    expect(page.dom.match(/<canvas /g)).toHaveLength(REPORT_CHARTS)
  })

  it('saves a screenshot next to the report with --screenshot', async () => {
    const w = await writeReport(dir, report, { screenshot: true })
    expect(w.screenshot).toBe(join(dir, 'report.png'))
    const png = readFileSync(w.screenshot!)
    expect([...png.subarray(0, 4)]).toEqual(PNG)
    expect(png.length).toBeGreaterThan(50_000)
  })

  it('tells a page whose charts failed from one that drew them', async () => {
    const broken = join(dir, 'broken.html')
    writeFileSync(
      broken,
      readFileSync(join(dir, 'report.html'), 'utf8').replace(
        'Chart.defaults.animation = false;',
        'missingLibrary.defaults.animation = false;'
      )
    )
    const page = await renderPage(broken)
    expect(page.chartsRendered).toBe(0)
    expect(page.chartsError).toBeDefined()
    expect(existsSync(broken)).toBe(true)
  })
})
