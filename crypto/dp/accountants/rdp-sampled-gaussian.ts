import { logAdd, logErfc, logSub } from './_log-math.ts'

/**
 * RDP of the Poisson-subsampled Gaussian mechanism (Mironov, Talwar, Zhang, "Renyi Differential
 * Privacy of the Sampled Gaussian Mechanism", 2019), under add/remove-one neighbours.
 *
 * With mu0 = N(0, sigma^2), mu1 = N(1, sigma^2), mu = (1-q) mu0 + q mu1 (sigma = noise multiplier,
 * sensitivity 1), RDP(alpha) = log(A_alpha) / (alpha - 1), A_alpha = E_{z~mu0}[(mu(z)/mu0(z))^alpha]
 * (MTZ19 §3.3: this direction dominates the other for the orders used).
 * - integer alpha: the binomial expansion A_alpha = sum_k C(alpha,k) (1-q)^(alpha-k) q^k
 *   exp((k^2 - k) / (2 sigma^2)) (MTZ19 §3.3), summed in log space;
 * - fractional alpha: the convergent two-sided series of MTZ19 §3.3 with erfc tails, as in
 *   tensorflow_privacy / dp_accounting `_compute_log_a_frac`.
 */

/**
 * RDP at `order` (> 1) of one step of the sampled Gaussian with sampling rate `q` and noise
 * multiplier `sigma`.
 *
 * @example
 * sampledGaussianRdp(1, 2, 3) // 3 / (2 * 4) = 0.375, the unsampled Gaussian
 */
export function sampledGaussianRdp(q: number, sigma: number, order: number): number {
  if (q === 0) return 0
  if (sigma === 0) return Number.POSITIVE_INFINITY
  if (q === 1) return order / (2 * sigma * sigma)
  if (!Number.isFinite(order)) return Number.POSITIVE_INFINITY
  return logA(q, sigma, order) / (order - 1)
}

/**
 * log(A_alpha). Exported for tests.
 * @example
 * logA(0.01, 1.1, 8) // log A_8 of the sampled Gaussian
 */
export function logA(q: number, sigma: number, alpha: number): number {
  return Number.isInteger(alpha) ? logAInt(q, sigma, alpha) : logAFrac(q, sigma, alpha)
}

function logAInt(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q)
  const log1mQ = Math.log1p(-q)
  const twoS2 = 2 * sigma * sigma
  let logA = Number.NEGATIVE_INFINITY
  let logCoef = 0 // log C(alpha, k), updated incrementally
  for (let k = 0; k <= alpha; k++) {
    if (k > 0) logCoef += Math.log(alpha - k + 1) - Math.log(k)
    const s = logCoef + k * logQ + (alpha - k) * log1mQ + (k * k - k) / twoS2
    logA = logAdd(logA, s)
  }
  return logA
}

function logAFrac(q: number, sigma: number, alpha: number): number {
  // A_alpha split at z0, where mu(z)/mu0(z) crosses a threshold; both halves expand as
  // generalised binomial series whose terms carry Gaussian tail masses (erfc).
  let logA0 = Number.NEGATIVE_INFINITY
  let logA1 = Number.NEGATIVE_INFINITY
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5
  const logQ = Math.log(q)
  const log1mQ = Math.log1p(-q)
  const sqrt2Sigma = Math.SQRT2 * sigma
  const twoS2 = 2 * sigma * sigma
  let logCoef = 0 // log |C(alpha, i)|
  let coefPositive = true
  for (let i = 0; i < 100000; i++) {
    if (i > 0) {
      const factor = (alpha - i + 1) / i
      logCoef += Math.log(Math.abs(factor))
      if (factor < 0) coefPositive = !coefPositive
    }
    const j = alpha - i
    const logT0 = logCoef + i * logQ + j * log1mQ
    const logT1 = logCoef + j * logQ + i * log1mQ
    const logE0 = Math.log(0.5) + logErfc((i - z0) / sqrt2Sigma)
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / sqrt2Sigma)
    const logS0 = logT0 + (i * i - i) / twoS2 + logE0
    const logS1 = logT1 + (j * j - j) / twoS2 + logE1
    if (coefPositive) {
      logA0 = logAdd(logA0, logS0)
      logA1 = logAdd(logA1, logS1)
    } else {
      logA0 = logSub(logA0, logS0)
      logA1 = logSub(logA1, logS1)
    }
    if (Math.max(logS0, logS1) < -30) break
  }
  return logAdd(logA0, logA1)
}
