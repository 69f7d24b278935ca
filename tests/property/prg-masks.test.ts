import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { addMask, subMask } from '../../crypto/prg.ts'
import { ringAddInPlace, ringZeros } from '../../crypto/ring.ts'
import type { RingVector } from '../../crypto/ring.ts'

/**
 * SecAgg masking (Bonawitz et al. 2017, §4): y_u = x_u + PRG(b_u) + sum_{v != u} sign(u, v) PRG(s_uv)
 * with sign = +1 for u < v and -1 for u > v. Pairwise masks cancel among survivors; for dropped
 * parties the server rebuilds s_uv and removes the leftover terms.
 */
const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 })

const scenario = fc
  .record({
    parties: fc.integer({ min: 2, max: 7 }),
    d: fc.integer({ min: 1, max: 300 }),
    k: fc.constantFrom(1, 8, 16, 31, 32, 40, 62),
    offset: fc.integer({ min: 0, max: 100_000 })
  })
  .chain((s) =>
    fc.record({
      s: fc.constant(s),
      pair: fc.array(seedArb, {
        minLength: (s.parties * (s.parties - 1)) / 2,
        maxLength: (s.parties * (s.parties - 1)) / 2
      }),
      self: fc.array(seedArb, { minLength: s.parties, maxLength: s.parties }),
      dropped: fc.subarray(
        Array.from({ length: s.parties }, (_, i) => i),
        { maxLength: s.parties - 1 }
      ),
      inputSeed: seedArb
    })
  )

const pairIndex = (u: number, v: number, n: number): number => {
  const [a, b] = u < v ? [u, v] : [v, u]
  return a * n - (a * (a + 1)) / 2 + (b - a - 1)
}

const asBig = (v: RingVector): bigint[] => Array.from(v as ArrayLike<number | bigint>, (x) => BigInt(x))

describe('PRG mask cancellation', () => {
  it('pairwise masks of a random party set sum to zero in Z_2^k', () => {
    fc.assert(
      fc.property(scenario, ({ s, pair }) => {
        const acc = ringZeros(s.d, s.k)
        for (let u = 0; u < s.parties; u++) {
          const y = ringZeros(s.d, s.k)
          for (let v = 0; v < s.parties; v++) {
            if (u === v) continue
            const seed = pair[pairIndex(u, v, s.parties)]!
            if (u < v) addMask(y, seed, { k: s.k, offset: s.offset })
            else subMask(y, seed, { k: s.k, offset: s.offset })
          }
          ringAddInPlace(acc, y, s.k)
        }
        expect(asBig(acc).every((x) => x === 0n)).toBe(true)
      }),
      { numRuns: 40 }
    )
  })

  it("with dropouts the server recovers exactly the survivors' sum", () => {
    fc.assert(
      fc.property(scenario, ({ s, pair, self, dropped, inputSeed }) => {
        const opts = { k: s.k, offset: s.offset }
        const survivors = Array.from({ length: s.parties }, (_, i) => i).filter((u) => !dropped.includes(u))
        const inputs = Array.from({ length: s.parties }, (_, u) => {
          const x = ringZeros(s.d, s.k)
          const seed = inputSeed.slice()
          seed[0] = u
          addMask(x, seed, opts) // a pseudo-random input vector
          return x
        })
        // each survivor sends y_u
        const sum = ringZeros(s.d, s.k)
        for (const u of survivors) {
          const y = inputs[u]!.slice() as RingVector
          addMask(y, self[u]!, opts)
          for (let v = 0; v < s.parties; v++) {
            if (v === u) continue
            const seed = pair[pairIndex(u, v, s.parties)]!
            u < v ? addMask(y, seed, opts) : subMask(y, seed, opts)
          }
          ringAddInPlace(sum, y, s.k)
        }
        // server: remove survivors' self masks, and the pairwise terms survivors had with dropped parties
        for (const u of survivors) {
          subMask(sum, self[u]!, opts)
          for (const v of dropped) {
            const seed = pair[pairIndex(u, v, s.parties)]!
            u < v ? subMask(sum, seed, opts) : addMask(sum, seed, opts)
          }
        }
        const expected = ringZeros(s.d, s.k)
        for (const u of survivors) ringAddInPlace(expected, inputs[u]!, s.k)
        expect(asBig(sum)).toEqual(asBig(expected))
      }),
      { numRuns: 40 }
    )
  })
})
