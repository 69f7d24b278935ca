import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  assignClusters,
  exactInertia,
  kmeansEvalVector,
  kmeansMetricsFromVector,
  nearestCentroid,
  silhouette
} from '../../../protocols/evaluation/kmeans-metrics.ts'

const BAD = expect.objectContaining({ code: 'COHORT_EVALUATION_INPUT' })

describe('k-means metrics', () => {
  const x = new Float64Array([0, 0, 0, 1, 10, 10, 10, 11])
  const c = new Float64Array([0, 0.5, 10, 10.5])

  it('nearest centroid, inertia and assignments', () => {
    expect(nearestCentroid(x, 2, 2, c, 0, 2)).toEqual({ index: 1, dist2: 0.25, second2: 100 + 90.25 })
    expect(exactInertia(x, 2, c, 2)).toBeCloseTo(1, 15)
    expect(Array.from(assignClusters(x, 2, c, 2))).toEqual([0, 0, 1, 1])
  })

  it('exact silhouette matches a hand computation', () => {
    // Rows 0,1 in cluster 0 (distance 1 apart); rows 2,3 in cluster 1.
    const labels = new Int32Array([0, 0, 1, 1])
    const d = (a: number, b: number) => Math.hypot(x[2 * a]! - x[2 * b]!, x[2 * a + 1]! - x[2 * b + 1]!)
    const s0 = ((d(0, 2) + d(0, 3)) / 2 - 1) / ((d(0, 2) + d(0, 3)) / 2)
    const s1 = ((d(1, 2) + d(1, 3)) / 2 - 1) / ((d(1, 2) + d(1, 3)) / 2)
    const s2 = ((d(2, 0) + d(2, 1)) / 2 - 1) / ((d(2, 0) + d(2, 1)) / 2)
    const s3 = ((d(3, 0) + d(3, 1)) / 2 - 1) / ((d(3, 0) + d(3, 1)) / 2)
    expect(silhouette(x, 2, labels, 2)).toBeCloseTo((s0 + s1 + s2 + s3) / 4, 14)
    // A singleton cluster scores 0.
    expect(silhouette(new Float64Array([0, 1, 5]), 1, new Int32Array([0, 0, 1]), 2)).toBeCloseTo(
      (1 - 1 / 5 + (1 - 1 / 4)) / 3,
      14
    )
  })

  it('summed per-party evaluation vectors equal the pooled metrics', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.double({ min: -5, max: 5, noNaN: true }),
            fc.double({ min: -5, max: 5, noNaN: true }),
            fc.integer({ min: 0, max: 2 })
          ),
          {
            minLength: 1,
            maxLength: 80
          }
        ),
        (rows) => {
          const centroids = new Float64Array([-2, -2, 0, 0, 3, 1])
          const pooled = Float64Array.from(rows.flatMap((r) => [r[0], r[1]]))
          const parts = [0, 1, 2].map((p) =>
            Float64Array.from(rows.filter((r) => r[2] === p).flatMap((r) => [r[0], r[1]]))
          )
          const total = new Float64Array(6)
          for (const part of parts) {
            const v = kmeansEvalVector(part, 2, centroids, 3)
            for (let i = 0; i < v.length; i++) total[i]! += v[i]!
          }
          const m = kmeansMetricsFromVector(total, 3)
          expect(m.n).toBe(rows.length)
          expect(m.inertia).toBeCloseTo(exactInertia(pooled, 2, centroids, 3), 8)
          const labels = assignClusters(pooled, 2, centroids, 3)
          for (let j = 0; j < 3; j++) expect(m[`size${j}`]).toBe(labels.filter((l) => l === j).length)
          expect(m.simplifiedSilhouette).toBeGreaterThanOrEqual(-1)
          expect(m.simplifiedSilhouette).toBeLessThanOrEqual(1)
        }
      ),
      { numRuns: 100 }
    )
  })

  it('refuses mismatched shapes', () => {
    expect(() => exactInertia(new Float64Array(3), 2, c, 2)).toThrow(BAD)
    expect(() => exactInertia(x, 2, c, 3)).toThrow(BAD)
    expect(() => kmeansMetricsFromVector(new Float64Array(4), 2)).toThrow(BAD)
  })
})
