/**
 * TEST ONLY: an independent evaluation of the sampled-Gaussian RDP bound, for checking
 * crypto/dp/accountants. It shares no code or method with the production implementation:
 *
 * - production: MTZ19 binomial expansion (integer orders) and the erfc series (fractional orders);
 * - here: direct numerical integration of A_alpha = E_{z ~ N(0, s^2)}[((1-q) + q e^{(2z-1)/(2s^2)})^alpha]
 *   (the moment of the density ratio of mu = (1-q) N(0,s^2) + q N(1,s^2) to N(0,s^2)), by the
 *   trapezoid rule in log space on a fine grid. The trapezoid rule converges geometrically for smooth,
 *   rapidly decaying integrands, so with step s/40 the quadrature error is far below 1e-9.
 */

function logAddExp(a: number, b: number): number {
  const m = Math.max(a, b)
  return m === Number.NEGATIVE_INFINITY ? m : m + Math.log(Math.exp(a - m) + Math.exp(b - m))
}

/** log A_alpha by quadrature. */
export function referenceLogA(q: number, s: number, alpha: number): number {
  const twoS2 = 2 * s * s
  const logNorm = -Math.log(s * Math.sqrt(2 * Math.PI))
  const logQ = Math.log(q)
  const log1mQ = Math.log(1 - q)
  const logf = (z: number) =>
    logNorm - (z * z) / twoS2 + alpha * logAddExp(log1mQ, logQ + (2 * z - 1) / twoS2)
  const h = s / 40
  const lo = -40 * s - 2
  const hi = alpha + 40 * s + 2
  const n = Math.ceil((hi - lo) / h)
  const values = new Float64Array(n + 1)
  let max = Number.NEGATIVE_INFINITY
  for (let i = 0; i <= n; i++) {
    values[i] = logf(lo + i * h)
    if (values[i]! > max) max = values[i]!
  }
  let sum = 0
  for (let i = 0; i <= n; i++) sum += (i === 0 || i === n ? 0.5 : 1) * Math.exp(values[i]! - max)
  return max + Math.log(sum * h)
}

/** RDP of one sampled-Gaussian step at `alpha`, by quadrature. */
export function referenceRdp(q: number, s: number, alpha: number): number {
  return referenceLogA(q, s, alpha) / (alpha - 1)
}

/**
 * epsilon at `delta` after `steps` steps, minimised over `orders`, with the conversion of Balle et
 * al. 2020 (Prop. 12) written out here again: eps = T*rdp + log((a-1)/a) - (log delta + log a)/(a-1).
 */
export function referenceEpsilon(
  q: number,
  s: number,
  steps: number,
  delta: number,
  orders: readonly number[]
): number {
  let best = Number.POSITIVE_INFINITY
  for (const a of orders) {
    const r = steps * referenceRdp(q, s, a)
    const eps = r + Math.log((a - 1) / a) - (Math.log(delta) + Math.log(a)) / (a - 1)
    best = Math.min(best, eps)
  }
  return Math.max(0, best)
}
