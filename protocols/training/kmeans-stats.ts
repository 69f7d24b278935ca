import { TrainingConfigError } from './errors.ts'
import type { ModelSpec, NamedParams } from './model-spec.ts'

/**
 * The k-means update: sufficient statistics of one Lloyd step, summed securely across nodes.
 * Per candidate r (each of k·(d + 2) values, candidates one after the other):
 *   sums  [k, d]: Σ x over the rows whose nearest centroid (of candidate r) is j
 *   counts [k]:   number of those rows
 *   sse   [k]:    Σ ||x - c_j||^2 over those rows, divided by `sseScale`
 * centroid_j = Σ sums_j / Σ counts_j, and Σ_j sse_j · sseScale is the inertia of the centroids the
 * step used. With row clipping to norm C (DP), rows and hence centroids lie in the ball of radius C,
 * so a row's squared distance is at most 4C^2: sseScale = 4C^2 bounds each sse entry by 1, and one
 * row changes a candidate's statistics by at most sqrt(C^2 + 1 + 1) in L2.
 */

/**
 * Offsets of the statistics in a k-means update vector.
 * @example
 * const s = kmeansStats({ k: 4, features: 26, candidates: 2 }); s.length // 2 * 4 * 28
 */
export interface KMeansStats {
  readonly k: number
  readonly features: number
  readonly candidates: number
  /** Values per candidate: k·(d + 2). */
  readonly perCandidate: number
  readonly length: number
  /** Offsets of candidate r's sums, counts and sse blocks. */
  offsets(r: number): { sums: number; counts: number; sse: number }
}

/**
 * The statistics layout of a k-means model.
 * @example
 * kmeansStats(spec.descriptor)
 */
export function kmeansStats(p: { k: number; features: number; candidates?: number }): KMeansStats {
  const { k, features: d } = p
  const candidates = p.candidates ?? 1
  const perCandidate = k * (d + 2)
  return Object.freeze({
    k,
    features: d,
    candidates,
    perCandidate,
    length: perCandidate * candidates,
    offsets(r: number) {
      const base = r * perCandidate
      return { sums: base, counts: base + k * d, sse: base + k * d + k }
    }
  })
}

/**
 * The statistics layout of a k-means spec.
 * @throws TrainingConfigError for a spec of another kind
 * @example
 * kmeansStatsOf(kmeansSpec({ k: 4, features: 26 })).length // 112
 */
export function kmeansStatsOf(spec: ModelSpec<NamedParams>): KMeansStats {
  const d = spec.descriptor
  if (d.kind !== 'kmeans') throw new TrainingConfigError(`expected a k-means model, got ${d.kind}`)
  return kmeansStats({ k: d.k, features: d.features, candidates: d.candidates ?? 1 })
}

/**
 * Divisor of the sse entries: 4·C^2 with row clipping to C, 1 without.
 * @example
 * sseScale(2) // 16
 */
export function sseScale(clipNorm: number | undefined): number {
  return clipNorm === undefined ? 1 : 4 * clipNorm * clipNorm
}

/**
 * Real-valued L2 sensitivity of a k-means update to one row, with rows clipped to `clipNorm`:
 * sqrt(candidates · (C^2 + 2)) (the row lands in one cluster per candidate: its sum changes by at
 * most C, its count by 1, its sse entry by at most 1).
 *
 * @example
 * kmeansRowSensitivity(3, 1) // sqrt(11)
 */
export function kmeansRowSensitivity(clipNorm: number, candidates: number): number {
  return Math.sqrt(candidates * (clipNorm * clipNorm + 2))
}
