import type { SweepResult } from '../sweep.ts'
import { page, table } from './html-page.ts'
import type { ChartSpec } from './html-page.ts'

/**
 * sweep.html: the sweep's table and one chart of the headline test metric against the first swept
 * parameter (a line per combination of the others), with the centralized baseline for reference.
 */

/**
 * Charts {@link sweepHtml} draws.
 * @example
 * SWEEP_CHARTS // 1
 */
export const SWEEP_CHARTS = 1

const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2']

/**
 * Renders sweep.html.
 * @example
 * writeFileSync('out/sweep.html', sweepHtml(result))
 */
export function sweepHtml(r: SweepResult): string {
  const [x, ...rest] = r.params
  const labels = x!.values.map(String)
  const groups = new Map<string, Array<number | null>>()
  for (const p of r.points) {
    const g = rest.map((q) => `${q.key}=${p.params[q.key]}`).join(', ') || 'federated'
    let series = groups.get(g)
    if (series === undefined) {
      series = labels.map(() => null)
      groups.set(g, series)
    }
    const v = p.metrics[r.metric]
    series[labels.indexOf(String(p.params[x!.key]))] = v === undefined ? null : v
  }
  const datasets: Array<Record<string, unknown>> = [...groups].map(([label, data], i) => ({
    label,
    data,
    borderColor: PALETTE[i % PALETTE.length],
    backgroundColor: PALETTE[i % PALETTE.length],
    borderWidth: 3,
    pointRadius: 4
  }))
  const c = r.baselines.centralized?.[r.metric]
  if (c !== undefined)
    datasets.push({
      label: 'centralized',
      data: labels.map(() => c),
      borderColor: '#111827',
      borderDash: [8, 4],
      pointRadius: 0
    })
  const chart: ChartSpec = {
    id: 'sweep',
    title: `Test ${r.metric} against ${x!.key}`,
    note: 'Each point is a full simulation with the same seed; "inf" means no DP.',
    config: {
      type: 'line',
      data: { labels, datasets },
      options: {
        scales: {
          x: { title: { display: true, text: x!.key } },
          y: { title: { display: true, text: `test ${r.metric}` } }
        },
        plugins: { legend: { position: 'bottom' } }
      }
    }
  }
  const metrics = [...new Set(r.points.flatMap((p) => Object.keys(p.metrics)))]
  const rows = r.points.map((p) => [
    ...r.params.map((q) => String(p.params[q.key])),
    ...metrics.map((m) => p.metrics[m] ?? null),
    p.epsilonSpent,
    p.status
  ])
  if (r.baselines.centralized !== null)
    rows.push([
      ...r.params.map((_, i) => (i === 0 ? 'centralized' : '')),
      ...metrics.map((m) => r.baselines.centralized?.[m] ?? null),
      null,
      ''
    ])
  return page({
    title: `Cohort sweep: ${r.scenario}`,
    subtitle: `${r.model}, ${r.points.length} runs over ${r.params.map((p) => p.key).join(' × ')}`,
    sections: [
      `<section><h2>Results</h2>${table([...r.params.map((p) => p.key), ...metrics, 'max ε spent', 'status'], rows)}</section>`
    ],
    charts: [chart]
  })
}
