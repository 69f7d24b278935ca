/**
 * TEST ONLY: aligned vertical slices of a shared dataset for vertical k-means, and a plain
 * centralized k-means (k-means++ seeding, Lloyd, best of n_init) as the reference.
 *
 * Rows: the intersection of partitions/vertical_overlap.json in ascending uid order (= row_index
 * order); training rows: row_index % 5 != 0. Features: the spec's encoding of each party's columns of
 * partitions/vertical.json (the target excluded), each column standardized by its party with the mean
 * and population std of the intersection's training rows (std < 1e-12 -> 1), as the centralized
 * reference uses on the pooled matrix.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { VerticalSlice } from '../../protocols/vertical/types.ts'
import { DATASETS_DIR, loadSharedDataset } from '../../simulations/baselines/load-dataset.ts'
import type { RandomSource } from '../../crypto/dp/random.ts'

export interface VerticalKMeansData {
  parties: Array<{ name: string; slice: VerticalSlice }>
  /** Dataset row_index of each aligned row. */
  rowIndex: Int32Array
  /** 1 = training row. */
  train: Uint8Array
  /** Training rows × all parties' columns (party order), for the centralized reference. */
  pooledTrain: { x: Float64Array; rows: number; cols: number }
}

export async function loadVerticalKMeansData(dataset: string): Promise<VerticalKMeansData> {
  const ds = await loadSharedDataset(dataset)
  const folder = join(DATASETS_DIR, dataset)
  const columns = JSON.parse(readFileSync(join(folder, 'partitions/vertical.json'), 'utf8')) as Record<
    string,
    string[]
  >
  const overlap = JSON.parse(
    readFileSync(join(folder, 'partitions/vertical_overlap.json'), 'utf8')
  ) as Record<string, string[]>
  let common: Set<string> | undefined
  for (const uids of Object.values(overlap)) {
    const s = new Set(uids)
    common = common === undefined ? s : new Set([...common].filter((u) => s.has(u)))
  }
  const rowIndex = Int32Array.from([...common!].sort(), (u) => Number(u.slice(1)))
  const train = Uint8Array.from(rowIndex, (i) => (i % 5 !== 0 ? 1 : 0))
  const where = new Map<number, { x: Float64Array; r: number }>()
  for (const part of [ds.train, ds.test]) {
    for (let r = 0; r < part.rows; r++) where.set(part.index[r]!, { x: part.x, r })
  }
  const d = ds.train.features
  const names = ds.train.featureNames
  const target = ds.schema.target?.column
  const parties = Object.entries(columns).map(([name, cols]) => {
    const own = new Set(cols.filter((c) => c !== 'uid' && c !== target))
    const idx = names.flatMap((n, f) => (own.has(n.split('=')[0]!) ? [f] : []))
    const n = rowIndex.length
    const x = new Float64Array(n * idx.length)
    rowIndex.forEach((ri, i) => {
      const at = where.get(ri)!
      idx.forEach((f, j) => {
        x[i * idx.length + j] = at.x[at.r * d + f]!
      })
    })
    standardize(x, idx.length, train)
    const slice: VerticalSlice = { rows: n, cols: idx.length, x, featureNames: idx.map((f) => names[f]!) }
    return { name, slice }
  })
  const cols = parties.reduce((a, p) => a + p.slice.cols, 0)
  const trainRows = train.reduce((a, f) => a + f, 0)
  const px = new Float64Array(trainRows * cols)
  let t = 0
  for (let i = 0; i < rowIndex.length; i++) {
    if (train[i] !== 1) continue
    let o = 0
    for (const p of parties) {
      px.set(p.slice.x.subarray(i * p.slice.cols, (i + 1) * p.slice.cols), t * cols + o)
      o += p.slice.cols
    }
    t++
  }
  return { parties, rowIndex, train, pooledTrain: { x: px, rows: trainRows, cols } }
}

function standardize(x: Float64Array, d: number, train: Uint8Array): void {
  const n = train.length
  for (let f = 0; f < d; f++) {
    let m = 0
    let c = 0
    for (let i = 0; i < n; i++) {
      if (train[i] !== 1) continue
      m += x[i * d + f]!
      c++
    }
    m /= c
    let v = 0
    for (let i = 0; i < n; i++) if (train[i] === 1) v += (x[i * d + f]! - m) ** 2
    let sd = Math.sqrt(v / c)
    if (sd < 1e-12) sd = 1
    for (let i = 0; i < n; i++) x[i * d + f] = (x[i * d + f]! - m) / sd
  }
}

function nearest(x: Float64Array, i: number, d: number, c: Float64Array, k: number): [number, number] {
  let best = 0
  let bestD = Number.POSITIVE_INFINITY
  for (let j = 0; j < k; j++) {
    let s = 0
    for (let f = 0; f < d; f++) s += (x[i * d + f]! - c[j * d + f]!) ** 2
    if (s < bestD) {
      bestD = s
      best = j
    }
  }
  return [best, bestD]
}

/** Plain k-means: k-means++ seeding, Lloyd to convergence, best of nInit; returns the lowest inertia. */
export function plainKMeans(
  x: Float64Array,
  rows: number,
  d: number,
  k: number,
  nInit: number,
  rng: RandomSource
): { inertia: number; labels: Int32Array } {
  let best = { inertia: Number.POSITIVE_INFINITY, labels: new Int32Array(rows) }
  const u = () => rng.bits(53) / 2 ** 53
  for (let run = 0; run < nInit; run++) {
    const c = new Float64Array(k * d)
    const first = rng.uniformInt(rows)
    c.set(x.subarray(first * d, (first + 1) * d), 0)
    const dist = new Float64Array(rows).fill(Number.POSITIVE_INFINITY)
    for (let j = 1; j < k; j++) {
      let total = 0
      for (let i = 0; i < rows; i++) {
        let s = 0
        for (let f = 0; f < d; f++) s += (x[i * d + f]! - c[(j - 1) * d + f]!) ** 2
        dist[i] = Math.min(dist[i]!, s)
        total += dist[i]!
      }
      let target = u() * total
      let pick = rows - 1
      for (let i = 0; i < rows; i++) {
        target -= dist[i]!
        if (target <= 0) {
          pick = i
          break
        }
      }
      c.set(x.subarray(pick * d, (pick + 1) * d), j * d)
    }
    const labels = new Int32Array(rows).fill(-1)
    let inertia = 0
    for (let it = 0; it < 300; it++) {
      let changed = false
      inertia = 0
      for (let i = 0; i < rows; i++) {
        const [j, dd] = nearest(x, i, d, c, k)
        inertia += dd
        if (labels[i] !== j) {
          labels[i] = j
          changed = true
        }
      }
      if (!changed) break
      const sums = new Float64Array(k * d)
      const counts = new Float64Array(k)
      for (let i = 0; i < rows; i++) {
        counts[labels[i]!]!++
        for (let f = 0; f < d; f++) sums[labels[i]! * d + f]! += x[i * d + f]!
      }
      for (let j = 0; j < k; j++) {
        if (counts[j] === 0) continue
        for (let f = 0; f < d; f++) c[j * d + f] = sums[j * d + f]! / counts[j]!
      }
    }
    if (inertia < best.inertia) best = { inertia, labels: labels.slice() }
  }
  return best
}
