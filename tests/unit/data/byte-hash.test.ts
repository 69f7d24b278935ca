import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { IdSet, LevelTable } from '../../../node/data/byte-hash.ts'

const bytes = (s: string) => Buffer.from(s, 'utf8')

describe('LevelTable', () => {
  it('finds every level and nothing else', () => {
    const levels = Array.from({ length: 300 }, (_, i) => `L${i}`).concat(['ü', 'Month-to-month'])
    const t = new LevelTable(levels)
    levels.forEach((l, i) => {
      const b = bytes(`,${l},`)
      expect(t.find(b, 1, b.length - 1)).toBe(i)
    })
    for (const s of ['L', 'L300', 'l1', 'Month-to-mont', 'u'])
      expect(t.find(bytes(s), 0, bytes(s).length)).toBe(-1)
  })
})

describe('IdSet', () => {
  it('reports the first line of a repeated id', () => {
    const s = new IdSet()
    expect(s.add(bytes('u1'), 0, 2, 2)).toBe(-1)
    expect(s.add(bytes('u2'), 0, 2, 3)).toBe(-1)
    expect(s.add(bytes('xu1x'), 1, 3, 9)).toBe(2)
    expect(s.size).toBe(2)
  })

  it('behaves like a Set of strings through many growths', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 6 }), { maxLength: 3000 }), (ids) => {
        const s = new IdSet()
        const ref = new Map<string, number>()
        ids.forEach((id, line) => {
          const b = bytes(id)
          const first = s.add(b, 0, b.length, line)
          expect(first).toBe(ref.get(id) ?? -1)
          if (!ref.has(id)) ref.set(id, line)
        })
        expect(s.size).toBe(ref.size)
      }),
      { numRuns: 50 }
    )
  })
})
