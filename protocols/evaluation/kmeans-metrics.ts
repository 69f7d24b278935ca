import { EvaluationInputError } from './errors.ts'

/**
 * Clustering metrics. Federated ones are sums (inertia, cluster sizes, the *simplified* silhouette
 * of Hruschka et al. 2004, which compares each row's distance to its own centroid with the distance
 * to the nearest other centroid and so needs no other party's rows); the exact silhouette
 * (Rousseeuw 1987) needs all pairwise distances, so it exists only for pooled comparisons and local
 * reports. Matrices are row-major Float64Arrays: x is rows × d, centroids is k × d.
 */

/**
 * Nearest centroid of row `r` among centroids [from, from + k): its index (relative to `from`), its
 * squared distance, and the squared distance to the second nearest (Infinity when k = 1).
 *
 * @example
 * const { index, dist2 } = nearestCentroid(x, r, d, centroids, 0, 4)
 */
export function nearestCentroid(
  x: Float64Array,
  r: number,
  d: number,
  centroids: Float64Array,
  from: number,
  k: number
): { index: number; dist2: number; second2: number } {
  let best = 0
  let bestD = Number.POSITIVE_INFINITY
  let second = Number.POSITIVE_INFINITY
  const xo = r * d
  for (let j = 0; j < k; j++) {
    const co = (from + j) * d
    let s = 0
    for (let f = 0; f < d; f++) {
      const t = x[xo + f]! - centroids[co + f]!
      s += t * t
    }
    if (s < bestD) {
      second = bestD
      bestD = s
      best = j
    } else if (s < second) second = s
  }
  return { index: best, dist2: bestD, second2: second }
}

function dims(x: Float64Array, d: number, centroids: Float64Array, k: number): number {
  if (!(Number.isSafeInteger(d) && d >= 1)) throw new EvaluationInputError(`d must be >= 1, got ${d}`)
  if (x.length % d !== 0)
    throw new EvaluationInputError(`x has ${x.length} values, not a multiple of d = ${d}`)
  if (centroids.length !== k * d)
    throw new EvaluationInputError(`centroids have ${centroids.length} values, expected ${k * d}`)
  return x.length / d
}

/**
 * Length of the k-means evaluation vector: [sse, n, simplifiedSilhouetteSum, sizes (k)].
 * @example
 * kmeansEvalLength(4) // 7
 */
export function kmeansEvalLength(k: number): number {
  return 3 + k
}

/**
 * One node's k-means evaluation vector, to be summed securely.
 *
 * @example
 * const v = kmeansEvalVector(x, 26, centroids, 4)
 */
export function kmeansEvalVector(
  x: Float64Array,
  d: number,
  centroids: Float64Array,
  k: number
): Float64Array {
  const rows = dims(x, d, centroids, k)
  const out = new Float64Array(kmeansEvalLength(k))
  for (let r = 0; r < rows; r++) {
    const { index, dist2, second2 } = nearestCentroid(x, r, d, centroids, 0, k)
    out[0]! += dist2
    if (k > 1) {
      const a = Math.sqrt(dist2)
      const b = Math.sqrt(second2)
      const m = Math.max(a, b)
      out[2]! += m > 0 ? (b - a) / m : 0
    }
    out[3 + index]!++
  }
  out[1] = rows
  return out
}

/**
 * Metrics of a k-means evaluation vector.
 * @example
 * const m = kmeansMetricsFromVector(sum, 4) // { inertia, n, inertiaPerRow, simplifiedSilhouette, size0.. }
 */
export interface KMeansMetrics {
  inertia: number
  n: number
  inertiaPerRow: number
  simplifiedSilhouette: number
  [name: string]: number
}

/**
 * Inertia, size, per-row inertia, simplified silhouette and cluster sizes (`size<j>`) of a summed
 * k-means evaluation vector.
 *
 * @example
 * kmeansMetricsFromVector(aggregate.sum, 4).inertia
 */
export function kmeansMetricsFromVector(v: Float64Array, k: number): KMeansMetrics {
  if (v.length !== kmeansEvalLength(k))
    throw new EvaluationInputError(`expected ${kmeansEvalLength(k)} values, got ${v.length}`)
  const n = v[1]!
  const out: KMeansMetrics = {
    inertia: v[0]!,
    n,
    inertiaPerRow: n > 0 ? v[0]! / n : Number.NaN,
    simplifiedSilhouette: n > 0 ? v[2]! / n : Number.NaN
  }
  for (let j = 0; j < k; j++) out[`size${j}`] = v[3 + j]!
  return out
}

/**
 * Sum of squared distances of every row to its nearest centroid (scikit-learn's `inertia_`).
 * @example
 * exactInertia(x, 26, centroids, 4)
 */
export function exactInertia(x: Float64Array, d: number, centroids: Float64Array, k: number): number {
  const rows = dims(x, d, centroids, k)
  let s = 0
  for (let r = 0; r < rows; r++) s += nearestCentroid(x, r, d, centroids, 0, k).dist2
  return s
}

/**
 * Index of the nearest centroid of every row.
 * @example
 * const labels = assignClusters(x, 26, centroids, 4) // Int32Array(rows)
 */
export function assignClusters(x: Float64Array, d: number, centroids: Float64Array, k: number): Int32Array {
  const rows = dims(x, d, centroids, k)
  const out = new Int32Array(rows)
  for (let r = 0; r < rows; r++) out[r] = nearestCentroid(x, r, d, centroids, 0, k).index
  return out
}

/**
 * Exact mean silhouette (Euclidean; rows in singleton clusters score 0, as in scikit-learn), over
 * the rows listed in `sample` (all rows when omitted; O(sample² · d), so pass a sample for big sets
 * — scikit-learn's baseline uses 2000 rows).
 *
 * @example
 * silhouette(x, 26, labels, 4) // in [-1, 1]
 */
export function silhouette(
  x: Float64Array,
  d: number,
  labels: Int32Array,
  k: number,
  sample?: ArrayLike<number>
): number {
  const all = labels.length
  if (x.length !== all * d)
    throw new EvaluationInputError(`x has ${x.length} values for ${all} labels and d = ${d}`)
  const idx = sample ?? Array.from({ length: all }, (_, i) => i)
  const m = idx.length
  const sizes = new Float64Array(k)
  for (let i = 0; i < m; i++) sizes[labels[idx[i]!]!]!++
  const sums = new Float64Array(k)
  let total = 0
  for (let i = 0; i < m; i++) {
    const ri = idx[i]!
    sums.fill(0)
    for (let j = 0; j < m; j++) {
      if (i === j) continue
      const rj = idx[j]!
      let s = 0
      for (let f = 0; f < d; f++) {
        const t = x[ri * d + f]! - x[rj * d + f]!
        s += t * t
      }
      sums[labels[rj]!]! += Math.sqrt(s)
    }
    const own = labels[ri]!
    if (sizes[own]! <= 1) continue
    const a = sums[own]! / (sizes[own]! - 1)
    let b = Number.POSITIVE_INFINITY
    for (let c = 0; c < k; c++) if (c !== own && sizes[c]! > 0) b = Math.min(b, sums[c]! / sizes[c]!)
    if (!Number.isFinite(b)) continue
    total += (b - a) / Math.max(a, b)
  }
  return total / m
}
