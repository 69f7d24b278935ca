import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeSum, maxParties, quantize, roundingErrorBound } from '../../crypto/quantize.ts'
import type { QuantParams } from '../../crypto/quantize.ts'
import { ringAddInPlace, ringZeros } from '../../crypto/ring.ts'

// Small rings so that random party counts reach maxParties.
const paramsArb = fc
  .record({
    k: fc.integer({ min: 8, max: 20 }),
    clip: fc.double({ min: 0.01, max: 8, noNaN: true }),
    f: fc.integer({ min: 0, max: 8 }),
    rounding: fc.constantFrom('nearest' as const, 'stochastic' as const)
  })
  .filter(({ k, clip, f }) => maxParties(k, clip, 2 ** f) >= 1)

describe('quantise -> sum -> decode', () => {
  it('stays within roundingErrorBound for any party count up to maxParties', () => {
    fc.assert(
      fc.property(
        paramsArb.chain((p) =>
          fc.record({
            p: fc.constant(p),
            n: fc.integer({ min: 1, max: Math.min(maxParties(p.k, p.clip, 2 ** p.f), 60) }),
            d: fc.integer({ min: 1, max: 8 })
          })
        ),
        fc.infiniteStream(fc.double({ min: -20, max: 20, noNaN: true })),
        ({ p, n, d }, values) => {
          const params: QuantParams = { k: p.k, clip: p.clip, scale: 2 ** p.f, rounding: p.rounding }
          const it = values[Symbol.iterator]()
          const xs = Array.from({ length: n }, () => Array.from({ length: d }, () => it.next().value!))
          const sum = ringZeros(d, p.k)
          for (const x of xs) ringAddInPlace(sum, quantize(x, params), p.k)
          const decoded = decodeSum(sum, n, params)
          const bound = roundingErrorBound(n, params)
          for (let i = 0; i < d; i++) {
            const exact = xs.reduce((a, x) => a + Math.min(p.clip, Math.max(-p.clip, x[i]!)), 0)
            // 1e-9 covers float rounding in the reference sum only; the decoded value is exact.
            expect(Math.abs(decoded[i]! - exact)).toBeLessThanOrEqual(bound + 1e-9)
          }
        }
      ),
      { numRuns: 200 }
    )
  })

  it('worst-case inputs at n = maxParties never wrap', () => {
    fc.assert(
      fc.property(paramsArb, fc.boolean(), (p, positive) => {
        const params: QuantParams = { k: p.k, clip: p.clip, scale: 2 ** p.f, rounding: p.rounding }
        const n = maxParties(p.k, p.clip, 2 ** p.f)
        fc.pre(n <= 5000)
        const one = quantize([positive ? p.clip : -p.clip], params)
        const sum = ringZeros(1, p.k)
        for (let i = 0; i < n; i++) ringAddInPlace(sum, one, p.k)
        const decoded = decodeSum(sum, n, params)[0]!
        // no wrap: the decoded sum is exactly n times the single decoded value
        expect(decoded).toBe(n * decodeSum(one, 1, params)[0]!)
        expect(Math.abs(decoded - (positive ? n * p.clip : -n * p.clip))).toBeLessThanOrEqual(
          roundingErrorBound(n, params) + 1e-9
        )
      }),
      { numRuns: 100 }
    )
  })
})
