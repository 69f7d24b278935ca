/**
 * Log-space arithmetic for the RDP accountant (internal). Moments of sampled mechanisms reach
 * exp(10^5) at high orders, so every sum is kept as a logarithm (as in tensorflow_privacy / Google
 * dp_accounting `rdp_privacy_accountant.py`: `_log_add`, `_log_sub`, `_log_erfc`).
 */

/**
 * log(exp(a) + exp(b)), exact at -Infinity.
 * @example
 * logAdd(Math.log(2), Math.log(3)) // Math.log(5)
 */
export function logAdd(a: number, b: number): number {
  const hi = Math.max(a, b)
  const lo = Math.min(a, b)
  if (hi === Number.NEGATIVE_INFINITY) return hi
  if (hi === Number.POSITIVE_INFINITY) return hi
  return hi + Math.log1p(Math.exp(lo - hi))
}

/**
 * log(exp(a) - exp(b)) for a >= b; throws when the difference would be negative.
 * @example
 * logSub(Math.log(5), Math.log(3)) // Math.log(2)
 */
export function logSub(a: number, b: number): number {
  if (a < b) throw new RangeError('logSub: the result of the subtraction must be non-negative')
  if (b === Number.NEGATIVE_INFINITY) return a
  if (a === b) return Number.NEGATIVE_INFINITY
  const d = a - b
  // log(e^a - e^b) = b + log(expm1(a - b)); for large d that is a + log1p(-e^-d).
  return d > 30 ? a + Math.log1p(-Math.exp(-d)) : b + Math.log(Math.expm1(d))
}

const SQRT_PI = Math.sqrt(Math.PI)
const TWO_OVER_SQRT_PI = 2 / SQRT_PI

/**
 * erf(x) for 0 <= x < 2.5 by the all-positive series erf(x) = 2/sqrt(pi) e^{-x^2} sum_n (2x^2)^n x /
 * (1*3*...*(2n+1)) (A&S 7.1.6), which has no cancellation.
 */
function erfSeries(x: number): number {
  const x2 = 2 * x * x
  let term = x
  let sum = x
  for (let n = 1; n < 500; n++) {
    term *= x2 / (2 * n + 1)
    sum += term
    if (term < sum * 1e-17) break
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x * x) * sum
}

/**
 * erfcx(x) = e^{x^2} erfc(x) for x >= 2 by Laplace's continued fraction (A&S 7.1.14)
 * sqrt(pi) erfcx(x) = 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated by modified Lentz.
 */
function erfcxContinuedFraction(x: number): number {
  const tiny = 1e-300
  let f = x
  let c = x
  let d = 0
  for (let k = 1; k < 10000; k++) {
    const a = k / 2
    d = x + a * d
    if (d === 0) d = tiny
    d = 1 / d
    c = x + a / c
    if (c === 0) c = tiny
    const delta = c * d
    f *= delta
    if (Math.abs(delta - 1) < 1e-16) break
  }
  return 1 / (SQRT_PI * f)
}

/**
 * log(erfc(x)) for any real x, accurate to ~1e-14 relative, without underflow for large x.
 *
 * @example
 * logErfc(10) // -100 + log(erfcx(10)), about -102.88
 */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return x
  if (x === Number.POSITIVE_INFINITY) return Number.NEGATIVE_INFINITY
  if (x < 0) {
    const ax = -x
    // erfc(x) = 1 + erf(|x|) in (1, 2].
    const erf = ax < 2 ? erfSeries(ax) : 1 - Math.exp(-ax * ax) * erfcxContinuedFraction(ax)
    return Math.log1p(erf)
  }
  if (x < 2) return Math.log1p(-erfSeries(x))
  return -x * x + Math.log(erfcxContinuedFraction(x))
}
