import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  checkPartition,
  columnPartition,
  dirichletPartition,
  iidPartition,
  partyNames,
  quantityPartition
} from '../../../simulations/partition/partitioners.ts'
import type { Partition } from '../../../simulations/partition/partitioners.ts'

/** Every row in exactly one party; lists sorted. */
function expectCover(p: Partition, rows: number) {
  const seen = new Uint8Array(rows)
  for (const list of Object.values(p)) {
    for (let i = 1; i < list.length; i++) expect(list[i]!).toBeGreaterThan(list[i - 1]!)
    for (const r of list) {
      expect(seen[r]).toBe(0)
      seen[r] = 1
    }
  }
  expect(seen.every((x) => x === 1)).toBe(true)
}

/** Labels with a 30 % positive class. */
const labels = (n: number) => Array.from({ length: n }, (_, i) => (i % 10 < 3 ? 'bad' : 'good'))

/** Mean over parties of |share of 'bad' - global share|. */
function skew(p: Partition, values: string[]): number {
  const parts = Object.values(p)
  const global = values.filter((v) => v === 'bad').length / values.length
  return (
    parts.reduce(
      (a, rows) => a + Math.abs(rows.filter((r) => values[r] === 'bad').length / rows.length - global),
      0
    ) / parts.length
  )
}

describe('partitioners', () => {
  it('name parties so they sort', () => {
    expect(partyNames(3)).toEqual(['party-1', 'party-2', 'party-3'])
    expect(partyNames(12).slice(0, 2)).toEqual(['party-01', 'party-02'])
  })

  it('IID: covers every row, sizes within one, reproducible by seed, different across seeds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 20 }), (rows, parties) => {
        fc.pre(parties <= rows)
        const p = iidPartition(rows, parties, 's')
        expectCover(p, rows)
        const sizes = Object.values(p).map((l) => l.length)
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
      }),
      { numRuns: 60 }
    )
    expect(iidPartition(1000, 7, 1)).toEqual(iidPartition(1000, 7, 1))
    expect(iidPartition(1000, 7, 1)).not.toEqual(iidPartition(1000, 7, 2))
    expect(() => iidPartition(3, 5, 1)).toThrow(expect.objectContaining({ code: 'COHORT_SIM_CONFIG' }))
  })

  it('Dirichlet: covers every row; a small alpha skews labels, a large one does not', () => {
    const v = labels(4000)
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }),
        fc.double({ min: 0.3, max: 100, noNaN: true }),
        (parties, alpha) => {
          expectCover(dirichletPartition(v, parties, alpha, `${parties}/${alpha}`), v.length)
        }
      ),
      { numRuns: 25 }
    )
    const skewed = skew(dirichletPartition(v, 5, 0.1, 1), v)
    const even = skew(dirichletPartition(v, 5, 1000, 1), v)
    expect(skewed).toBeGreaterThan(0.1)
    expect(even).toBeLessThan(0.02)
    expect(dirichletPartition(v, 5, 0.5, 3)).toEqual(dirichletPartition(v, 5, 0.5, 3))
  })

  it('Dirichlet honours minRows or says it cannot', () => {
    const p = dirichletPartition(labels(2000), 4, 0.3, 1, 50)
    for (const rows of Object.values(p)) expect(rows.length).toBeGreaterThanOrEqual(50)
    expect(() => dirichletPartition(labels(100), 10, 0.01, 1, 10)).toThrow(
      expect.objectContaining({ code: 'COHORT_SIM_CONFIG' })
    )
  })

  it('quantity skew: covers every row; small alpha gives unequal sizes', () => {
    const p = quantityPartition(5000, 5, 0.3, 1)
    expectCover(p, 5000)
    const sizes = Object.values(p).map((l) => l.length)
    expect(Math.max(...sizes) / Math.min(...sizes)).toBeGreaterThan(2)
    for (const s of sizes) expect(s).toBeGreaterThanOrEqual(10)
  })

  it('by column: one party per value, missing values together', () => {
    const p = columnPartition('Job', ['fixed', 'partime', '', 'fixed', 'others'])
    expect(p).toEqual({ 'Job=fixed': [0, 3], 'Job=missing': [2], 'Job=others': [4], 'Job=partime': [1] })
  })

  it('checks partition files', () => {
    expect(checkPartition({ a: [2, 0], b: [1] }, 3, 'p.json')).toEqual({ a: [0, 2], b: [1] })
    for (const bad of [[], { a: [] }, { a: [0], b: [0] }, { a: [3] }, { a: [0.5] }, { a: 'x' }])
      expect(() => checkPartition(bad, 3, 'p.json')).toThrow(
        expect.objectContaining({ code: 'COHORT_SIM_CONFIG' })
      )
  })
})
