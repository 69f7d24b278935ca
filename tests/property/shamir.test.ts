import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { __TEST, combine, split } from '../../crypto/shamir.ts'
import { toHex } from '../vectors/load.ts'

const secretArb = fc.uint8Array({ minLength: 32, maxLength: 32 })
// (n, t) with 2 <= t <= n <= 40, plus a random permutation seed to pick subsets
const params = fc
  .integer({ min: 2, max: 40 })
  .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 2, max: n }), fc.infiniteStream(fc.nat())))

function pick<T>(items: readonly T[], count: number, rand: Iterator<number>): T[] {
  const pool = [...items]
  for (let i = pool.length - 1; i > 0; i--) {
    const j = rand.next().value! % (i + 1)
    ;[pool[i], pool[j]] = [pool[j]!, pool[i]!]
  }
  return pool.slice(0, count)
}

describe('Shamir properties', () => {
  it('any t of n shares rebuild the secret', () => {
    fc.assert(
      fc.property(secretArb, params, (secret, [n, t, stream]) => {
        const shares = split(secret, t, n)
        const chosen = pick(shares, t, stream[Symbol.iterator]())
        expect(toHex(combine(chosen, t))).toBe(toHex(secret))
      }),
      { numRuns: 60 }
    )
  })

  it('t - 1 shares interpolate to a different value (and combine refuses them)', () => {
    fc.assert(
      fc.property(
        secretArb,
        params.filter(([, t]) => t >= 3),
        (secret, [n, t, stream]) => {
          const shares = split(secret, t, n)
          const chosen = pick(shares, t - 1, stream[Symbol.iterator]())
          let s = 0n
          for (const b of secret) s = (s << 8n) | BigInt(b)
          expect(__TEST.interpolateAtZero(chosen)).not.toBe(s)
          expect(() => combine(chosen, t)).toThrow(
            expect.objectContaining({ code: 'COHORT_INSUFFICIENT_SHARES' })
          )
        }
      ),
      { numRuns: 60 }
    )
  })
})
