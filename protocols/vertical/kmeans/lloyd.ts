/**
 * The local arithmetic of one party: partial squared distances of its own feature slice to its own
 * centroid slices, partial inertia, centroid updates, and the public-seed choices of initial and
 * re-seeded centroids (every party draws the same row indices, each takes its own slice of them).
 * Centroids of a candidate are a row-major k × cols Float64Array.
 */
import { publicSeedSource, seedBytes } from '../../training/public-seed.ts'
import type { VerticalSlice } from '../types.ts'

const INIT_LABEL = 'cohort/vertical-kmeans-init/v1'

/**
 * k distinct training rows (aligned-row indices) for candidate `r`, drawn from the public seed.
 * @example
 * const rows = initialRows('job-7', 0, 4, trainIdx)
 */
export function initialRows(seed: string, r: number, k: number, train: Int32Array): Int32Array {
  const rng = publicSeedSource(seedBytes(`${seed}/init/${r}`), INIT_LABEL)
  const picked = new Set<number>()
  const out = new Int32Array(k)
  for (let c = 0; c < k; c++) {
    let j = rng.uniformInt(train.length)
    while (picked.has(j)) j = rng.uniformInt(train.length)
    picked.add(j)
    out[c] = train[j]!
  }
  return out
}

/**
 * The training row that re-seeds empty cluster `c` of candidate `r` at iteration `t`.
 * @example
 * const row = reseedRow('job-7', 0, 5, 2, trainIdx)
 */
export function reseedRow(seed: string, r: number, t: number, c: number, train: Int32Array): number {
  const rng = publicSeedSource(seedBytes(`${seed}/reseed/${r}/${t}/${c}`), INIT_LABEL)
  return train[rng.uniformInt(train.length)]!
}

/**
 * The slice rows `rows` as k centroids.
 * @example
 * const centroids = centroidsFromRows(slice, initialRows(seed, 0, 4, trainIdx))
 */
export function centroidsFromRows(slice: VerticalSlice, rows: Int32Array): Float64Array {
  const d = slice.cols
  const out = new Float64Array(rows.length * d)
  rows.forEach((row, c) => {
    out.set(slice.x.subarray(row * d, (row + 1) * d), c * d)
  })
  return out
}

/**
 * Writes this party's partial distance gaps of `rows` into `out` at `offset`: for each row, the k − 1
 * values ||x − c_j||² − ||x − c_0||² (j = 1..k−1) over its own columns (row-major rows × (k − 1)).
 * Gaps of the parties add up to the gaps of the full distances, and the argmin of the full distances
 * is 0 when every gap is >= 0, else the index of the most negative gap.
 * @example
 * partialGaps(slice, trainIdx, centroids, 4, out, 0)
 */
export function partialGaps(
  slice: VerticalSlice,
  rows: Int32Array,
  centroids: Float64Array,
  k: number,
  out: Float64Array,
  offset: number
): void {
  const d = slice.cols
  const x = slice.x
  const dist = new Float64Array(k)
  for (let j = 0; j < rows.length; j++) {
    const xo = rows[j]! * d
    for (let c = 0; c < k; c++) {
      let s = 0
      for (let f = 0; f < d; f++) {
        const t = x[xo + f]! - centroids[c * d + f]!
        s += t * t
      }
      dist[c] = s
    }
    for (let c = 1; c < k; c++) out[offset + j * (k - 1) + c - 1] = dist[c]! - dist[0]!
  }
}

/**
 * Σ_j ||x_j − centroid(assignment_j)||² over `rows` for this party's columns.
 * @example
 * partialInertia(slice, trainIdx, labels, centroids)
 */
export function partialInertia(
  slice: VerticalSlice,
  rows: Int32Array,
  assignments: Uint8Array,
  centroids: Float64Array
): number {
  const d = slice.cols
  let total = 0
  for (let j = 0; j < rows.length; j++) {
    const xo = rows[j]! * d
    const co = assignments[j]! * d
    for (let f = 0; f < d; f++) {
      const t = slice.x[xo + f]! - centroids[co + f]!
      total += t * t
    }
  }
  return total
}

/**
 * Lloyd's update of this party's centroid slices: the mean of the rows assigned to each cluster; an
 * empty cluster takes the slice of the public-seed row `reseed(c)`. Returns the new centroids and the
 * empty clusters.
 * @example
 * const { centroids, empty } = updateCentroids(slice, trainIdx, labels, 4, (c) => reseedRow(seed, r, t, c, trainIdx))
 */
export function updateCentroids(
  slice: VerticalSlice,
  rows: Int32Array,
  assignments: Uint8Array,
  k: number,
  reseed: (c: number) => number
): { centroids: Float64Array; empty: number[] } {
  const d = slice.cols
  const sums = new Float64Array(k * d)
  const counts = new Float64Array(k)
  for (let j = 0; j < rows.length; j++) {
    const c = assignments[j]!
    counts[c]!++
    const xo = rows[j]! * d
    for (let f = 0; f < d; f++) sums[c * d + f]! += slice.x[xo + f]!
  }
  const empty: number[] = []
  for (let c = 0; c < k; c++) {
    if (counts[c] === 0) {
      empty.push(c)
      const row = reseed(c)
      sums.set(slice.x.subarray(row * d, (row + 1) * d), c * d)
    } else for (let f = 0; f < d; f++) sums[c * d + f]! /= counts[c]!
  }
  return { centroids: sums, empty }
}

/**
 * The nearest centroid of each row from its k − 1 distance gaps (see {@link partialGaps}); invariant
 * under a positive scale of each row's gaps.
 * @example
 * argminFromGaps(Float64Array.of(-1, 2, 0.5, 3), 3) // Uint8Array [1, 0]
 */
export function argminFromGaps(gaps: Float64Array, k: number): Uint8Array {
  const w = k - 1
  const groups = gaps.length / w
  const out = new Uint8Array(groups)
  for (let g = 0; g < groups; g++) {
    let best = 0
    let bestV = 0
    for (let c = 1; c < k; c++) {
      const v = gaps[g * w + c - 1]!
      if (v < bestV) {
        bestV = v
        best = c
      }
    }
    out[g] = best
  }
  return out
}
