import { describe, expect, it } from 'vitest'
import {
  buildNeighbourGraph,
  minimumThreshold,
  recommendedNeighbours,
  shareX
} from '../../../protocols/secagg/neighbours.ts'

const seed = (b: number) => new Uint8Array(32).fill(b)

function connected(g: ReturnType<typeof buildNeighbourGraph>): boolean {
  const seen = new Set([0])
  const queue = [0]
  while (queue.length > 0) {
    for (const j of g.neighbours(queue.pop()!)) {
      if (!seen.has(j)) {
        seen.add(j)
        queue.push(j)
      }
    }
  }
  return seen.size === g.n
}

describe('neighbour graph', () => {
  it('is complete when k = n - 1', () => {
    const g = buildNeighbourGraph(6, 5, seed(1))
    expect(g.complete).toBe(true)
    expect(g.neighbours(2)).toEqual([0, 1, 3, 4, 5])
    expect(g.holders(4)).toEqual([0, 1, 2, 3, 4, 5])
    expect(g.isNeighbour(2, 2)).toBe(false)
  })

  for (const [n, k] of [
    [10, 4],
    [11, 4],
    [10, 3],
    [11, 3],
    [13, 5],
    [100, 15],
    [101, 15],
    [7, 1]
  ] as const) {
    it(`H(${k}, ${n}) under a random permutation: symmetric, sorted, degree k (k + 1 once for odd k and n)`, () => {
      const g = buildNeighbourGraph(n, k, seed(n + k))
      const degrees: number[] = []
      for (let i = 0; i < n; i++) {
        const nb = g.neighbours(i)
        expect(nb).toEqual([...nb].sort((a, b) => a - b))
        expect(nb.includes(i)).toBe(false)
        expect(new Set(nb).size).toBe(nb.length)
        for (const j of nb) {
          expect(g.isNeighbour(j, i)).toBe(true)
          expect(g.neighbours(j)).toContain(i)
        }
        expect(g.holders(i)).toEqual([...nb, i].sort((a, b) => a - b))
        degrees.push(nb.length)
      }
      const extra = k % 2 === 1 && n % 2 === 1 ? 1 : 0
      expect(degrees.filter((x) => x === k).length).toBe(n - extra)
      expect(degrees.filter((x) => x === k + 1).length).toBe(extra)
      expect(g.maxHolders).toBe(k + 1 + extra)
      expect(g.minHolders).toBe(k + 1)
      if (k >= 2) expect(connected(g)).toBe(true)
    })
  }

  it('is a deterministic function of the seed, and differs between seeds', () => {
    const a = buildNeighbourGraph(50, 7, seed(3))
    const b = buildNeighbourGraph(50, 7, seed(3))
    const c = buildNeighbourGraph(50, 7, seed(4))
    const dump = (g: typeof a) => Array.from({ length: 50 }, (_, i) => g.neighbours(i).join(',')).join(';')
    expect(dump(a)).toBe(dump(b))
    expect(dump(a)).not.toBe(dump(c))
  })

  it('gives each holder its 1-based position as the share x coordinate', () => {
    const g = buildNeighbourGraph(20, 6, seed(9))
    const h = g.holders(5)
    for (const [i, holder] of h.entries()) expect(shareX(g, 5, holder)).toBe(i + 1)
    const outsider = Array.from({ length: 20 }, (_, i) => i).find((i) => !h.includes(i))!
    expect(shareX(g, 5, outsider)).toBe(0)
  })

  it('recommends k = 2 ceil(log2 n) + 1 and a threshold above half the holders', () => {
    expect(recommendedNeighbours(100)).toBe(15)
    expect(recommendedNeighbours(1000)).toBe(21)
    expect(recommendedNeighbours(5)).toBe(4)
    expect(minimumThreshold(16)).toBe(9)
    expect(minimumThreshold(100)).toBe(51)
  })

  it('refuses k outside [1, n - 1]', () => {
    expect(() => buildNeighbourGraph(10, 10, seed(1))).toThrow()
    expect(() => buildNeighbourGraph(10, 0, seed(1))).toThrow()
  })
})
