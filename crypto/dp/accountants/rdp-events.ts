import type { DpEvent } from '../events.ts'
import type { NeighboringRelation } from './accountant.ts'
import { logAdd } from './_log-math.ts'
import { sampledGaussianRdp } from './rdp-sampled-gaussian.ts'

/**
 * RDP curves of single events, at a list of orders alpha > 1. `undefined` means "no bound known"
 * (the accountant then answers `supports() === false`). Values may be +Infinity (no privacy).
 */

/**
 * RDP of `event` at each order, or undefined when unsupported.
 *
 * @example
 * eventRdp(gaussianEvent(2), [2, 4], 'add-remove-one') // Float64Array [0.25, 0.5]
 */
export function eventRdp(
  event: DpEvent,
  orders: readonly number[],
  relation: NeighboringRelation
): Float64Array | undefined {
  const out = new Float64Array(orders.length)
  const each = (f: (alpha: number) => number): Float64Array => {
    for (let i = 0; i < orders.length; i++) out[i] = f(orders[i]!)
    return out
  }
  switch (event.kind) {
    case 'no-op':
      return out
    case 'non-private':
      return out.fill(Number.POSITIVE_INFINITY)
    case 'gaussian': {
      // RDP of N(0, z^2) at sensitivity 1: alpha / (2 z^2) (Mironov 2017, Prop. 7).
      const z = event.noiseMultiplier
      return each((a) => (z === 0 ? Number.POSITIVE_INFINITY : a / (2 * z * z)))
    }
    case 'discrete-gaussian': {
      // (Delta^2 / 2 sigma^2)-zCDP (CKS20 Thm. 14) gives RDP(alpha) = alpha * rho.
      const rho = zcdpRho(event.sensitivity, event.sigma)
      return each((a) => a * rho)
    }
    case 'laplace':
      return each((a) => laplaceRdp(event.noiseMultiplier, a))
    case 'discrete-laplace':
      return each((a) => pureDpRdp(pureEpsilon(event.sensitivity, event.scale), a))
    case 'distributed-discrete-gaussian': {
      const curve = distributedDiscreteGaussianCurve(event)
      return each(curve)
    }
    case 'poisson-sampled':
      return poissonSampledRdp(event, orders, relation)
    case 'self-composed': {
      if (event.count === 0) return out
      const inner = eventRdp(event.event, orders, relation)
      if (inner === undefined) return undefined
      for (let i = 0; i < orders.length; i++) out[i] = inner[i]! * event.count
      return out
    }
    case 'composed': {
      for (const e of event.events) {
        const inner = eventRdp(e, orders, relation)
        if (inner === undefined) return undefined
        for (let i = 0; i < orders.length; i++) out[i] = out[i]! + inner[i]!
      }
      return out
    }
    default:
      // Unknown kinds (e.g. written by a newer version) are refused, never guessed.
      return undefined
  }
}

function poissonSampledRdp(
  event: Extract<DpEvent, { kind: 'poisson-sampled' }>,
  orders: readonly number[],
  relation: NeighboringRelation
): Float64Array | undefined {
  const inner = event.event
  if (event.q === 0 || inner.kind === 'no-op') return new Float64Array(orders.length)
  if (event.q === 1) return eventRdp(inner, orders, relation)
  // MTZ19 is proved for add/remove-one neighbours and the Gaussian only (as in dp_accounting).
  if (relation !== 'add-remove-one' || inner.kind !== 'gaussian') return undefined
  const out = new Float64Array(orders.length)
  for (let i = 0; i < orders.length; i++)
    out[i] = sampledGaussianRdp(event.q, inner.noiseMultiplier, orders[i]!)
  return out
}

function zcdpRho(sensitivity: number, sigma: number): number {
  if (sensitivity === 0) return 0
  if (sigma === 0) return Number.POSITIVE_INFINITY
  const r = sensitivity / sigma
  return (r * r) / 2
}

function pureEpsilon(sensitivity: number, scale: number): number {
  if (sensitivity === 0) return 0
  return scale === 0 ? Number.POSITIVE_INFINITY : sensitivity / scale
}

/**
 * RDP of the Laplace mechanism with scale/sensitivity `lambda` (Mironov 2017, Prop. 6):
 * 1/(alpha-1) log( alpha/(2alpha-1) e^{(alpha-1)/lambda} + (alpha-1)/(2alpha-1) e^{-alpha/lambda} ).
 *
 * @example
 * laplaceRdp(2, 3) // RDP at order 3 of Laplace noise of scale 2 x sensitivity
 */
export function laplaceRdp(lambda: number, alpha: number): number {
  if (lambda === 0) return Number.POSITIVE_INFINITY
  const t0 = Math.log(alpha / (2 * alpha - 1)) + (alpha - 1) / lambda
  const t1 = Math.log((alpha - 1) / (2 * alpha - 1)) - alpha / lambda
  return Math.min(logAdd(t0, t1) / (alpha - 1), 1 / lambda)
}

/**
 * Tight RDP of an epsilon-DP mechanism (Bun, Steinke 2016, Prop. 3.3; attained by randomized
 * response): 1/(alpha-1) log( (e^{alpha eps} + e^{-(alpha-1) eps}) / (1 + e^{eps}) ).
 * The discrete Laplace at sensitivity 1 attains it exactly, so it is exact there and a valid bound
 * for any L1 sensitivity.
 *
 * @example
 * pureDpRdp(0.5, 2) // RDP at order 2 of a 0.5-DP mechanism
 */
export function pureDpRdp(epsilon: number, alpha: number): number {
  if (epsilon === 0) return 0
  if (!Number.isFinite(epsilon)) return epsilon
  const logE = logAdd(alpha * epsilon, -(alpha - 1) * epsilon) - logAdd(0, epsilon)
  return Math.min(logE / (alpha - 1), epsilon)
}

/**
 * Kairouz, Liu, Steinke 2021, Prop. 14: RDP of a sum of n independent N_Z(0, sigma_p^2)^d vectors,
 * sigma_p = sigma_total / sqrt(n), for an integer shift of L2 norm Delta2 and L1 norm Delta1. For an
 * integer vector Delta1 <= min(sqrt(d) Delta2, Delta2^2). Returns alpha -> RDP(alpha) (tau is
 * computed once).
 *
 * @example
 * distributedDiscreteGaussianCurve(event)(8) // RDP at order 8
 */
export function distributedDiscreteGaussianCurve(
  e: Extract<DpEvent, { kind: 'distributed-discrete-gaussian' }>
): (alpha: number) => number {
  if (e.sensitivity === 0) return () => 0
  if (e.sigma === 0) return () => Number.POSITIVE_INFINITY
  const n = e.parties
  const d = e.dimension
  const sigmaP = e.sigma / Math.sqrt(n)
  let tau = 0
  for (let k = 1; k < n; k++) tau += Math.exp(-2 * Math.PI * Math.PI * sigmaP * sigmaP * (k / (k + 1)))
  tau *= 10
  const l2 = e.sensitivity / e.sigma // Delta2 / (sqrt(n) sigma_p)
  const l1 = Math.min(Math.sqrt(d) * e.sensitivity, e.sensitivity * e.sensitivity) / e.sigma
  return (alpha) => {
    const half = alpha / 2
    const b1 = half * l2 * l2 + tau * d
    const b2 = half * (l2 * l2 + 2 * l1 * tau + tau * tau * d)
    const b3 = half * (l2 + Math.sqrt(d) * tau) ** 2
    return Math.min(b1, b2, b3)
  }
}
