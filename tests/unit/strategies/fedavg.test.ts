import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createFedAvg } from '../../../protocols/strategies/fedavg.ts'
import { createFedProx } from '../../../protocols/strategies/fedprox.ts'
import { fromSummand, selectParticipants, toSummand } from '../../../protocols/strategies/strategy.ts'
import { binaryEvalVector } from '../../../protocols/evaluation/binary-metrics.ts'
import { logregSpec } from '../../../protocols/training/model-spec.ts'
import { seededRandom } from '../../helpers/seeded-random.ts'

const spec = logregSpec({ features: 2 })
const fit = { epochs: 1, batchSize: 32, learningRate: 0.1 }
const fleet = { available: ['a', 'b', 'c'] }
const MISMATCH = expect.objectContaining({ code: 'COHORT_AGGREGATE_MISMATCH' })

function params(w0: number, w1: number, b: number) {
  return spec.unflatten(new Float64Array([w0, w1, b]))
}

describe('summands and aggregates', () => {
  it('toSummand appends the weight; fromSummand splits it off', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { maxLength: 20 }),
        fc.integer({ min: 1, max: 1e6 }),
        (v, w) => {
          const s = toSummand({ vector: Float64Array.from(v), weight: w })
          const agg = fromSummand(s, ['x'])
          expect(Array.from(agg.sum)).toEqual(v)
          expect(agg.weight).toBe(w)
        }
      )
    )
  })
})

describe('FedAvg', () => {
  it('new global = global + Σ w·Δ / Σ w, with weights from the aggregate', () => {
    const s = createFedAvg({ spec, fit })
    // Parties: Δa = [1, 0, 0] with n = 100, Δb = [0, 2, -1] with n = 300 -> released n·Δ.
    const sum = new Float64Array([100, 600, -300])
    const { global, metrics } = s.aggregateFit(
      1,
      { sum, weight: 400, participants: ['a', 'b'] },
      params(1, 1, 1)
    )
    expect(Array.from(spec.flatten(global))).toEqual([1 + 100 / 400, 1 + 600 / 400, 1 - 300 / 400])
    expect(metrics.participants).toBe(2)
    expect(metrics.weight).toBe(400)
  })

  it("'uniform' weighting (the DP default) divides by the number of participants, not the noisy weight", () => {
    const s = createFedAvg({
      spec,
      fit: { ...fit, dp: { kind: 'record-level', clipNorm: 1, noiseMultiplier: 1 } }
    })
    const { global } = s.aggregateFit(
      1,
      { sum: new Float64Array([3, 0, 3]), weight: 3.7, participants: ['a', 'b', 'c'] },
      params(0, 0, 0)
    )
    expect(Array.from(spec.flatten(global))).toEqual([1, 0, 1])
  })

  it('applies the server learning rate', () => {
    const s = createFedAvg({ spec, fit, serverLearningRate: 0.5 })
    const { global } = s.aggregateFit(
      1,
      { sum: new Float64Array([4, 4, 4]), weight: 2, participants: ['a'] },
      params(0, 0, 0)
    )
    expect(Array.from(spec.flatten(global))).toEqual([1, 1, 1])
  })

  it('refuses aggregates of the wrong length, with non-finite values or no weight', () => {
    const s = createFedAvg({ spec, fit })
    const g = params(0, 0, 0)
    expect(() => s.aggregateFit(1, { sum: new Float64Array(2), weight: 1, participants: ['a'] }, g)).toThrow(
      MISMATCH
    )
    expect(() =>
      s.aggregateFit(1, { sum: new Float64Array([0, Number.NaN, 0]), weight: 1, participants: ['a'] }, g)
    ).toThrow(MISMATCH)
    expect(() => s.aggregateFit(1, { sum: new Float64Array(3), weight: 0, participants: ['a'] }, g)).toThrow(
      MISMATCH
    )
    expect(() => s.aggregateFit(1, { sum: new Float64Array(3), weight: 1, participants: [] }, g)).toThrow(
      MISMATCH
    )
  })

  it('configures every available node by default, and a seeded fraction otherwise', () => {
    const s = createFedAvg({ spec, fit })
    const ins = s.configureFit(3, params(0, 0, 0), fleet)
    expect(ins.map((i) => i.peer)).toEqual(['a', 'b', 'c'])
    expect(ins[0]!.round).toBe(3)
    expect(ins[0]!.config.weighting).toBe('samples')
    const many = { available: Array.from({ length: 20 }, (_, i) => `p${i}`) }
    const picked = selectParticipants(many, { fraction: 0.25, min: 3 }, seededRandom('select'))
    expect(picked.length).toBe(5)
    expect(new Set(picked).size).toBe(5)
    expect(selectParticipants(many, { fraction: 0.01, min: 3 }, seededRandom('select')).length).toBe(3)
    expect(() => selectParticipants(fleet, { min: 4 }, seededRandom('x'))).toThrow(
      expect.objectContaining({ code: 'COHORT_NOT_ENOUGH_PARTICIPANTS' })
    )
  })

  it('aggregateEvaluate reads metrics off the summed evaluation vectors', () => {
    const s = createFedAvg({ spec, fit })
    const a = binaryEvalVector([0.9, 0.1], [1, 0], { bins: 1000 })
    const b = binaryEvalVector([0.8, 0.3], [0, 1], { bins: 1000 })
    const m = s.aggregateEvaluate(1, { sum: a.map((v, i) => v + b[i]!), weight: 2, participants: ['a', 'b'] })
    expect(s.evalLength).toBe(2003)
    expect(m.n).toBe(4)
    expect(m.accuracy).toBe(0.5)
    // Positives 0.9, 0.3; negatives 0.1, 0.8: 3 of 4 pairs ordered.
    expect(m.auc).toBe(0.75)
  })

  it('FedProx is FedAvg with μ in every fit instruction', () => {
    const s = createFedProx({ spec, fit, mu: 0.01 })
    expect(s.name).toBe('fedprox')
    expect(s.configureFit(1, params(0, 0, 0), fleet).every((i) => i.config.proximalMu === 0.01)).toBe(true)
    expect(() => createFedProx({ spec, fit, mu: 0 })).toThrow(
      expect.objectContaining({ code: 'COHORT_TRAINING_CONFIG' })
    )
  })
})
