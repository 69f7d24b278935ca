import { describe, expect, it } from 'vitest'
import { fillGaussian, makeGaussian, sampleStandardNormal } from '../../../crypto/dp/mechanisms/gaussian.ts'
import { createRandomSource } from '../../../crypto/dp/random.ts'
import { seededRandom } from '../../helpers/seeded-random.ts'

const ARG = expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })

// Standard normal CDF via the complementary error function (Abramowitz & Stegun 7.1.26 is too coarse
// for a 20k-sample KS test, so use the continued-fraction-free series of erf for |x| < 6).
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2
  // erf by its Maclaurin series (exact to ~1e-15 for z < 4.5), erfc ~ 0 beyond.
  let erf: number
  if (z > 4.5) erf = 1
  else {
    let term = z
    let sum = z
    for (let n = 1; n < 200; n++) {
      term *= (-z * z) / n
      sum += term / (2 * n + 1)
    }
    erf = (2 / Math.sqrt(Math.PI)) * sum
  }
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf)
}

describe('continuous Gaussian sampler (secure mode: sum of four Box–Muller normals / 2)', () => {
  it('has the moments of N(0, 1) and passes a Kolmogorov–Smirnov test (seeded)', () => {
    const rng = seededRandom('gaussian/moments')
    const n = 20_000
    const xs = new Float64Array(n)
    for (let i = 0; i < n; i++) xs[i] = sampleStandardNormal(rng)
    const mean = xs.reduce((a, b) => a + b, 0) / n
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / n
    const kurtosis = xs.reduce((a, b) => a + (b - mean) ** 4, 0) / n / variance ** 2
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(n))
    expect(Math.abs(variance - 1)).toBeLessThan(0.04)
    expect(Math.abs(kurtosis - 3)).toBeLessThan(0.15)
    xs.sort()
    let d = 0
    for (let i = 0; i < n; i++) {
      const f = phi(xs[i]!)
      d = Math.max(d, Math.abs(f - i / n), Math.abs((i + 1) / n - f))
    }
    // Critical value at alpha = 0.001: 1.95 / sqrt(n).
    expect(d).toBeLessThan(1.95 / Math.sqrt(n))
  })

  it('fillGaussian scales by sigma and is reproducible with a seeded source', () => {
    const a = fillGaussian(new Float64Array(5000), 3, seededRandom('g/scale'))
    const b = fillGaussian(new Float64Array(5000), 3, seededRandom('g/scale'))
    expect(a).toEqual(b)
    const sd = Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length)
    expect(sd).toBeGreaterThan(2.85)
    expect(sd).toBeLessThan(3.15)
    expect(Array.from(fillGaussian(new Float32Array(3), 0, createRandomSource())).every((v) => v === 0)).toBe(
      true
    )
  })

  it('makeGaussian adds z·Δ noise and carries the gaussian event', () => {
    const m = makeGaussian({ noiseMultiplier: 2, sensitivity: 0.5 })
    expect(m.event).toEqual({ kind: 'gaussian', noiseMultiplier: 2 })
    const out = m.apply(new Float64Array(4000).fill(10), seededRandom('g/mech'))
    const mean = out.reduce((a, b) => a + b, 0) / out.length
    const sd = Math.sqrt(out.reduce((a, b) => a + (b - mean) ** 2, 0) / out.length)
    expect(Math.abs(mean - 10)).toBeLessThan(0.08)
    expect(Math.abs(sd - 1)).toBeLessThan(0.05)
  })

  it('refuses bad arguments', () => {
    expect(() => makeGaussian({ noiseMultiplier: -1, sensitivity: 1 })).toThrow(ARG)
    expect(() => makeGaussian({ noiseMultiplier: 1, sensitivity: Number.NaN })).toThrow(ARG)
    expect(() => fillGaussian(new Float64Array(1), -2, createRandomSource())).toThrow(ARG)
    expect(() =>
      makeGaussian({ noiseMultiplier: 1, sensitivity: 1 }).apply(
        new Float64Array([Number.POSITIVE_INFINITY]),
        createRandomSource()
      )
    ).toThrow(ARG)
  })
})
