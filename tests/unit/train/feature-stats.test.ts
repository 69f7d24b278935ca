import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  encodedFeatures,
  globalFeatureStats,
  selectPrep,
  statsLength,
  statsOffsets,
  statsSensitivity
} from '../../../protocols/training/feature-stats.ts'
import type { StatsColumn } from '../../../protocols/training/feature-stats.ts'

const columns: StatsColumn[] = [
  { name: 'x', kind: 'number' },
  { name: 'c', kind: 'category', levels: ['a', 'b', 'c'], encoding: 'onehot' },
  { name: 'o', kind: 'category', levels: ['lo', 'mid', 'hi'], encoding: 'ordinal' }
]
/** A row: x (NaN = missing), c and o as level codes (-1 = missing). */
type Row = [number, number, number]

/** One party's stats vector, written from the layout's definition. */
function partyVector(rows: Row[], ranges: Record<string, [number, number]> = {}): Float64Array {
  const v = new Float64Array(statsLength(columns))
  const [ox, oc, oo] = statsOffsets(columns)
  const r = ranges.x
  for (const [x, c, o] of rows) {
    v[0]!++
    if (!Number.isNaN(x)) {
      const y = r === undefined ? x : (Math.min(r[1], Math.max(r[0], x)) - r[0]) / (r[1] - r[0])
      v[ox!]!++
      v[ox! + 1]! += y
      v[ox! + 2]! += y * y
    }
    v[oc! + (c < 0 ? 3 : c)]!++
    v[oo! + (o < 0 ? 3 : o)]!++
  }
  return v
}

/** Pooled reference: impute (mean / mode), encode, then mean and population std of each feature. */
function pooled(rows: Row[], clampTo?: [number, number]) {
  const xs = rows
    .map((r) => r[0])
    .filter((x) => !Number.isNaN(x))
    .map((x) => (clampTo ? Math.min(clampTo[1], Math.max(clampTo[0], x)) : x))
  const xMean = xs.reduce((a, b) => a + b, 0) / xs.length
  const mode = (i: 1 | 2) => {
    const counts = [0, 0, 0]
    for (const r of rows) if (r[i] >= 0) counts[r[i]]!++
    return counts.indexOf(Math.max(...counts))
  }
  const cMode = mode(1)
  const oMode = mode(2)
  const cols: number[][] = []
  cols.push(
    rows.map((r) =>
      Number.isNaN(r[0]) ? xMean : clampTo ? Math.min(clampTo[1], Math.max(clampTo[0], r[0])) : r[0]
    )
  )
  for (let l = 0; l < 3; l++) cols.push(rows.map((r) => ((r[1] < 0 ? cMode : r[1]) === l ? 1 : 0)))
  cols.push(rows.map((r) => (r[2] < 0 ? oMode : r[2])))
  const mean = cols.map((c) => c.reduce((a, b) => a + b, 0) / c.length)
  const std = cols.map((c, j) => {
    const s = Math.sqrt(c.reduce((a, b) => a + (b - mean[j]!) ** 2, 0) / c.length)
    return s < 1e-12 ? 1 : s
  })
  return { mean, std, impute: { x: xMean, c: ['a', 'b', 'c'][cMode], o: ['lo', 'mid', 'hi'][oMode] } }
}

/**
 * One pass of sums cannot resolve a spread below ~1e-8 of the values' magnitude (Σx² − n·mean²
 * cancels); such a column counts as constant (std 1) on one side and as tiny on the other.
 */
function expectStd(got: number, want: number, scale: number): void {
  const tiny = 1e-7 * scale
  if ((got === 1 && want < tiny) || (want === 1 && got < tiny)) return
  expect(Math.abs(got - want)).toBeLessThan(1e-6 * Math.max(1, want) + tiny)
}

const row = fc.tuple(
  fc.oneof(fc.constant(Number.NaN), fc.double({ min: -1000, max: 1000, noNaN: true })),
  fc.integer({ min: -1, max: 2 }),
  fc.integer({ min: -1, max: 2 })
) as fc.Arbitrary<Row>
// At least one present x, and at least one present level of each category.
const parties = fc
  .array(fc.array(row, { minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 5 })
  .filter((ps) => ps.flat().some((r) => !Number.isNaN(r[0]) && r[1] >= 0 && r[2] >= 0))

describe('federated feature statistics', () => {
  it('layout: widths, offsets, encoded names and sensitivity', () => {
    expect(statsLength(columns)).toBe(1 + 3 + 4 + 4)
    expect(statsOffsets(columns)).toEqual([1, 4, 8])
    expect(encodedFeatures(columns)).toEqual(['x', 'c=a', 'c=b', 'c=c', 'o'])
    expect(statsSensitivity(columns, { x: [0, 1] })).toBeCloseTo(Math.sqrt(1 + 3 + 1 + 1), 12)
    expect(() => statsSensitivity(columns, {})).toThrow(
      expect.objectContaining({ code: 'COHORT_TRAINING_CONFIG' })
    )
  })

  it('the sum of the parties’ vectors gives the pooled mean-imputed statistics (one round, no second pass)', () => {
    fc.assert(
      fc.property(parties, (ps) => {
        const sum = new Float64Array(statsLength(columns))
        for (const p of ps) {
          const v = partyVector(p)
          for (let i = 0; i < v.length; i++) sum[i]! += v[i]!
        }
        const { prep, rows } = globalFeatureStats(columns, sum, {})
        const ref = pooled(ps.flat())
        expect(rows).toBe(ps.flat().length)
        expect(prep.impute).toEqual({ ...ref.impute, x: expect.closeTo(ref.impute.x, 6) })
        prep.mean.forEach((m, j) => {
          expect(m).toBeCloseTo(ref.mean[j]!, 6)
        })
        prep.std.forEach((s, j) => {
          expectStd(s, ref.std[j]!, 1000)
        })
      }),
      { numRuns: 200 }
    )
  })

  it('with a range, values are clamped and mapped to [0, 1] on the nodes and mapped back', () => {
    fc.assert(
      fc.property(parties, (ps) => {
        const range: [number, number] = [-100, 300]
        const sum = new Float64Array(statsLength(columns))
        for (const p of ps) {
          const v = partyVector(p, { x: range })
          for (let i = 0; i < v.length; i++) sum[i]! += v[i]!
        }
        const { prep } = globalFeatureStats(columns, sum, { x: range })
        const ref = pooled(ps.flat(), range)
        expect(prep.mean[0]!).toBeCloseTo(ref.mean[0]!, 6)
        expectStd(prep.std[0]!, ref.std[0]!, 400)
      }),
      { numRuns: 100 }
    )
  })

  it('under noise, rare levels and tiny spreads get a floored std, never a huge standardised value', () => {
    const rows: Row[] = Array.from({ length: 1000 }, (_, i) => [5 + (i % 2) * 1e-3, i < 2 ? 2 : 0, 1])
    const sum = partyVector(rows, { x: [0, 1000] })
    const exact = globalFeatureStats(columns, sum, { x: [0, 1000] })
    const noisy = globalFeatureStats(columns, sum, { x: [0, 1000] }, 20)
    expect(exact.prep.std[3]!).toBeCloseTo(Math.sqrt(0.002 * 0.998), 9) // c=c: 2 of 1000
    const q = (3 * 20) / 1000
    expect(noisy.prep.std[3]!).toBeCloseTo(Math.sqrt(q * (1 - q)), 9)
    expect(noisy.prep.std[0]!).toBeCloseTo(1000 * Math.sqrt(q), 6)
    expect(noisy.prep.mean).toEqual(exact.prep.mean)
  })

  it('selects a subset of features in the job’s order', () => {
    const sum = partyVector([
      [1, 0, 0],
      [3, 1, 2]
    ])
    const { prep } = globalFeatureStats(columns, sum, {})
    const sub = selectPrep(prep, ['c=b', 'x'])
    expect(sub.features).toEqual(['c=b', 'x'])
    expect(sub.mean).toEqual([prep.mean[2], prep.mean[0]])
    expect(() => selectPrep(prep, ['y'])).toThrow(expect.objectContaining({ code: 'COHORT_TRAINING_CONFIG' }))
  })
})
