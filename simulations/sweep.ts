import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadScenario } from '../configs/scenario.ts'
import { SimConfigError } from './errors.ts'
import { headline } from './report/report-html.ts'
import type { SimReport } from './report/report.ts'
import type { ScenarioBaselines } from './report/scenario-baselines.ts'
import { sweepHtml } from './report/sweep-html.ts'
import { writeReport } from './report/write-report.ts'
import { runScenario } from './run-scenario.ts'
import type { SimProgress } from './run-scenario.ts'

/**
 * `cohort sim sweep`: runs a scenario over a grid of parameter values (`--param dp.epsilon=0.5,1,2,inf`,
 * several `--param`s make a cartesian grid) and writes the privacy–utility (or any parameter–utility)
 * table and chart: `<dir>/sweep.json`, `<dir>/sweep.md`, `<dir>/sweep.html`, plus each point's own
 * report under `<dir>/<key>=<value>[,...]/`. The baselines do not depend on DP, faults or transport,
 * so when only such keys vary they are computed once and reused.
 */

/**
 * One swept parameter.
 * @example
 * const p: SweepParam = { key: 'dp.epsilon', values: [0.5, 1, 2, Infinity] }
 */
export interface SweepParam {
  key: string
  values: unknown[]
}

/**
 * One point of the grid.
 * @example
 * sweep.points[0].metrics.auc
 */
export interface SweepPoint {
  /** The parameter values of this point, by key (∞ written as the string "inf"). */
  params: Record<string, number | string | boolean | null>
  label: string
  status: string
  error?: { code: string; message: string }
  metrics: Record<string, number>
  /** Largest ε any party spent (null without DP). */
  epsilonSpent: number | null
  roundsCompleted: number
  dir: string
}

/**
 * sweep.json.
 * @example
 * const s: SweepResult = JSON.parse(readFileSync('out/sweep.json', 'utf8'))
 */
export interface SweepResult {
  scenario: string
  model: string
  metric: string
  params: Array<{ key: string; values: Array<number | string | boolean | null> }>
  points: SweepPoint[]
  baselines: SimReport['baselines']
}

/** Keys whose change leaves the baselines (pooled and single-party training) unchanged. */
const BASELINE_NEUTRAL =
  /^(dp|faults|secagg|secureAggregation|transport|deadlines|minParticipants|statistics|evaluation|sanityCheck|policy)(\.|$)/

/**
 * Parses `key=v1,v2,...`.
 * @throws SimConfigError
 * @example
 * parseSweepParam('dp.epsilon=0.5,1,inf', parseParamValue) // { key: 'dp.epsilon', values: [0.5, 1, Infinity] }
 */
export function parseSweepParam(text: string, parse: (v: string) => unknown): SweepParam {
  const i = text.indexOf('=')
  if (i <= 0 || i === text.length - 1)
    throw new SimConfigError(`--param must look like key=v1,v2,..., got "${text}"`)
  const values = text
    .slice(i + 1)
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '')
    .map(parse)
  if (values.length === 0) throw new SimConfigError(`--param ${text.slice(0, i)} lists no values`)
  return { key: text.slice(0, i), values }
}

const show = (v: unknown): number | string | boolean | null =>
  v === Number.POSITIVE_INFINITY
    ? 'inf'
    : typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean'
      ? v
      : JSON.stringify(v)

function grid(params: readonly SweepParam[]): Array<Record<string, unknown>> {
  let out: Array<Record<string, unknown>> = [{}]
  for (const p of params) out = out.flatMap((g) => p.values.map((v) => ({ ...g, [p.key]: v })))
  return out
}

/**
 * Runs the grid.
 *
 * @example
 * await runSweep('configs/scenarios/credit-dp-sweep.yaml', [{ key: 'dp.epsilon', values: [1, Infinity] }], 'out/sweep')
 */
export async function runSweep(
  file: string,
  params: readonly SweepParam[],
  out: string,
  o: {
    overrides?: Record<string, unknown>
    onPoint?: (i: number, n: number, label: string) => void
    onProgress?: (e: SimProgress) => void
  } = {}
): Promise<SweepResult> {
  if (params.length === 0) throw new SimConfigError('a sweep needs at least one --param')
  const points = grid(params)
  // Validate every point before running any.
  const scenarios = points.map((p) => loadScenario(file, { ...o.overrides, ...p }))
  const reuse = params.every((p) => BASELINE_NEUTRAL.test(p.key))
  let baselines: ScenarioBaselines | undefined
  const results: SweepPoint[] = []
  let first: SimReport | undefined
  mkdirSync(out, { recursive: true })
  for (const [i, s] of scenarios.entries()) {
    const p = points[i]!
    const label = Object.entries(p)
      .map(([k, v]) => `${k}=${show(v)}`)
      .join(',')
    o.onPoint?.(i + 1, points.length, label)
    const r = await runScenario(s, {
      ...(reuse && baselines !== undefined ? { baselines } : {}),
      ...(o.onProgress === undefined ? {} : { onProgress: o.onProgress })
    })
    if (reuse && baselines === undefined)
      baselines = { centralized: r.baselines.centralized, localOnly: r.baselines.localOnly }
    first ??= r
    const dir = join(out, label.replace(/[^A-Za-z0-9._=,-]+/g, '_'))
    await writeReport(dir, r)
    const eps = Object.values(r.privacy.perParty).map((x) => x.epsilon)
    results.push({
      params: Object.fromEntries(Object.entries(p).map(([k, v]) => [k, show(v)])),
      label,
      status: r.job.status,
      ...(r.job.error === undefined ? {} : { error: r.job.error }),
      metrics: r.metrics.test,
      epsilonSpent: eps.every((e) => e === null) ? null : Math.max(...eps.map((e) => e ?? 0)),
      roundsCompleted: r.job.roundsCompleted,
      dir
    })
  }
  const result: SweepResult = {
    scenario: first!.scenario.name,
    model: first!.model.kind,
    metric: headline(first!.model.kind).key,
    params: params.map((p) => ({ key: p.key, values: p.values.map(show) })),
    points: results,
    baselines: first!.baselines
  }
  writeFileSync(join(out, 'sweep.json'), `${JSON.stringify(result, null, 2)}\n`)
  writeFileSync(join(out, 'sweep.md'), sweepMarkdown(result))
  writeFileSync(join(out, 'sweep.html'), sweepHtml(result))
  return result
}

/**
 * The sweep's table as Markdown.
 * @example
 * sweepMarkdown(result) // '| dp.epsilon | auc | ... |'
 */
export function sweepMarkdown(r: SweepResult): string {
  const keys = r.params.map((p) => p.key)
  const metrics = [...new Set(r.points.flatMap((p) => Object.keys(p.metrics)))]
  const f = (v: number | null | undefined) =>
    v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(4)
  const head = [...keys, ...metrics, 'max ε spent', 'status']
  const lines = [
    `# ${r.scenario}: sweep of ${keys.join(', ')}`,
    '',
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...r.points.map(
      (p) =>
        `| ${[...keys.map((k) => String(p.params[k])), ...metrics.map((m) => f(p.metrics[m])), f(p.epsilonSpent), p.status].join(' | ')} |`
    ),
    ...(r.baselines.centralized === null
      ? []
      : [
          `| ${['centralized', ...keys.slice(1).map(() => ''), ...metrics.map((m) => f(r.baselines.centralized?.[m])), '', ''].join(' | ')} |`
        ]),
    ''
  ]
  return lines.join('\n')
}
