import { describe, expect, it } from 'vitest'
import { createFedKMeans, finalizeKMeans } from '../../../protocols/strategies/fed-kmeans.ts'
import { kmeansEvalVector } from '../../../protocols/evaluation/kmeans-metrics.ts'
import { kmeansStats } from '../../../protocols/training/kmeans-stats.ts'
import { kmeansSpec } from '../../../protocols/training/model-spec.ts'
import { seededRandom } from '../../helpers/seeded-random.ts'

const spec = kmeansSpec({ k: 2, features: 2 })
const stats = kmeansStats({ k: 2, features: 2 })

function agg(sums: number[], counts: number[], sse: number[], participants = ['a', 'b']) {
  const v = new Float64Array(stats.length)
  const o = stats.offsets(0)
  v.set(sums, o.sums)
  v.set(counts, o.counts)
  v.set(sse, o.sse)
  return { sum: v, weight: counts.reduce((a, b) => a + b, 0), participants }
}

describe('federated k-means strategy', () => {
  it('centroid = Σ sums / Σ counts; inertia = Σ sse', () => {
    const s = createFedKMeans({ spec })
    const g = spec.unflatten(new Float64Array([0, 0, 1, 1]))
    const { global, metrics } = s.aggregateFit(1, agg([2, 4, 30, 60], [2, 10], [1.5, 2.5]), g)
    expect(Array.from(global.centroids!)).toEqual([1, 2, 3, 6])
    expect(metrics.inertia).toBe(4)
    expect(metrics.empty).toBe(0)
    expect(metrics.rows).toBe(12)
    expect(metrics.moved).toBeCloseTo(Math.hypot(2, 5), 12)
  })

  it('re-seeds an empty cluster next to the widest one, without looking at any row', () => {
    const s = createFedKMeans({ spec, rng: seededRandom('reseed') })
    const g = spec.unflatten(new Float64Array([100, 100, 0, 0]))
    const { global, metrics } = s.aggregateFit(1, agg([0, 0, 40, 80], [0, 40], [0, 80]), g)
    const c = global.centroids!
    expect(metrics.empty).toBe(1)
    expect([c[2], c[3]]).toEqual([1, 2])
    // spread = sqrt(80 / 40 / 2) = 1: the new centroid lies within a few spreads of (1, 2).
    expect(Math.hypot(c[0]! - 1, c[1]! - 2)).toBeLessThan(5)
    expect(Math.hypot(c[0]! - 1, c[1]! - 2)).toBeGreaterThan(0)
  })

  it('with update-level DP projects centroids into the clipping ball and rescales sse', () => {
    const s = createFedKMeans({
      spec,
      fit: {
        epochs: 1,
        batchSize: 1,
        learningRate: 1,
        dp: { kind: 'update-level', clipNorm: 1, noiseMultiplier: 1, minParticipants: 2, scale: 2 ** 10 }
      },
      emptyThreshold: 0.5
    })
    const g = spec.unflatten(new Float64Array(4))
    const { global, metrics } = s.aggregateFit(1, agg([30, 40, 1, 0], [10, 10], [0.25, 0.5]), g)
    const c = global.centroids!
    expect(Math.hypot(c[0]!, c[1]!)).toBeCloseTo(1, 12) // (3, 4) projected onto the unit ball
    expect([c[2], c[3]]).toEqual([0.1, 0])
    expect(metrics.inertia).toBe(3) // (0.25 + 0.5) · 4C^2
  })

  it('runs candidates side by side, reports the best, and finalises it', () => {
    const spec3 = kmeansSpec({ k: 2, features: 2, candidates: 3 })
    const st = kmeansStats({ k: 2, features: 2, candidates: 3 })
    const s = createFedKMeans({ spec: spec3 })
    const v = new Float64Array(st.length)
    for (let r = 0; r < 3; r++) {
      const o = st.offsets(r)
      v.set([r, r, r, r], o.sums)
      v.set([1, 1], o.counts)
      v.set([10 - r, 5], o.sse) // candidate 2 has the lowest inertia
    }
    const { global, metrics } = s.aggregateFit(
      1,
      { sum: v, weight: 2, participants: ['a'] },
      spec3.init(new Uint8Array([1]))
    )
    expect(metrics.best).toBe(2)
    expect(metrics.inertia).toBe(13)
    expect(metrics.inertia0).toBe(15)
    const { spec: one, params } = finalizeKMeans(spec3, global, 2)
    expect(one.layout.length).toBe(4)
    expect(Array.from(params.centroids!)).toEqual([2, 2, 2, 2])
    expect(() => finalizeKMeans(spec3, global, 3)).toThrow(
      expect.objectContaining({ code: 'COHORT_AGGREGATE_MISMATCH' })
    )
  })

  it('aggregateEvaluate picks the candidate of lowest summed inertia', () => {
    const spec2 = kmeansSpec({ k: 2, features: 1, candidates: 2 })
    const s = createFedKMeans({ spec: spec2 })
    const x = new Float64Array([0, 1, 10, 11])
    const good = kmeansEvalVector(x, 1, new Float64Array([0.5, 10.5]), 2)
    const bad = kmeansEvalVector(x, 1, new Float64Array([5, 6]), 2)
    const m = s.aggregateEvaluate(1, {
      sum: Float64Array.from([...bad, ...good]),
      weight: 1,
      participants: ['a']
    })
    expect(m.best).toBe(1)
    expect(m.inertia).toBe(1)
    expect(m.n).toBe(4)
  })

  it('refuses record-level DP and aggregates of the wrong length', () => {
    expect(() =>
      createFedKMeans({
        spec,
        fit: {
          epochs: 1,
          batchSize: 1,
          learningRate: 1,
          dp: { kind: 'record-level', clipNorm: 1, noiseMultiplier: 1 }
        }
      })
    ).toThrow(expect.objectContaining({ code: 'COHORT_TRAINING_CONFIG' }))
    const s = createFedKMeans({ spec })
    expect(() =>
      s.aggregateFit(
        1,
        { sum: new Float64Array(3), weight: 1, participants: ['a'] },
        spec.init(new Uint8Array([1]))
      )
    ).toThrow(expect.objectContaining({ code: 'COHORT_AGGREGATE_MISMATCH' }))
  })
})
