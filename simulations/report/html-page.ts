import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/**
 * The shell of a self-contained report page: Chart.js (node_modules/chart.js, UMD build) and the
 * page's data are inlined, so the file opens offline. The page script renders every chart with
 * animations off and then sets `document.body.dataset.chartsRendered` to the number of charts
 * drawn (a headless browser test reads it), or `chartsError` when one failed.
 */

let chartJs: string | undefined

/**
 * The minified Chart.js UMD bundle (read once).
 * @example
 * chartJsSource().length // ~210 kB
 */
export function chartJsSource(): string {
  if (chartJs === undefined) {
    const entry = createRequire(import.meta.url).resolve('chart.js')
    chartJs = readFileSync(join(dirname(entry), 'chart.umd.min.js'), 'utf8')
  }
  return chartJs
}

/**
 * Escapes text for HTML.
 * @example
 * esc('<b>') // '&lt;b&gt;'
 */
export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** JSON that is safe inside a <script> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
}

/**
 * One chart: a Chart.js configuration (data and options) and the canvas it goes on.
 * @example
 * const c: ChartSpec = { id: 'auc', title: 'Test AUC per round', config: { type: 'line', data, options } }
 */
export interface ChartSpec {
  id: string
  title: string
  note?: string
  config: Record<string, unknown>
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#c8cdd8}
main{padding:20px 28px;max-width:1400px}section{background:#fff;border:1px solid #e1e4ea;border-radius:8px;padding:14px 18px;margin:0 0 18px}
h2{font-size:16px;margin:0 0 10px}table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #eceef2;padding:4px 10px;text-align:left}
th{color:#5a6272;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:18px}
.chart{position:relative;height:320px}.note{color:#5a6272;font-size:12px;margin:6px 0 0}.bad{color:#b42318}.ok{color:#067647}
`

/**
 * A whole page: header, HTML sections, then the charts in a grid.
 *
 * @example
 * const html = page({ title: 'credit-horizontal', subtitle: 'logreg, SecAgg+', sections: [table], charts })
 */
export function page(p: {
  title: string
  subtitle: string
  sections: string[]
  charts: ChartSpec[]
}): string {
  const chartHtml = p.charts
    .map(
      (c) =>
        `<section><h2>${esc(c.title)}</h2><div class="chart"><canvas id="chart-${esc(c.id)}"></canvas></div>${
          c.note === undefined ? '' : `<p class="note">${esc(c.note)}</p>`
        }</section>`
    )
    .join('\n')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(p.title)}</title><style>${STYLE}</style></head>
<body>
<header><h1>${esc(p.title)}</h1><p>${esc(p.subtitle)}</p></header>
<main>
${p.sections.join('\n')}
<div class="grid">
${chartHtml}
</div>
</main>
<script>${chartJsSource()}</script>
<script type="application/json" id="charts">${scriptJson(p.charts.map((c) => ({ id: c.id, config: c.config })))}</script>
<script>
(function () {
  var specs = JSON.parse(document.getElementById('charts').textContent);
  var drawn = 0;
  try {
    Chart.defaults.animation = false;
    Chart.defaults.maintainAspectRatio = false;
    Chart.defaults.responsive = true;
    specs.forEach(function (s) {
      var canvas = document.getElementById('chart-' + s.id);
      var chart = new Chart(canvas, s.config);
      if (chart && chart.canvas) drawn++;
    });
  } catch (e) {
    document.body.dataset.chartsError = String(e && e.message || e);
  }
  document.body.dataset.chartsRendered = String(drawn);
})();
</script>
</body></html>
`
}

/**
 * A simple HTML table.
 * @example
 * table(['party', 'AUC'], [['a', 0.8]])
 */
export function table(head: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cell = (v: string | number | null | undefined) =>
    typeof v === 'number' ? `<td class="n">${esc(fmt(v))}</td>` : `<td>${esc(v ?? '–')}</td>`
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map(cell).join('')}</tr>`)
    .join('')}</tbody></table>`
}

/**
 * A number for display (4 significant digits; integers as they are).
 * @example
 * fmt(0.837123) // '0.8371'
 */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v)
  if (Number.isInteger(v)) return v.toLocaleString('en-US')
  return Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(4)
}
