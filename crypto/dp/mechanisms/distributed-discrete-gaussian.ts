import { aFinite, aInt } from '../../asserts.ts'
import { CryptoArgumentError } from '../../errors.ts'
import { distributedDiscreteGaussianEvent } from '../events.ts'
import type { RandomSource } from '../random.ts'
import { divRational, mulRational, numberAtMost, type Rational, rational, toRational } from '../rational.ts'
import { makeDiscreteGaussianSampler } from '../samplers/discrete-gaussian.ts'
import { addIntegerNoise, type IntegerNoiseMechanism, type IntegerVector } from './mechanism.ts'

/**
 * Distributed discrete Gaussian noise for secure aggregation (Kairouz, Liu, Steinke, "The Distributed
 * Discrete Gaussian Mechanism for Federated Learning with Secure Aggregation", ICML 2021).
 *
 * Each party adds N_Z(0, sigma_party^2) with sigma_party^2 = sigma_total^2 / n_min to its quantised
 * vector *before* masking, so the unmasked sum carries noise of variance ~ sigma_total^2 and no party
 * (nor the coordinator) ever sees a less-noised value.
 *
 * The sum of discrete Gaussians is *not* a discrete Gaussian, so `rho = Delta^2 / (2 sigma_total^2)`
 * does not apply as is. The event is its own kind, and the RDP accountant uses KLS21 Prop. 14:
 * with tau = 10 * sum_{k=1}^{n-1} exp(-2 pi^2 sigma_party^2 k / (k+1)),
 * RDP(alpha) <= min( alpha/2 * D2^2 + tau d, alpha/2 (D2^2 + 2 D1 tau + tau^2 d), alpha/2 (D2 + tau sqrt(d))^2 )
 * where D2 = Delta_2 / (sqrt(n) sigma_party) and D1 = Delta_1 / (sqrt(n) sigma_party). For sigma_party
 * >= 1 the tau terms are below 1e-7 per coordinate, so the cost is essentially that of a central
 * discrete Gaussian of sigma_total.
 *
 * Assumptions the caller must uphold (and record): at least `minParticipants` honest parties' shares
 * are in every released sum (more is fine: extra independent noise is post-processing), the round
 * aborts below that, and the coordinator cannot subtract any party's noise (it never sees it apart).
 *
 * @example
 * makeDistributedDiscreteGaussian({ sigmaTotal: 40, sensitivity: 256, dimension: 1000, minParticipants: 8 })
 */
export interface DistributedDiscreteGaussianInit {
  /** sigma of the noise in the sum, in integer units (a number, taken exactly, or a rational). */
  sigmaTotal: number | Rational
  /** L2 sensitivity of the integer-valued sum (one party's contribution, after quantisation). */
  sensitivity: number
  /** Length d of the vectors; longer inputs are refused (the bound depends on d). */
  dimension: number
  /** n_min: the fewest parties whose shares are summed in any released aggregate. */
  minParticipants: number
}

/**
 * Exact per-party variance sigma_party^2 = sigma_total^2 / n.
 *
 * @example
 * partySigma2(10, 4) // { num: 25n, den: 1n }, i.e. sigma_party = 5
 */
export function partySigma2(sigmaTotal: number | Rational, parties: number): Rational {
  aInt(parties, 'parties')
  if (parties < 1) throw new CryptoArgumentError(`parties must be >= 1, got ${parties}`)
  const s = toRational(sigmaTotal, 'sigmaTotal')
  return divRational(mulRational(s, s), rational(parties))
}

/**
 * sigma_party = sigma_total / sqrt(n) as a double (for display and planning; sampling uses
 * {@link partySigma2}).
 *
 * @example
 * partySigma(10, 4) // 5
 */
export function partySigma(sigmaTotal: number, parties: number): number {
  aFinite(sigmaTotal, 'sigmaTotal', { positive: true })
  aInt(parties, 'parties')
  if (parties < 1) throw new CryptoArgumentError(`parties must be >= 1, got ${parties}`)
  return sigmaTotal / Math.sqrt(parties)
}

/**
 * One party's share of distributed discrete Gaussian noise. Every party builds the same mechanism
 * from the round's instruction; its `event` is what each party charges to its own ledger.
 *
 * @example
 * const m = makeDistributedDiscreteGaussian({ sigmaTotal: 40, sensitivity: 256, dimension: 1000, minParticipants: 8 })
 * const share = m.apply(quantised, createRandomSource())   // Uint32Array, noise mod 2^32
 */
export function makeDistributedDiscreteGaussian(
  init: DistributedDiscreteGaussianInit
): IntegerNoiseMechanism {
  const sigma = toRational(init.sigmaTotal, 'sigmaTotal')
  if (sigma.num === 0n) throw new CryptoArgumentError('sigmaTotal must be > 0')
  aFinite(init.sensitivity, 'sensitivity')
  if (init.sensitivity < 0) throw new CryptoArgumentError(`sensitivity must be >= 0, got ${init.sensitivity}`)
  aInt(init.dimension, 'dimension')
  aInt(init.minParticipants, 'minParticipants')
  if (init.dimension < 1) throw new CryptoArgumentError('dimension must be >= 1')
  if (init.minParticipants < 1) throw new CryptoArgumentError('minParticipants must be >= 1')
  const sigma2 = partySigma2(sigma, init.minParticipants)
  // KLS21 Prop. 14 needs sigma_party >= 1/2, i.e. 4 sigma_party^2 >= 1.
  if (4n * sigma2.num < sigma2.den) {
    throw new CryptoArgumentError('per-party sigma (sigmaTotal / sqrt(minParticipants)) must be >= 0.5')
  }
  const sampler = makeDiscreteGaussianSampler(sigma2)
  const event = distributedDiscreteGaussianEvent({
    sigma: numberAtMost(sigma),
    sensitivity: init.sensitivity,
    dimension: init.dimension,
    parties: init.minParticipants
  })
  return Object.freeze({
    event,
    apply<V extends IntegerVector>(input: V, rng: RandomSource): V {
      return addIntegerNoise(input, sampler, rng, init.dimension)
    }
  })
}
