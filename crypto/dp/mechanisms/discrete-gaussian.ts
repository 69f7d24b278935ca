import { aFinite, aInt } from '../../asserts.ts'
import { CryptoArgumentError } from '../../errors.ts'
import { discreteGaussianEvent } from '../events.ts'
import type { RandomSource } from '../random.ts'
import { mulRational, numberAtMost, type Rational, toRational } from '../rational.ts'
import { makeDiscreteGaussianSampler } from '../samplers/discrete-gaussian.ts'
import { addIntegerNoise, type IntegerNoiseMechanism, type IntegerVector } from './mechanism.ts'

/**
 * Options of {@link makeDiscreteGaussian}.
 * @example
 * makeDiscreteGaussian({ sigma: rational(21, 2), sensitivity: 4, dimension: 100 })
 */
export interface DiscreteGaussianInit {
  /** Noise parameter sigma in integer units: a number (taken exactly) or a rational `{ num, den }`. */
  sigma: number | Rational
  /** L2 sensitivity of the integer query the noise protects (after quantisation). */
  sensitivity: number
  /** Length of the vectors it will noise; when set, longer inputs are refused. */
  dimension?: number
}

/**
 * The discrete Gaussian mechanism: adds independent N_Z(0, sigma^2) to every coordinate.
 * Privacy: (Delta^2 / (2 sigma^2))-zCDP for a query of L2 sensitivity Delta on Z^d (Canonne, Kamath,
 * Steinke 2020, Thm. 14), which the RDP accountant reads as RDP(alpha) = alpha * rho.
 * The event records `sigma` rounded *down* to a double when sigma is a rational, so the claim never
 * assumes more noise than is added.
 *
 * @example
 * const m = makeDiscreteGaussian({ sigma: 10, sensitivity: 4 })
 * const noisy = m.apply(new Int32Array([1, 2, 3]), createRandomSource())
 * m.event // { kind: 'discrete-gaussian', sigma: 10, sensitivity: 4 }
 */
export function makeDiscreteGaussian(init: DiscreteGaussianInit): IntegerNoiseMechanism {
  const sigma = toRational(init.sigma, 'sigma')
  if (sigma.num === 0n) throw new CryptoArgumentError('sigma must be > 0')
  aFinite(init.sensitivity, 'sensitivity')
  if (init.sensitivity < 0) throw new CryptoArgumentError(`sensitivity must be >= 0, got ${init.sensitivity}`)
  if (init.dimension !== undefined) aInt(init.dimension, 'dimension')
  const sampler = makeDiscreteGaussianSampler(mulRational(sigma, sigma))
  const event = discreteGaussianEvent({
    sigma: numberAtMost(sigma),
    sensitivity: init.sensitivity,
    ...(init.dimension === undefined ? {} : { dimension: init.dimension })
  })
  return Object.freeze({
    event,
    apply<V extends IntegerVector>(input: V, rng: RandomSource): V {
      return addIntegerNoise(input, sampler, rng, init.dimension)
    }
  })
}
