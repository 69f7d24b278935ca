import { describe, expect, it } from 'vitest'
import { float32Of, makeDataset, requireBinaryLabels, subsetRows } from '../../../node/training/matrix.ts'
import { loadSharedDataset } from '../../../simulations/baselines/load-dataset.ts'

const DATA = expect.objectContaining({ code: 'COHORT_TRAINING_DATA' })

describe('design matrix', () => {
  it('loads credit_data with the spec preprocessing and split (checked against spec.json)', async () => {
    const ds = await loadSharedDataset('credit_data')
    expect(ds.train.rows).toBe(3563)
    expect(ds.test.rows).toBe(891)
    expect(ds.train.features).toBe(26)
    expect(ds.train.featureNames.slice(0, 3)).toEqual(['Seniority', 'Home=ignore', 'Home=other'])
    expect(ds.train.y!.reduce((a, b) => a + b, 0)).toBe(999)
    expect(ds.test.y!.reduce((a, b) => a + b, 0)).toBe(255)
    // Row 0 is a test row (0 % 5 == 0), row 1 a training row: both equal the spec's verification rows.
    const v = ds.schema.reference!.verification!
    expect(ds.test.index[0]).toBe(0)
    expect(ds.train.index[0]).toBe(1)
    for (let j = 0; j < 26; j++) expect(ds.test.x[j]).toBeCloseTo(v.zRow0[j]!, 9)
    for (let j = 0; j < 26; j++) expect(ds.train.x[j]).toBeCloseTo(v.zRow1[j]!, 9)
    // Standardised with training statistics: every training column has mean ~0.
    for (let j = 0; j < 26; j++) {
      let s = 0
      for (let r = 0; r < ds.train.rows; r++) s += ds.train.x[r * 26 + j]!
      expect(Math.abs(s / ds.train.rows)).toBeLessThan(1e-9)
    }
  })

  it('splits parties by a partition file; their rows cover the dataset once', async () => {
    const ds = await loadSharedDataset('credit_data')
    const parties = ds.parties('horizontal_natural')
    expect(parties.map((p) => p.name)).toEqual([
      'lender_fixed_employment',
      'lender_freelance',
      'lender_parttime_other'
    ])
    expect(parties.map((p) => p.train.rows)).toEqual([2248, 808, 507])
    expect(parties.reduce((a, p) => a + p.test.rows, 0)).toBe(891)
    const seen = new Set<number>()
    for (const p of parties) for (const i of p.train.index) seen.add(i)
    expect(seen.size).toBe(3563)
  })

  it('makeDataset / subsetRows / float32Of / requireBinaryLabels', () => {
    const ds = makeDataset({
      x: new Float64Array([1, 2, 3, 4, 5, 6]),
      y: new Float64Array([0, 1, 1]),
      features: 2
    })
    const sub = subsetRows(ds, (i) => i !== 1)
    expect(Array.from(sub.x)).toEqual([1, 2, 5, 6])
    expect(Array.from(sub.index)).toEqual([0, 2])
    expect(float32Of(ds).x).toBe(float32Of(ds).x)
    expect(Array.from(float32Of(ds).x)).toEqual([1, 2, 3, 4, 5, 6])
    expect(() => makeDataset({ x: new Float64Array(3), y: null, features: 2 })).toThrow(DATA)
    expect(() => makeDataset({ x: new Float64Array([Number.NaN, 1]), y: null, features: 2 })).toThrow(DATA)
    expect(() => makeDataset({ x: new Float64Array(4), y: new Float64Array(3), features: 2 })).toThrow(DATA)
    expect(() =>
      requireBinaryLabels(makeDataset({ x: new Float64Array(2), y: new Float64Array([0.5, 1]), features: 1 }))
    ).toThrow(DATA)
  })
})
