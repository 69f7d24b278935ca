import { aFinite } from '../../asserts.ts'
import { CryptoArgumentError } from '../../errors.ts'
import { discreteLaplaceEvent } from '../events.ts'
import type { RandomSource } from '../random.ts'
import { numberAtMost, type Rational, toRational } from '../rational.ts'
import { makeDiscreteLaplaceSampler } from '../samplers/discrete-laplace.ts'
import { addIntegerNoise, type IntegerNoiseMechanism, type IntegerVector } from './mechanism.ts'

/**
 * Options of {@link makeDiscreteLaplace}.
 * @example
 * makeDiscreteLaplace({ scale: rational(5, 2), sensitivity: 1 })
 */
export interface DiscreteLaplaceInit {
  /** Scale b (P(x) proportional to exp(-|x|/b)): a number (taken exactly) or a rational. */
  scale: number | Rational
  /** L1 sensitivity of the integer query. */
  sensitivity: number
}

/**
 * The discrete Laplace (two-sided geometric) mechanism: (sensitivity / scale)-DP for a query of that
 * L1 sensitivity (Ghosh, Roughgarden, Sundararajan 2009; sampler: CKS20 Algorithm 2).
 *
 * @example
 * const m = makeDiscreteLaplace({ scale: 2, sensitivity: 1 }) // 0.5-DP counts
 * m.apply([10n, 20n], createRandomSource())
 */
export function makeDiscreteLaplace(init: DiscreteLaplaceInit): IntegerNoiseMechanism {
  const scale = toRational(init.scale, 'scale')
  if (scale.num === 0n) throw new CryptoArgumentError('scale must be > 0')
  aFinite(init.sensitivity, 'sensitivity')
  if (init.sensitivity < 0) throw new CryptoArgumentError(`sensitivity must be >= 0, got ${init.sensitivity}`)
  const sampler = makeDiscreteLaplaceSampler(scale)
  const event = discreteLaplaceEvent({ scale: numberAtMost(scale), sensitivity: init.sensitivity })
  return Object.freeze({
    event,
    apply<V extends IntegerVector>(input: V, rng: RandomSource): V {
      return addIntegerNoise(input, sampler, rng)
    }
  })
}
