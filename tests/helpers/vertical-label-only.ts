/**
 * TEST HELPER: the label party alone, as the comparison for vertical LR — exact L2 logistic
 * regression (Newton, to convergence) on the label party's own columns and ALL its own training rows
 * (its vertical_overlap.json list, as baselines.json's label_party_only), scored on the test rows of
 * the intersection, i.e. the same rows the vertical model is scored on.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { exactAuc } from '../../protocols/evaluation/exact-metrics.ts'
import { DATASETS_DIR, loadSharedDataset } from '../../simulations/baselines/load-dataset.ts'
import type { VerticalTestData } from './vertical-data.ts'

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)))

/**
 * Test AUC of the label party alone on the intersection's test rows.
 *
 * @example
 * const { auc, trainRows } = await labelOnlyAuc(await loadVerticalData('wa_churn'))
 */
export async function labelOnlyAuc(data: VerticalTestData): Promise<{ auc: number; trainRows: number }> {
  const ds = await loadSharedDataset(data.name)
  const label = data.parties[0]!
  const overlap = JSON.parse(
    readFileSync(join(DATASETS_DIR, data.name, 'partitions', 'vertical_overlap.json'), 'utf8')
  ) as Record<string, string[]>
  const own = new Set(overlap[label.name]!.map((u) => Number(u.slice(1))))
  const testRows = new Set(Array.from(data.rowIndex).filter((i) => i % 5 === 0))
  const cols = label.slice.featureNames.map((f) => ds.train.featureNames.indexOf(f))
  const d = cols.length
  const pick = (part: typeof ds.train, keep: (i: number) => boolean) => {
    const x: number[] = []
    const y: number[] = []
    for (let r = 0; r < part.rows; r++) {
      if (!keep(part.index[r]!)) continue
      for (const j of cols) x.push(part.x[r * part.features + j]!)
      y.push(part.y![r]!)
    }
    return { x: Float64Array.from(x), y }
  }
  const train = pick(ds.train, (i) => own.has(i))
  const test = pick(ds.test, (i) => testRows.has(i))
  const w = newton(train.x, d, train.y, 1 / train.y.length)
  const scores = test.y.map((_, k) => {
    let z = w[d]!
    for (let j = 0; j < d; j++) z += test.x[k * d + j]! * w[j]!
    return sigmoid(z)
  })
  return { auc: exactAuc(scores, test.y), trainRows: train.y.length }
}

/** Mean logistic loss + λ/2·‖w‖² (intercept, the last weight, excluded), minimised by Newton steps. */
function newton(x: Float64Array, d: number, y: readonly number[], l2: number): Float64Array {
  const n = y.length
  const m = d + 1
  const w = new Float64Array(m)
  const row = new Float64Array(m)
  for (let it = 0; it < 100; it++) {
    const g = new Float64Array(m)
    const h = new Float64Array(m * m)
    for (let i = 0; i < n; i++) {
      row.set(x.subarray(i * d, (i + 1) * d))
      row[d] = 1
      let z = 0
      for (let j = 0; j < m; j++) z += row[j]! * w[j]!
      const p = sigmoid(z)
      for (let a = 0; a < m; a++) {
        g[a] = g[a]! + (row[a]! * (p - y[i]!)) / n
        const ca = (p * (1 - p) * row[a]!) / n
        for (let b = 0; b <= a; b++) h[a * m + b] = h[a * m + b]! + ca * row[b]!
      }
    }
    for (let j = 0; j < d; j++) {
      g[j] = g[j]! + l2 * w[j]!
      h[j * m + j] = h[j * m + j]! + l2
    }
    const step = solveSymmetric(h, g, m)
    let largest = 0
    for (let j = 0; j < m; j++) {
      w[j] = w[j]! - step[j]!
      largest = Math.max(largest, Math.abs(step[j]!))
    }
    if (largest < 1e-9) break
  }
  return w
}

/** Solves H s = g by Cholesky (H positive definite, lower triangle filled). */
function solveSymmetric(h: Float64Array, g: Float64Array, m: number): Float64Array {
  const l = new Float64Array(m * m)
  for (let i = 0; i < m; i++)
    for (let j = 0; j <= i; j++) {
      let s = h[i * m + j]!
      for (let k = 0; k < j; k++) s -= l[i * m + k]! * l[j * m + k]!
      l[i * m + j] = i === j ? Math.sqrt(s) : s / l[j * m + j]!
    }
  const z = new Float64Array(m)
  for (let i = 0; i < m; i++) {
    let s = g[i]!
    for (let k = 0; k < i; k++) s -= l[i * m + k]! * z[k]!
    z[i] = s / l[i * m + i]!
  }
  const out = new Float64Array(m)
  for (let i = m - 1; i >= 0; i--) {
    let s = z[i]!
    for (let k = i + 1; k < m; k++) s -= l[k * m + i]! * out[k]!
    out[i] = s / l[i * m + i]!
  }
  return out
}
