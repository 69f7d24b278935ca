import { CryptoArgumentError } from '../../errors.ts'

/**
 * An (epsilon, delta) answer with the RDP order that achieved it.
 * @example
 * const { epsilon, order } = accountant.epsilonAndOrder(1e-5)
 */
export interface EpsilonAtOrder {
  readonly epsilon: number
  /** The order alpha minimising epsilon (0 when the answer did not depend on an order). */
  readonly order: number
}

/**
 * Converts an RDP curve to epsilon at `delta`, minimising over the orders, with the improved
 * conversion of Balle, Barthe, Gaboardi, Hsu, Sato 2020 ("Hypothesis testing interpretations and
 * Renyi DP", Prop. 12; also Asoodeh et al. 2020 eq. 20), as in dp_accounting `compute_epsilon`:
 *   eps = rdp + log1p(-1/alpha) - (log(delta) + log(alpha)) / (alpha - 1),
 * which is never worse than the classic rdp + log(1/delta)/(alpha-1) (Mironov 2017, Prop. 3) for
 * alpha > 1. If delta^2 + expm1(-rdp) > 0, eps = 0 suffices (delta bounds total variation via KL).
 *
 * @example
 * epsilonFromRdp([2, 3], [0.25, 0.375], 1e-5) // { epsilon: ~5.2, order: 3 }
 */
export function epsilonFromRdp(
  orders: readonly number[],
  rdp: ArrayLike<number>,
  delta: number
): EpsilonAtOrder {
  if (typeof delta !== 'number' || !(delta >= 0 && delta <= 1)) {
    throw new CryptoArgumentError(`delta must be in [0, 1], got ${String(delta)}`)
  }
  if (orders.length !== rdp.length || orders.length === 0) {
    throw new CryptoArgumentError('orders and rdp must be non-empty and of equal length')
  }
  if (delta === 0) {
    for (let i = 0; i < rdp.length; i++)
      if (rdp[i] !== 0) return { epsilon: Number.POSITIVE_INFINITY, order: 0 }
    return { epsilon: 0, order: 0 }
  }
  let best = Number.POSITIVE_INFINITY
  let bestOrder = orders[0]!
  for (let i = 0; i < orders.length; i++) {
    const a = orders[i]!
    const r = rdp[i]!
    if (!(a > 1)) throw new CryptoArgumentError(`RDP orders must be > 1, got ${a}`)
    if (!(r >= 0)) throw new CryptoArgumentError(`RDP values must be >= 0, got ${r}`)
    let eps: number
    if (delta * delta + Math.expm1(-r) > 0) eps = 0
    else if (a > 1.01) eps = r + Math.log1p(-1 / a) - (Math.log(delta) + Math.log(a)) / (a - 1)
    else eps = Number.POSITIVE_INFINITY // unstable near alpha = 1, and never the best order there
    if (eps < best) {
      best = eps
      bestOrder = a
    }
  }
  return { epsilon: Math.max(0, best), order: bestOrder }
}

/**
 * The classic conversion eps = min_alpha rdp + log(1/delta)/(alpha - 1) (Mironov 2017, Prop. 3).
 * Looser than {@link epsilonFromRdp}; kept to compare with numbers published before 2020.
 *
 * @example
 * classicEpsilonFromRdp([2, 3], [0.25, 0.375], 1e-5)
 */
export function classicEpsilonFromRdp(
  orders: readonly number[],
  rdp: ArrayLike<number>,
  delta: number
): EpsilonAtOrder {
  if (!(delta > 0 && delta < 1)) throw new CryptoArgumentError(`delta must be in (0, 1), got ${delta}`)
  let best = Number.POSITIVE_INFINITY
  let bestOrder = orders[0]!
  for (let i = 0; i < orders.length; i++) {
    const eps = rdp[i]! - Math.log(delta) / (orders[i]! - 1)
    if (eps < best) {
      best = eps
      bestOrder = orders[i]!
    }
  }
  return { epsilon: Math.max(0, best), order: bestOrder }
}
