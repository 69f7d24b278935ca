import { describe, expect, it } from 'vitest'
import { decodeSum, maxParties, quantize, roundingErrorBound } from '../../../crypto/quantize.ts'
import type { QuantParams } from '../../../crypto/quantize.ts'
import { ringAddInPlace, ringZeros } from '../../../crypto/ring.ts'
import type { RingVector } from '../../../crypto/ring.ts'

function sumOf(vectors: RingVector[], k: number, d: number): RingVector {
  const acc = ringZeros(d, k)
  for (const v of vectors) ringAddInPlace(acc, v, k)
  return acc
}

describe('maxParties', () => {
  it('is floor((2^(k-1) - 1 - reserve) / ceil(clip * scale))', () => {
    expect(maxParties(32, 1, 2 ** 16)).toBe(32767)
    expect(maxParties(32, 1, 2 ** 16, 2 ** 20)).toBe(Math.floor((2 ** 31 - 1 - 2 ** 20) / 2 ** 16))
    expect(maxParties(16, 0.3, 4)).toBe(Math.floor(32767 / 2))
    expect(maxParties(8, 1, 2 ** 7)).toBe(0)
    expect(maxParties(62, 1, 1)).toBe(Number.MAX_SAFE_INTEGER)
  })

  it('refuses a scale that is not a power of two and clip*scale >= 2^52', () => {
    expect(() => maxParties(32, 1, 1000)).toThrow(expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' }))
    expect(() => maxParties(62, 2 ** 10, 2 ** 43)).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
    expect(() => maxParties(32, 0, 2)).toThrow(expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' }))
  })
})

describe('quantize / decodeSum', () => {
  const params: QuantParams = { clip: 2, scale: 2 ** 10 }

  it("encodes negatives in two's complement and clips", () => {
    const q = quantize([0, 1, -1, 5, -5, 1 / 1024, -0.4 / 1024], params) as Uint32Array
    expect(Array.from(q)).toEqual([0, 1024, 2 ** 32 - 1024, 2048, 2 ** 32 - 2048, 1, 0])
    expect(Array.from(decodeSum(q, 1, params))).toEqual([0, 1, -1, 2, -2, 1 / 1024, 0])
  })

  it('k < 32 and k > 32 representations', () => {
    const q8 = quantize([-1, 1], { k: 8, clip: 1, scale: 2 ** 6 }) as Uint32Array
    expect(Array.from(q8)).toEqual([256 - 64, 64])
    const q48 = quantize([-1, 1], { k: 48, clip: 1, scale: 2 ** 30 }) as BigUint64Array
    expect(q48).toBeInstanceOf(BigUint64Array)
    expect(Array.from(q48)).toEqual([(1n << 48n) - (1n << 30n), 1n << 30n])
    expect(Array.from(decodeSum(q48, 1, { k: 48, clip: 1, scale: 2 ** 30 }))).toEqual([-1, 1])
  })

  it('decodes the sum of n vectors within n/(2·scale) (nearest)', () => {
    const n = 7
    const xs = Array.from({ length: n }, (_, p) => [0.1234 * p, -0.777, 1.999 - p / 3, 3e-4])
    const sum = sumOf(
      xs.map((x) => quantize(x, params)),
      32,
      4
    )
    const decoded = decodeSum(sum, n, params)
    const bound = roundingErrorBound(n, params)
    expect(bound).toBe(n / 2048)
    for (let i = 0; i < 4; i++) {
      const exact = xs.reduce((a, x) => a + Math.max(-2, Math.min(2, x[i]!)), 0)
      expect(Math.abs(decoded[i]! - exact)).toBeLessThanOrEqual(bound)
    }
  })

  it('at exactly maxParties worst-case inputs decode exactly; one more party is refused', () => {
    const p: QuantParams = { k: 12, clip: 1, scale: 2 ** 4 }
    const n = maxParties(12, 1, 2 ** 4)
    expect(n).toBe(127)
    const plus = sumOf(
      Array.from({ length: n }, () => quantize([1, -1], p)),
      12,
      2
    )
    expect(Array.from(decodeSum(plus, n, p))).toEqual([n, -n])
    expect(() => decodeSum(plus, n + 1, p)).toThrow(
      expect.objectContaining({ name: 'RingOverflowError', code: 'COHORT_RING_OVERFLOW' })
    )
  })

  it('stochastic rounding: |err| < 1/scale and unbiased on average', () => {
    const p: QuantParams = { clip: 1, scale: 2 ** 4, rounding: 'stochastic' }
    const x = new Float64Array(20_000).fill(0.3 / 16) // 0.3 of a unit
    const q = decodeSum(quantize(x, p), 1, p)
    let mean = 0
    for (const v of q) {
      expect(v === 0 || v === 1 / 16).toBe(true)
      mean += v / x.length
    }
    // E = 0.3/16; the sd of the mean is sqrt(0.21/20000)/16 ≈ 0.0002; allow 6 sd.
    expect(Math.abs(mean - 0.3 / 16)).toBeLessThan(0.0013)
    expect(roundingErrorBound(3, p)).toBe(3 / 16)
  })

  it('refuses non-finite inputs and mismatched representations', () => {
    expect(() => quantize([0, Number.NaN], params)).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
    expect(() => quantize([Number.POSITIVE_INFINITY], params)).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
    expect(() => decodeSum(new BigUint64Array(2), 1, params)).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
    expect(() => decodeSum(new Uint32Array(2), 0, params)).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
    expect(() => quantize([1], { ...params, rounding: 'up' as never })).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
  })
})
