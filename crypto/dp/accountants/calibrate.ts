import { CryptoArgumentError } from '../../errors.ts'
import { gaussianEvent, poissonSampledEvent } from '../events.ts'
import { createRdpAccountant, DEFAULT_RDP_ORDERS } from './rdp.ts'
import type { EpsilonAtOrder } from './rdp-conversion.ts'

/**
 * DP-SGD planning: epsilon of `steps` Poisson-sampled Gaussian steps, and the inverse (the smallest
 * noise multiplier meeting a target epsilon).
 */

/**
 * A DP-SGD run: sampling rate, noise multiplier, number of steps, target delta.
 * @example
 * dpSgdEpsilon({ q: 0.01, noiseMultiplier: 1, steps: 1000, delta: 1e-5 })
 */
export interface DpSgdParams {
  /** Poisson sampling rate q in (0, 1] (batch size / dataset size). */
  q: number
  noiseMultiplier: number
  /** Number of steps (integer >= 1). */
  steps: number
  delta: number
  /** @default DEFAULT_RDP_ORDERS */
  orders?: readonly number[]
}

/**
 * epsilon (and the best order) of a DP-SGD run under the RDP accountant.
 *
 * @example
 * dpSgdEpsilon({ q: 256 / 60000, noiseMultiplier: 1.1, steps: 14062, delta: 1e-5 }) // ~2.9
 */
export function dpSgdEpsilon(p: DpSgdParams): EpsilonAtOrder {
  checkCommon(p.q, p.steps, p.delta)
  if (!(Number.isFinite(p.noiseMultiplier) && p.noiseMultiplier >= 0)) {
    throw new CryptoArgumentError(`noiseMultiplier must be a finite number >= 0, got ${p.noiseMultiplier}`)
  }
  return epsilonOf(p.q, p.noiseMultiplier, p.steps, p.delta, p.orders)
}

/**
 * Target of {@link calibrate}.
 * @example
 * calibrate({ epsilon: 2, delta: 1e-5, q: 0.01, steps: 1000 })
 */
export interface CalibrateParams {
  /** Target epsilon (> 0). */
  epsilon: number
  delta: number
  q: number
  steps: number
  /** @default DEFAULT_RDP_ORDERS */
  orders?: readonly number[]
}

/**
 * Result of {@link calibrate}: the noise multiplier and the epsilon it actually gives.
 * @example
 * const { noiseMultiplier } = calibrate({ epsilon: 2, delta: 1e-5, q: 0.01, steps: 1000 })
 */
export interface Calibration extends EpsilonAtOrder {
  readonly noiseMultiplier: number
}

/** Relative width of the final bisection bracket. */
const RELATIVE_TOLERANCE = 1e-4
const MAX_NOISE_MULTIPLIER = 1e6

/**
 * The smallest noise multiplier (to 1e-4 relative) whose DP-SGD epsilon is <= `epsilon`. epsilon is
 * decreasing in the noise multiplier at every order, hence so is its minimum over orders, so a
 * bisection is exact up to its tolerance; the returned value is the *upper* end of the final
 * bracket, so it always meets the target.
 *
 * @example
 * calibrate({ epsilon: 3, delta: 1e-5, q: 256 / 60000, steps: 14062 }) // { noiseMultiplier: ~1.08, ... }
 */
export function calibrate(p: CalibrateParams): Calibration {
  checkCommon(p.q, p.steps, p.delta)
  if (!(Number.isFinite(p.epsilon) && p.epsilon > 0)) {
    throw new CryptoArgumentError(`target epsilon must be a finite number > 0, got ${p.epsilon}`)
  }
  const eps = (z: number) => epsilonOf(p.q, z, p.steps, p.delta, p.orders)
  let lo = 0
  let hi = 1
  let atHi = eps(hi)
  while (atHi.epsilon > p.epsilon) {
    lo = hi
    hi *= 2
    if (hi > MAX_NOISE_MULTIPLIER) {
      throw new CryptoArgumentError(
        `no noise multiplier up to ${MAX_NOISE_MULTIPLIER} reaches epsilon ${p.epsilon}`
      )
    }
    atHi = eps(hi)
  }
  while (hi - lo > RELATIVE_TOLERANCE * hi) {
    const mid = (lo + hi) / 2
    const atMid = eps(mid)
    if (atMid.epsilon <= p.epsilon) {
      hi = mid
      atHi = atMid
    } else {
      lo = mid
    }
  }
  return Object.freeze({ noiseMultiplier: hi, epsilon: atHi.epsilon, order: atHi.order })
}

function epsilonOf(
  q: number,
  z: number,
  steps: number,
  delta: number,
  orders: readonly number[] = DEFAULT_RDP_ORDERS
): EpsilonAtOrder {
  return createRdpAccountant({ orders })
    .compose(poissonSampledEvent(q, gaussianEvent(z)), steps)
    .epsilonAndOrder(delta)
}

function checkCommon(q: number, steps: number, delta: number): void {
  if (!(Number.isFinite(q) && q > 0 && q <= 1))
    throw new CryptoArgumentError(`sampling rate q must be in (0, 1], got ${q}`)
  if (!(Number.isSafeInteger(steps) && steps >= 1))
    throw new CryptoArgumentError(`steps must be an integer >= 1, got ${steps}`)
  if (!(Number.isFinite(delta) && delta > 0 && delta < 1))
    throw new CryptoArgumentError(`delta must be in (0, 1), got ${delta}`)
}
