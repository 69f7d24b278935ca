import { describe, expect, it } from 'vitest'
import { mulRational, rational, rationalFromNumber } from '../../../crypto/dp/rational.ts'
import {
  bernoulliExpBig,
  bernoulliExpNumber,
  sampleBernoulliExp
} from '../../../crypto/dp/samplers/bernoulli-exp.ts'
import { makeDiscreteGaussianSampler } from '../../../crypto/dp/samplers/discrete-gaussian.ts'
import { makeDiscreteLaplaceSampler } from '../../../crypto/dp/samplers/discrete-laplace.ts'
import { chiSquare } from '../../helpers/chi-square.ts'
import { seededRandom } from '../../helpers/seeded-random.ts'

// Statistical tests with fixed seeds: deterministic, and each would fail for a sampler whose
// distribution is off (see the power check at the end).
const N = 30_000

function draw(
  sampler: { sample: (rng: ReturnType<typeof seededRandom>) => number },
  seed: string,
  n = N
): Float64Array {
  const rng = seededRandom(seed)
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = sampler.sample(rng)
  return out
}

const gaussPmf = (sigma2: number) => (x: number) => Math.exp(-(x * x) / (2 * sigma2))
const laplacePmf = (b: number) => (x: number) => Math.exp(-Math.abs(x) / b)

describe('Bernoulli(exp(-gamma)) (CKS20 Algorithm 1)', () => {
  it.each([
    [0, 1],
    [1, 2],
    [1, 1],
    [5, 2],
    [7, 3]
  ])('hits exp(-%i/%i) within 4.5 standard errors', (num, den) => {
    const rng = seededRandom(`bern/${num}/${den}`)
    const p = Math.exp(-num / den)
    let ones = 0
    for (let i = 0; i < N; i++) if (sampleBernoulliExp(rational(num, den), rng)) ones++
    const se = Math.sqrt((p * (1 - p)) / N)
    expect(Math.abs(ones / N - p)).toBeLessThanOrEqual(4.5 * se + 1e-12)
  })

  it('number and bigint twins give identical draws from identical randomness', () => {
    const a = seededRandom('twins')
    const b = seededRandom('twins')
    for (let i = 0; i < 5000; i++) {
      const num = i % 37
      const den = 1 + (i % 11)
      expect(bernoulliExpNumber(num, den, a)).toBe(bernoulliExpBig(BigInt(num), BigInt(den), b))
    }
  })

  it('handles rationals beyond 2^53 (bigint path)', () => {
    const rng = seededRandom('bern/big')
    // gamma = 1/2 written with 70-bit numerator and denominator.
    const gamma = { num: 2n ** 69n, den: 2n ** 70n }
    let ones = 0
    for (let i = 0; i < 10_000; i++) if (sampleBernoulliExp(gamma, rng)) ones++
    const p = Math.exp(-0.5)
    expect(Math.abs(ones / 10_000 - p)).toBeLessThan(4.5 * Math.sqrt((p * (1 - p)) / 10_000))
  })
})

describe('discrete Gaussian (CKS20 Algorithm 3)', () => {
  it.each([
    ['sigma = 1', 1],
    ['sigma = 10', 10],
    ['sigma = 1000', 1000]
  ])('%s passes a chi-square test against the exact pmf', (_label, sigma) => {
    const s2 = sigma * sigma
    const samples = draw(makeDiscreteGaussianSampler(rational(BigInt(s2))), `dg/${sigma}`)
    const span = Math.ceil(12 * sigma) + 5
    const r = chiSquare(samples, gaussPmf(s2), -span, span)
    expect(r.df).toBeGreaterThanOrEqual(sigma === 1 ? 5 : 25)
    expect(r.statistic).toBeLessThan(r.critical)
    // Moments: mean 0 and variance just under sigma^2 (the discrete Gaussian's variance is < sigma^2).
    let sum = 0
    let sq = 0
    for (const x of samples) {
      sum += x
      sq += x * x
    }
    expect(Math.abs(sum / N)).toBeLessThan((5 * sigma) / Math.sqrt(N))
    expect(sq / N / s2).toBeGreaterThan(0.95)
    expect(sq / N / s2).toBeLessThan(1.05)
  })

  it('sigma = 1.1 taken exactly from its binary expansion (bigint path) passes too', () => {
    const s = rationalFromNumber(1.1)
    const samples = draw(makeDiscreteGaussianSampler(mulRational(s, s)), 'dg/1.1', 20_000)
    const r = chiSquare(samples, gaussPmf(1.1 * 1.1), -20, 20)
    expect(r.statistic).toBeLessThan(r.critical)
  })

  it('sigma = 10^5 (bigint path for 2 p q t^2 >= 2^53) passes too', () => {
    const samples = draw(makeDiscreteGaussianSampler(rational(10n ** 10n)), 'dg/1e5', 20_000)
    const r = chiSquare(samples, gaussPmf(1e10), -1_200_000, 1_200_000)
    expect(r.statistic).toBeLessThan(r.critical)
  })

  it('the test has power: sigma = 10 samples fail against the sigma = 10.5 pmf', () => {
    const samples = draw(makeDiscreteGaussianSampler(rational(100n)), 'dg/10')
    const r = chiSquare(samples, gaussPmf(10.5 * 10.5), -130, 130)
    expect(r.statistic).toBeGreaterThan(r.critical)
  })

  it('refuses sigma^2 <= 0 and sigma^2 > 2^80', () => {
    expect(() => makeDiscreteGaussianSampler(0)).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
    expect(() => makeDiscreteGaussianSampler(2 ** 81)).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
  })
})

describe('discrete Laplace (CKS20 Algorithm 2)', () => {
  it.each([
    ['scale 3/2', rational(3, 2), 1.5],
    ['scale 10', rational(10), 10],
    // 0.9 in binary64 is 8106479329266893 / 2^53: its denominator forces the bigint path.
    ['scale 0.9 exactly (bigint path)', rationalFromNumber(0.9), 0.9]
  ])('%s passes a chi-square test against the exact pmf', (label, scale, b) => {
    const samples = draw(makeDiscreteLaplaceSampler(scale), `dlap/${label}`)
    const span = Math.ceil(25 * b) + 3
    const r = chiSquare(samples, laplacePmf(b), -span, span)
    expect(r.df).toBeGreaterThanOrEqual(4)
    expect(r.statistic).toBeLessThan(r.critical)
  })

  it('the 0.9 case really takes the bigint path', () => {
    expect(rationalFromNumber(0.9).den).toBe(2n ** 53n)
  })
})
