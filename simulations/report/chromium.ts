import { execFile } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ChromiumError } from '../errors.ts'

/**
 * Headless Chromium for report pages: render a page and read back its DOM (to check that the charts
 * drew) or save a screenshot. Debian's `chromium` package; `COHORT_CHROMIUM` names another binary.
 */

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable'
]

/**
 * The Chromium binary, or undefined when none is installed.
 * @example
 * findChromium() // '/usr/bin/chromium'
 */
export function findChromium(): string | undefined {
  const env = process.env.COHORT_CHROMIUM
  for (const c of env === undefined || env === '' ? CANDIDATES : [env]) {
    try {
      accessSync(c, constants.X_OK)
      return c
    } catch {
      // try the next one
    }
  }
  return undefined
}

/**
 * Why Chromium is needed and how to get it, as one sentence.
 * @example
 * if (findChromium() === undefined) throw new Error(CHROMIUM_MISSING)
 */
export const CHROMIUM_MISSING =
  'headless Chromium is needed to render the report and was not found: install it (Debian: apt-get install chromium) or set COHORT_CHROMIUM to its path'

function run(bin: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((res, rej) => {
    execFile(bin, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err !== null)
        rej(
          new ChromiumError(
            `chromium failed: ${(String(stderr).trim().split('\n').at(-1) ?? err.message).slice(0, 300)}`
          )
        )
      else res(String(stdout))
    })
  })
}

/**
 * What a page looked like after rendering.
 * @example
 * const r = await renderPage('out/report.html'); r.chartsRendered // 5
 */
export interface RenderedPage {
  dom: string
  /** `data-charts-rendered` of <body>, or undefined when the page never set it. */
  chartsRendered: number | undefined
  chartsError: string | undefined
}

/**
 * Renders a local HTML file headless (no network: the page must be self-contained) and returns its
 * DOM; with `screenshot`, also saves a PNG of the page.
 *
 * @throws ChromiumError when Chromium is missing or fails
 * @example
 * await renderPage('out/report.html', { screenshot: 'out/report.png' })
 */
export async function renderPage(
  file: string,
  o: { screenshot?: string; width?: number; height?: number; timeoutMs?: number } = {}
): Promise<RenderedPage> {
  const bin = findChromium()
  if (bin === undefined) throw new ChromiumError(CHROMIUM_MISSING)
  const profile = mkdtempSync(join(tmpdir(), 'cohort-chromium-'))
  const common = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--hide-scrollbars',
    `--user-data-dir=${profile}`,
    '--virtual-time-budget=5000'
  ]
  const url = pathToFileURL(resolve(file)).href
  const timeoutMs = o.timeoutMs ?? 60_000
  try {
    const dom = await run(bin, [...common, '--dump-dom', url], timeoutMs)
    if (o.screenshot !== undefined)
      await run(
        bin,
        [
          ...common,
          `--window-size=${o.width ?? 1400},${o.height ?? 3400}`,
          `--screenshot=${resolve(o.screenshot)}`,
          url
        ],
        timeoutMs
      )
    const body = /<body([^>]*)>/.exec(dom)?.[1] ?? ''
    const rendered = /data-charts-rendered="(\d+)"/.exec(body)?.[1]
    const error = /data-charts-error="([^"]*)"/.exec(body)?.[1]
    return { dom, chartsRendered: rendered === undefined ? undefined : Number(rendered), chartsError: error }
  } finally {
    rmSync(profile, { recursive: true, force: true })
  }
}
