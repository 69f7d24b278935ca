import { describe, expect, it } from 'vitest'
import {
  compareRational,
  isqrt,
  numberAtMost,
  rational,
  rationalFromNumber,
  toRational
} from '../../../crypto/dp/rational.ts'

describe('rational', () => {
  it('normalises', () => {
    expect(rational(6, 4)).toEqual({ num: 3n, den: 2n })
    expect(rational(0, 7)).toEqual({ num: 0n, den: 1n })
    expect(() => rational(1, 0)).toThrow(expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' }))
  })

  it('reads a double exactly from its binary expansion', () => {
    expect(rationalFromNumber(0.75)).toEqual({ num: 3n, den: 4n })
    expect(rationalFromNumber(10)).toEqual({ num: 10n, den: 1n })
    // 1.1 is not 11/10 in binary64: it is 2476979795053773 / 2^51.
    expect(rationalFromNumber(1.1)).toEqual({ num: 2476979795053773n, den: 2n ** 51n })
    expect(rationalFromNumber(Number.MIN_VALUE)).toEqual({ num: 1n, den: 2n ** 1074n })
    expect(rationalFromNumber(2 ** 70)).toEqual({ num: 2n ** 70n, den: 1n })
    expect(() => rationalFromNumber(-1)).toThrow(expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' }))
    expect(() => toRational(Number.POSITIVE_INFINITY)).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
  })

  it('round-trips doubles: numberAtMost(rationalFromNumber(x)) === x', () => {
    for (const x of [0, 1, 1.1, 0.1, 1e-300, 123456.789, 2 ** 60 + 2 ** 9, Number.MAX_VALUE]) {
      expect(numberAtMost(rationalFromNumber(x))).toBe(x)
    }
  })

  it('numberAtMost rounds down, to the largest double not above the value', () => {
    for (const r of [rational(1, 3), rational(2, 3), rational(10n ** 30n + 1n, 3n), rational(1, 10)]) {
      const f = numberAtMost(r)
      expect(compareRational(rationalFromNumber(f), r)).toBeLessThanOrEqual(0)
      const view = new DataView(new ArrayBuffer(8))
      view.setFloat64(0, f)
      view.setBigUint64(0, view.getBigUint64(0) + 1n)
      const up = view.getFloat64(0) // the next double above f
      expect(compareRational(rationalFromNumber(up), r)).toBe(1)
    }
  })

  it('isqrt is the integer floor of the square root', () => {
    for (const n of [0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n, 2n ** 53n + 1n, 10n ** 40n - 1n, 10n ** 40n]) {
      const r = isqrt(n)
      expect(r * r <= n && (r + 1n) * (r + 1n) > n).toBe(true)
    }
  })
})
