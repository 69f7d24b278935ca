import { CryptoArgumentError } from '../../errors.ts'
import type { RandomSource } from '../random.ts'
import { isqrt, type Rational, toRational } from '../rational.ts'
import { bernoulliExpBig, bernoulliExpNumber, EXACT_LIMIT } from './bernoulli-exp.ts'
import { discreteLaplaceNumber, type IntegerSampler, makeDiscreteLaplaceSampler } from './discrete-laplace.ts'

/**
 * The discrete Gaussian N_Z(0, sigma^2) on the integers, P(x) proportional to exp(-x^2 / (2 sigma^2)),
 * for a rational sigma^2 = p / q: Canonne, Kamath, Steinke 2020, Algorithm 3 (§5.3).
 *
 * Rejection sampling from the discrete Laplace of integer scale t = floor(sigma) + 1: draw Y, accept
 * with probability exp(-(|Y| - sigma^2/t)^2 / (2 sigma^2)). With sigma^2 = p/q the exponent is the
 * rational gamma = (|Y| q t - p)^2 / (2 p q t^2), so Algorithm 1 samples it exactly. The expected
 * number of rejections is a small constant (CKS20 §5.3 show the acceptance rate stays above ~0.5).
 *
 * Fast path: when 2 p q t^2 < 2^53 (e.g. any integer sigma up to ~8,000, or sigma = 11/10) all arithmetic
 * is exact in doubles; per draw, if |Y| q t or the squared numerator would reach 2^53, that draw
 * is finished in bigint instead. The result is identical either way; only the speed differs.
 */

/** sigma^2 is capped so that every sample is a safe integer with overwhelming probability. */
const MAX_SIGMA2 = 2n ** 80n
/** floor(sqrt(2^53)): a non-negative integer a with a < this has an exact square a*a < 2^53. */
const SQRT_EXACT = 94906265

/**
 * A sampler of N_Z(0, sigma^2) for a rational `sigma2` = sigma^2 (a number is taken exactly).
 *
 * @example
 * const g = makeDiscreteGaussianSampler(rational(100n))   // sigma = 10
 * g.sample(createRandomSource())                           // an integer, sd ~ 10
 */
export function makeDiscreteGaussianSampler(sigma2: number | Rational): IntegerSampler {
  const s2 = toRational(sigma2, 'sigma2')
  if (s2.num === 0n) throw new CryptoArgumentError('discrete Gaussian sigma^2 must be > 0')
  if (s2.num > MAX_SIGMA2 * s2.den) throw new CryptoArgumentError('discrete Gaussian sigma^2 must be <= 2^80')
  const p = s2.num
  const q = s2.den
  const t = isqrt(p / q) + 1n // floor(sqrt(p/q)) = floor(sqrt(floor(p/q)))
  const den = 2n * p * q * t * t
  if (den < BigInt(EXACT_LIMIT)) return numberSampler(Number(p), Number(q), Number(t), Number(den))
  return bigSampler(p, q, t, den)
}

function numberSampler(p: number, q: number, t: number, den: number): IntegerSampler {
  const qt = q * t
  const bigP = BigInt(p)
  const bigQt = BigInt(qt)
  const bigDen = BigInt(den)
  const sample = (rng: RandomSource): number => {
    for (;;) {
      const y = discreteLaplaceNumber(t, 1, rng)
      const ay = Math.abs(y)
      const scaled = ay * qt
      if (scaled < EXACT_LIMIT) {
        const a = Math.abs(scaled - p)
        if (a < SQRT_EXACT) {
          if (bernoulliExpNumber(a * a, den, rng)) return y
          continue
        }
      }
      const a = BigInt(ay) * bigQt - bigP
      if (bernoulliExpBig(a * a, bigDen, rng)) return y
    }
  }
  return Object.freeze({ sample })
}

function bigSampler(p: bigint, q: bigint, t: bigint, den: bigint): IntegerSampler {
  const lap = makeDiscreteLaplaceSampler({ num: t, den: 1n })
  const qt = q * t
  const sample = (rng: RandomSource): number => {
    for (;;) {
      const y = lap.sample(rng)
      const a = BigInt(Math.abs(y)) * qt - p
      if (bernoulliExpBig(a * a, den, rng)) return y
    }
  }
  return Object.freeze({ sample })
}
