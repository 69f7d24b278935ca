import { describe, expect, it } from 'vitest'
import { createKMeansTrainer } from '../../../node/training/kmeans-trainer.ts'
import { makeDataset } from '../../../node/training/matrix.ts'
import { kmeansMetricsFromVector } from '../../../protocols/evaluation/kmeans-metrics.ts'
import { createFedKMeans } from '../../../protocols/strategies/fed-kmeans.ts'
import { fromSummand, toSummand } from '../../../protocols/strategies/strategy.ts'
import { updateLevelEvent } from '../../../protocols/training/dp-plan.ts'
import { kmeansRowSensitivity, kmeansStats } from '../../../protocols/training/kmeans-stats.ts'
import { kmeansSpec } from '../../../protocols/training/model-spec.ts'
import { seedBytes } from '../../../protocols/training/public-seed.ts'
import { blobs } from './synthetic.ts'

const fit = { epochs: 1, batchSize: 1, learningRate: 1 }

describe('k-means trainer (sufficient statistics)', () => {
  it('releases per-cluster sums, counts and squared errors of the nearest-centroid assignment', async () => {
    const data = makeDataset({
      x: new Float64Array([0, 0, 0, 2, 10, 10, 12, 10, 11, 11]),
      y: null,
      features: 2
    })
    const trainer = createKMeansTrainer({ k: 2, features: 2 })
    const g = trainer.spec.unflatten(new Float64Array([0, 1, 11, 10]))
    const u = await trainer.fit(g, data, fit)
    const o = kmeansStats({ k: 2, features: 2 }).offsets(0)
    expect(Array.from(u.vector.subarray(o.sums, o.sums + 4))).toEqual([0, 2, 33, 31])
    expect(Array.from(u.vector.subarray(o.counts, o.counts + 2))).toEqual([2, 3])
    expect(Array.from(u.vector.subarray(o.sse, o.sse + 2))).toEqual([2, 1 + 1 + 1])
    expect(u.weight).toBe(5)
    expect(u.event).toEqual({ kind: 'non-private' })
    expect(u.metrics.inertia).toBe(5)
  })

  it('with update-level DP clips each row, caps sse, releases weight 1 and the per-row event', async () => {
    const data = makeDataset({ x: new Float64Array([30, 40, 0, 0.5]), y: null, features: 2 })
    const spec = kmeansSpec({ k: 1, features: 2 })
    const trainer = createKMeansTrainer(spec)
    const dp = {
      kind: 'update-level',
      clipNorm: 2,
      noiseMultiplier: 1,
      minParticipants: 2,
      scale: 2 ** 12
    } as const
    const u = await trainer.fit(spec.unflatten(new Float64Array([0, 0])), data, { ...fit, dp })
    expect(u.vector[0]).toBeCloseTo(1.2, 12) // (30, 40) clipped to (1.2, 1.6)
    expect(u.vector[1]).toBeCloseTo(2.1, 12)
    expect(u.vector[2]).toBe(2)
    // sse / (4 C^2): 4 / 16 + 0.25 / 16
    expect(u.vector[3]).toBeCloseTo(4.25 / 16, 12)
    expect(u.weight).toBe(1)
    expect(u.event).toEqual(
      updateLevelEvent(dp, { realSensitivity: kmeansRowSensitivity(2, 1), dimension: 5 })
    )
    await expect(
      trainer.fit(spec.init(seedBytes('x')), data, {
        ...fit,
        dp: { kind: 'record-level', clipNorm: 1, noiseMultiplier: 1 }
      })
    ).rejects.toMatchObject({
      code: 'COHORT_TRAINING_CONFIG'
    })
  })

  it('federated Lloyd rounds on summed statistics find well-separated blobs', async () => {
    const centres = [
      [0, 0, 0],
      [4, 0, 0],
      [0, 4, 0],
      [0, 0, 4]
    ]
    const a = blobs('km/a', 50, centres)
    const b = blobs('km/b', 30, centres)
    const spec = kmeansSpec({ k: 4, features: 3, candidates: 4, initScale: 2 })
    const trainer = createKMeansTrainer(spec)
    const strategy = createFedKMeans({ spec })
    let g = spec.init(seedBytes('blobs'))
    for (let round = 0; round < 15; round++) {
      const ua = await trainer.fit(g, a, fit)
      const ub = await trainer.fit(g, b, fit)
      const s = toSummand(ua).map((v, i) => v + toSummand(ub)[i]!)
      g = strategy.aggregateFit(round, fromSummand(s, ['a', 'b']), g).global
    }
    const m = await trainer.evaluate(g, blobs('km/test', 40, centres))
    // 160 test rows, per-coordinate sd 0.3: inertia ≈ 160 · 3 · 0.09 when every blob is found.
    expect(m.inertia / m.n).toBeLessThan(0.4)
    const v = await trainer.evaluationVector(g, a)
    expect(v.length).toBe(4 * 7)
    expect(kmeansMetricsFromVector(v.slice(m.best! * 7, m.best! * 7 + 7), 4).n).toBe(200)
  })

  it('predicts cluster indices with a single-candidate model only', async () => {
    const spec = kmeansSpec({ k: 2, features: 1 })
    const trainer = createKMeansTrainer(spec)
    const data = makeDataset({ x: new Float64Array([-1, 5, 0.2]), y: null, features: 1 })
    expect(Array.from(await trainer.predict(spec.unflatten(new Float64Array([0, 5])), data))).toEqual([
      0, 1, 0
    ])
    const multi = createKMeansTrainer({ k: 2, features: 1, candidates: 2 })
    await expect(multi.predict(multi.spec.init(seedBytes('m')), data)).rejects.toMatchObject({
      code: 'COHORT_TRAINING_CONFIG'
    })
  })
})
