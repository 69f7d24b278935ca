import { esc, fmt, page, table } from './html-page.ts'
import type { ChartSpec } from './html-page.ts'
import type { SimReport } from './report.ts'

/**
 * report.html: a self-contained page (Chart.js inlined, no network) with the report's tables and
 * five charts — the test metric per round for the federated model against the centralized and each
 * local-only baseline, ε spent per party per round, bytes per round, wall time per phase, and the
 * parties in each round's sum.
 */

/**
 * Number of charts {@link reportHtml} draws (the headless-browser test expects this many).
 * @example
 * expect(page.chartsRendered).toBe(REPORT_CHARTS)
 */
export const REPORT_CHARTS = 5

const PALETTE = [
  '#2563eb',
  '#dc2626',
  '#059669',
  '#d97706',
  '#7c3aed',
  '#0891b2',
  '#db2777',
  '#4d7c0f',
  '#9333ea',
  '#ea580c'
]
const color = (i: number) => PALETTE[i % PALETTE.length]!

/**
 * The headline metric of a model family and whether larger is better.
 * @example
 * headline('logreg') // { key: 'auc', label: 'test AUC' }
 */
export function headline(kind: string): { key: string; label: string } {
  return kind === 'kmeans'
    ? { key: 'inertia', label: 'test inertia (lower is better)' }
    : { key: 'auc', label: 'test AUC' }
}

const axes = (x: string, y: string, extra: Record<string, unknown> = {}) => ({
  x: { title: { display: true, text: x }, ...extra },
  y: { title: { display: true, text: y }, ...extra }
})

function metricChart(r: SimReport): ChartSpec {
  const { key, label } = headline(r.model.kind)
  const labels = r.rounds.map((x) => x.round)
  const flat = (v: number | undefined) => labels.map(() => v ?? null)
  const datasets: Array<Record<string, unknown>> = [
    {
      label: 'federated',
      data: r.rounds.map((x) => x.metrics[key] ?? null),
      borderColor: color(0),
      backgroundColor: color(0),
      borderWidth: 3,
      pointRadius: 3
    }
  ]
  if (r.baselines.centralized !== null)
    datasets.push({
      label: 'centralized',
      data: flat(r.baselines.centralized[key]),
      borderColor: '#111827',
      borderDash: [8, 4],
      pointRadius: 0
    })
  for (const [i, [party, m]] of Object.entries(r.baselines.localOnly).entries())
    datasets.push({
      label: `local only: ${party}`,
      data: flat(m[key]),
      borderColor: color(i + 1),
      borderDash: [2, 3],
      pointRadius: 0,
      borderWidth: 1.5
    })
  const discarded = r.rounds.filter((x) => x.discarded !== undefined).map((x) => x.round)
  return {
    id: 'metric',
    title: `${label} per round: federated vs centralized vs local-only`,
    note: `Baselines are trained by the same trainers on pooled / single-party rows for as long as the federated model (lines are their final values).${
      discarded.length > 0 ? ` Rounds discarded by the sum-norm check: ${discarded.join(', ')}.` : ''
    }`,
    config: {
      type: 'line',
      data: { labels, datasets },
      options: { scales: axes('round', label), plugins: { legend: { position: 'bottom' } } }
    }
  }
}

function epsilonChart(r: SimReport): ChartSpec {
  const labels = r.rounds.map((x) => x.round)
  const names = r.parties.map((p) => p.name)
  const hasDp = r.privacy.target !== null
  // Many parties: the chart shows the first ten; the table lists all.
  const datasets = hasDp
    ? names.slice(0, 10).map((n, i) => ({
        label: n,
        data: r.rounds.map((x) => x.epsilon[n] ?? null),
        borderColor: color(i),
        backgroundColor: color(i),
        pointRadius: 2,
        stepped: true
      }))
    : []
  const note = hasDp
    ? `Cumulative ε spent per party (its ledger, statistics release included) at δ = ${r.privacy.target!.delta}.${names.length > 10 ? ` First 10 of ${names.length} parties shown.` : ''}`
    : 'No differential privacy in this scenario: the releases are exact sums, with no ε guarantee.'
  return {
    id: 'epsilon',
    title: 'ε spent per party per round',
    note,
    config: {
      type: 'line',
      data: { labels, datasets },
      options: { scales: axes('round', 'ε (cumulative)'), plugins: { legend: { position: 'bottom' } } }
    }
  }
}

function bytesChart(r: SimReport): ChartSpec {
  return {
    id: 'bytes',
    title: 'Bytes per round (all messages through the coordinator)',
    note: `Setup (offer + federated statistics): ${fmt(r.comm.bytesSetup)} B; publish: ${fmt(r.comm.bytesPublish)} B; total ${fmt(r.comm.bytesTotal)} B.`,
    config: {
      type: 'bar',
      data: {
        labels: r.rounds.map((x) => x.round),
        datasets: [{ label: 'bytes', data: r.rounds.map((x) => x.bytes), backgroundColor: color(0) }]
      },
      options: { scales: axes('round', 'bytes'), plugins: { legend: { display: false } } }
    }
  }
}

function timeChart(r: SimReport): ChartSpec {
  const phases = ['train', 'secagg', 'eval'] as const
  const names: Record<string, string> = {
    train: 'local training',
    secagg: 'secure aggregation',
    eval: 'evaluation'
  }
  return {
    id: 'time',
    title: 'Wall time per phase per round',
    note: 'All parties run in one process on this machine, so local training of the parties is serialised.',
    config: {
      type: 'bar',
      data: {
        labels: r.rounds.map((x) => x.round),
        datasets: phases.map((p, i) => ({
          label: names[p],
          data: r.rounds.map((x) => Math.round(x.timing[p] ?? 0)),
          backgroundColor: color(i)
        }))
      },
      options: {
        scales: {
          x: { stacked: true, title: { display: true, text: 'round' } },
          y: { stacked: true, title: { display: true, text: 'ms' } }
        },
        plugins: { legend: { position: 'bottom' } }
      }
    }
  }
}

function partiesChart(r: SimReport): ChartSpec {
  return {
    id: 'parties',
    title: 'Parties in each round: in the sum vs dropped',
    config: {
      type: 'bar',
      data: {
        labels: r.rounds.map((x) => x.round),
        datasets: [
          { label: 'in the sum', data: r.rounds.map((x) => x.survivors.length), backgroundColor: color(2) },
          {
            label: 'dropped (recovered by SecAgg+)',
            data: r.rounds.map((x) => x.dropped.length),
            backgroundColor: color(1)
          },
          {
            label: 'not ready',
            data: r.rounds.map((x) => Math.max(0, x.participants - x.survivors.length - x.dropped.length)),
            backgroundColor: '#9ca3af'
          }
        ]
      },
      options: {
        scales: {
          x: { stacked: true, title: { display: true, text: 'round' } },
          y: { stacked: true, title: { display: true, text: 'parties' } }
        },
        plugins: { legend: { position: 'bottom' } }
      }
    }
  }
}

function summary(r: SimReport): string {
  const { key } = headline(r.model.kind)
  const dp =
    r.mode.dp === 'none'
      ? 'none'
      : `${r.mode.dp.mode}-level, ε = ${r.mode.dp.epsilon ?? '–'}, δ = ${r.mode.dp.delta}`
  const status =
    r.job.status === 'completed'
      ? `<span class="ok">completed</span>`
      : `<span class="bad">${esc(r.job.status)}${r.job.error === undefined ? '' : `: ${esc(r.job.error.message)} [${esc(r.job.error.code)}]`}</span>`
  const rows: Array<[string, string | number]> = [
    [
      'dataset',
      `${r.dataset.name}: ${r.dataset.rows} rows (${r.dataset.trainRows} train, ${r.dataset.testRows} test), ${r.dataset.features.length} features`
    ],
    ['parties', r.parties.length],
    ['model', JSON.stringify(r.model)],
    ['secure aggregation', r.mode.secureAggregation],
    ['differential privacy', dp],
    ['transport', r.mode.transport],
    ['seed', r.scenario.seed],
    ['rounds completed', r.job.roundsCompleted],
    ['communication', `${fmt(r.comm.bytesTotal)} bytes`],
    [
      'wall time',
      `${(r.timing.wallMs / 1000).toFixed(1)} s (training ${(r.timing.jobMs / 1000).toFixed(1)} s)`
    ]
  ]
  const best = (m: Record<string, number> | null | undefined) =>
    m === null || m === undefined ? null : (m[key] ?? null)
  const metricKeys = Object.keys(r.metrics.test)
  return [
    `<section><h2>Run</h2><p>Job ${esc(r.job.id)}: ${status}</p>${table(['', ''], rows)}</section>`,
    `<section><h2>Test metrics</h2>${table(
      ['model', ...metricKeys],
      [
        ['federated (exact, published model)', ...metricKeys.map((k) => r.metrics.test[k] ?? null)],
        ['centralized', ...metricKeys.map((k) => r.baselines.centralized?.[k] ?? null)],
        ...Object.entries(r.baselines.localOnly).map(([p, m]) => [
          `local only: ${p}`,
          ...metricKeys.map((k) => m[k] ?? null)
        ])
      ]
    )}<p class="note">Federated ${esc(key)} from the secure evaluation of the last round: ${esc(fmt(best(r.metrics.federated) ?? Number.NaN))}.</p></section>`
  ].join('\n')
}

function privacyAndFaults(r: SimReport): string {
  const parties = table(
    ['party', 'rows', 'train rows', 'test rows', 'positive rate', 'ε spent', 'δ', 'bytes'],
    r.parties.map((p) => [
      p.name,
      p.rows,
      p.trainRows,
      p.testRows,
      p.positiveRate ?? null,
      r.privacy.perParty[p.name]?.epsilon ?? null,
      r.privacy.perParty[p.name]?.delta ?? null,
      r.comm.bytesPerParty[p.name] ?? 0
    ])
  )
  const faults =
    r.faults.length === 0
      ? '<p>No fault fired.</p>'
      : table(
          ['round', 'fault', 'party', 'phase', 'attempt', 'detail'],
          r.faults.map((f) => [
            f.round,
            f.kind,
            f.party ?? null,
            f.phase ?? null,
            f.attempt ?? null,
            f.detail === undefined ? null : JSON.stringify(f.detail)
          ])
        )
  const discarded = r.rounds.filter((x) => x.discarded !== undefined)
  const notCalled =
    r.sanityCheck.enabled && r.sanityCheck.checkedRounds === 0 && r.rounds.length > 0
      ? ' <span class="bad">The job runner did not call the check (no checkAggregate hook): nothing was checked.</span>'
      : ''
  const sanity = r.sanityCheck.enabled
    ? `<p>Sum-norm check on: mean update norm ≤ ${esc(r.sanityCheck.maxUpdateNorm)} (+ DP noise).${notCalled} ${
        discarded.length === 0
          ? 'No round was discarded.'
          : `<span class="bad">Discarded rounds: ${discarded.map((x) => `${x.round} (${esc(x.discarded!.reason)})`).join('; ')}</span>`
      }</p>`
    : '<p>Sum-norm check off (no clip norm: set sanityCheck.maxUpdateNorm or use update-level DP).</p>'
  const declined =
    r.job.declined.length === 0
      ? ''
      : `<p class="bad">Declined: ${r.job.declined.map((d) => `${esc(d.party)} in round ${d.round}: ${esc(d.reason)} [${esc(d.code)}]`).join('; ')}</p>`
  const failures =
    r.job.nodeFailures.length === 0
      ? ''
      : `<h2>Requests the nodes failed</h2>${table(
          ['party', 'request', 'round', 'code', 'reason'],
          r.job.nodeFailures.map((f) => [f.party, f.request, f.round, f.code, f.reason])
        )}`
  return `<section><h2>Parties</h2>${parties}${declined}${failures}</section><section><h2>Faults that fired</h2>${faults}${sanity}</section>`
}

/**
 * Renders report.html.
 * @example
 * writeFileSync(join(out, 'report.html'), reportHtml(report))
 */
export function reportHtml(r: SimReport): string {
  const charts = [metricChart(r), epsilonChart(r), bytesChart(r), timeChart(r), partiesChart(r)]
  return page({
    title: `Cohort simulation: ${r.scenario.name}`,
    subtitle: `${r.model.kind}, ${r.parties.length} parties, ${r.mode.secureAggregation}, DP ${r.mode.dp === 'none' ? 'none' : `ε = ${r.mode.dp.epsilon ?? '–'}`}, seed ${r.scenario.seed}`,
    sections: [summary(r), privacyAndFaults(r)],
    charts
  })
}
