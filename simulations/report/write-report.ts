import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ChromiumError } from '../errors.ts'
import { renderPage } from './chromium.ts'
import type { SimReport } from './report.ts'
import { REPORT_CHARTS, reportHtml } from './report-html.ts'

/**
 * Writes `<dir>/report.json` and `<dir>/report.html` (the output contract of `cohort sim run`), and
 * with `screenshot`, renders the page headless and saves `<dir>/report.png` next to them.
 */

/**
 * Paths written.
 * @example
 * const { json, html } = await writeReport('out', report)
 */
export interface WrittenReport {
  json: string
  html: string
  screenshot?: string
}

/**
 * Writes the report files.
 *
 * @throws ChromiumError (screenshot only) when Chromium is missing or the charts did not render
 * @example
 * await writeReport('out/credit', report, { screenshot: true })
 */
export async function writeReport(
  dir: string,
  report: SimReport,
  o: { screenshot?: boolean } = {}
): Promise<WrittenReport> {
  mkdirSync(dir, { recursive: true })
  const json = join(dir, 'report.json')
  const html = join(dir, 'report.html')
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`)
  writeFileSync(html, reportHtml(report))
  if (o.screenshot !== true) return { json, html }
  const screenshot = join(dir, 'report.png')
  const r = await renderPage(html, { screenshot })
  if (r.chartsRendered !== REPORT_CHARTS)
    throw new ChromiumError(
      `the report page drew ${r.chartsRendered ?? 0} of ${REPORT_CHARTS} charts${r.chartsError === undefined ? '' : `: ${r.chartsError}`}`
    )
  return { json, html, screenshot }
}
