import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  binaryEvalLength,
  binaryEvalVector,
  binaryMetricsFromVector,
  histogramAuc,
  histogramAucError,
  histogramKs,
  histogramKsError,
  scoreBin,
  splitEvalVector
} from '../../../protocols/evaluation/binary-metrics.ts'
import {
  exactAccuracy,
  exactAuc,
  exactKs,
  exactLogLoss,
  rowLogLoss
} from '../../../protocols/evaluation/exact-metrics.ts'

const BAD = expect.objectContaining({ code: 'COHORT_EVALUATION_INPUT' })

function bruteAuc(s: number[], y: number[]): number {
  let u = 0
  let pairs = 0
  for (let i = 0; i < s.length; i++)
    for (let j = 0; j < s.length; j++) {
      if (y[i] !== 1 || y[j] !== 0) continue
      pairs++
      u += s[i]! > s[j]! ? 1 : s[i] === s[j] ? 0.5 : 0
    }
  return u / pairs
}

function bruteKs(s: number[], y: number[]): number {
  const P = y.filter((v) => v === 1).length
  const N = y.length - P
  let ks = 0
  for (const t of new Set(s)) {
    let tp = 0
    let fp = 0
    s.forEach((v, i) => {
      if (v >= t) {
        if (y[i] === 1) tp++
        else fp++
      }
    })
    ks = Math.max(ks, Math.abs(tp / P - fp / N))
  }
  return ks
}

function sum(vs: Float64Array[]): Float64Array {
  const out = new Float64Array(vs[0]!.length)
  for (const v of vs) for (let i = 0; i < v.length; i++) out[i]! += v[i]!
  return out
}

// Scores on a coarse grid produce ties; labels with both classes present.
const scored = fc
  .array(
    fc.tuple(
      fc.integer({ min: 0, max: 40 }).map((k) => k / 40),
      fc.integer({ min: 0, max: 1 })
    ),
    { minLength: 2, maxLength: 60 }
  )
  .filter((rows) => rows.some((r) => r[1] === 1) && rows.some((r) => r[1] === 0))

describe('exact (pooled) metrics', () => {
  it('AUC and KS agree with brute force, ties included', () => {
    fc.assert(
      fc.property(scored, (rows) => {
        const s = rows.map((r) => r[0])
        const y = rows.map((r) => r[1])
        expect(exactAuc(s, y)).toBeCloseTo(bruteAuc(s, y), 12)
        expect(exactKs(s, y)).toBeCloseTo(bruteKs(s, y), 12)
      })
    )
  })

  it('known values', () => {
    expect(exactAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75)
    expect(exactKs([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1)
    expect(exactAccuracy([0.9, 0.2, 0.5], [1, 1, 1])).toBeCloseTo(2 / 3, 15)
    expect(exactLogLoss([0.9, 0.2], [1, 0])).toBeCloseTo((-Math.log(0.9) - Math.log(0.8)) / 2, 14)
    expect(rowLogLoss(0, 1)).toBeCloseTo(-Math.log(1e-15), 10)
  })

  it('refuses a single class, bad labels and bad scores', () => {
    expect(() => exactAuc([0.1, 0.2], [1, 1])).toThrow(BAD)
    expect(() => exactKs([0.1, 0.2], [0, 0])).toThrow(BAD)
    expect(() => exactAuc([0.1, 0.2], [0, 2])).toThrow(BAD)
    expect(() => exactAuc([0.1, 1.2], [0, 1])).toThrow(BAD)
    expect(() => exactAuc([0.1], [0, 1])).toThrow(BAD)
  })
})

describe('federated binary evaluation from summed vectors', () => {
  it('sums of per-party vectors give the pooled accuracy and log-loss exactly, AUC/KS within the resolution', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.double({ min: 0, max: 1, noNaN: true }),
            fc.integer({ min: 0, max: 1 }),
            fc.integer({ min: 0, max: 3 })
          ),
          {
            minLength: 4,
            maxLength: 200
          }
        ),
        fc.integer({ min: 2, max: 2000 }),
        (rows, bins) => {
          fc.pre(rows.some((r) => r[1] === 1) && rows.some((r) => r[1] === 0))
          const parties = [0, 1, 2, 3].map((p) => rows.filter((r) => r[2] === p))
          const vectors = parties.map((rs) =>
            binaryEvalVector(
              rs.map((r) => r[0]),
              rs.map((r) => r[1]),
              { bins }
            )
          )
          const total = sum(vectors)
          const m = binaryMetricsFromVector(total, bins)
          const s = rows.map((r) => r[0])
          const y = rows.map((r) => r[1])
          expect(m.n).toBe(rows.length)
          expect(m.accuracy).toBeCloseTo(exactAccuracy(s, y), 12)
          expect(m.logloss).toBeCloseTo(exactLogLoss(s, y), 9)
          const { pos, neg } = splitEvalVector(total, bins)
          expect(Math.abs(m.auc - exactAuc(s, y))).toBeLessThanOrEqual(histogramAucError(pos, neg) + 1e-12)
          expect(Math.abs(m.ks - exactKs(s, y))).toBeLessThanOrEqual(histogramKsError(pos, neg) + 1e-12)
          // KS at bin edges never exceeds the exact KS (edges are thresholds too).
          expect(m.ks).toBeLessThanOrEqual(exactKs(s, y) + 1e-12)
        }
      ),
      { numRuns: 200 }
    )
  })

  it('at 1000 bins and continuous scores the error bound is small', () => {
    // 2000 scores spread over (0, 1): pairs sharing a bin are rare.
    const s: number[] = []
    const y: number[] = []
    for (let i = 0; i < 2000; i++) {
      const label = i % 3 === 0 ? 1 : 0
      s.push(((i * 7919) % 2000) / 2000 + 0.0001)
      y.push(label)
    }
    const v = binaryEvalVector(s, y, { bins: 1000 })
    const { pos, neg } = splitEvalVector(v, 1000)
    expect(histogramAucError(pos, neg)).toBeLessThan(0.002)
    expect(Math.abs(histogramAuc(pos, neg) - exactAuc(s, y))).toBeLessThanOrEqual(histogramAucError(pos, neg))
    expect(Math.abs(histogramKs(pos, neg) - exactKs(s, y))).toBeLessThanOrEqual(histogramKsError(pos, neg))
  })

  it('lays the vector out as [correct, logLossSum, n, pos(B), neg(B)]', () => {
    const v = binaryEvalVector([0.95, 0.05, 0.5], [1, 1, 0], { bins: 10 })
    expect(v.length).toBe(binaryEvalLength(10))
    expect(v[0]).toBe(1) // 0.95 -> 1 correct; 0.05 -> 0 wrong; 0.5 -> 1 wrong
    expect(v[2]).toBe(3)
    expect(v[3 + 9]).toBe(1)
    expect(v[3 + 0]).toBe(1)
    expect(v[3 + 10 + 5]).toBe(1)
    expect(scoreBin(1, 10)).toBe(9)
    expect(scoreBin(0, 10)).toBe(0)
    expect(() => binaryEvalVector([0.5], [1], { bins: 1 })).toThrow(BAD)
    expect(() => binaryMetricsFromVector(new Float64Array(5), 10)).toThrow(BAD)
  })

  it('reports NaN AUC / KS when one class is absent', () => {
    const m = binaryMetricsFromVector(binaryEvalVector([0.2, 0.7], [1, 1], { bins: 100 }), 100)
    expect(m.auc).toBeNaN()
    expect(m.ks).toBeNaN()
    expect(m.accuracy).toBe(0.5)
  })
})
