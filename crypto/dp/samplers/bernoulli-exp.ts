import { CryptoArgumentError } from '../../errors.ts'
import type { RandomSource } from '../random.ts'
import type { Rational } from '../rational.ts'

/**
 * Bernoulli(exp(-gamma)) for a rational gamma >= 0, exactly: Canonne, Kamath, Steinke, "The Discrete
 * Gaussian for Differential Privacy" (NeurIPS 2020), Algorithm 1 (§5.1). Only uniform integers are
 * drawn, so the output probability is exactly exp(-gamma), with no floating point on the way.
 *
 * Two twins of the same algorithm: `…Number` when numerator and denominator are integers below 2^53
 * (every product below is then exact in a double, and checked against 2^53 before use), and `…Big`
 * over bigint for everything else. They consume randomness identically.
 */

/**
 * Integers below this are exact in a double (products are compared against it before use).
 * @example
 * if (den * k < EXACT_LIMIT) rng.uniformInt(den * k)
 */
export const EXACT_LIMIT = 2 ** 53

/**
 * Bernoulli(exp(-gamma)) for `gamma = num / den`.
 *
 * @example
 * const rng = createRandomSource()
 * sampleBernoulliExp(rational(1, 2), rng) // true with probability exp(-1/2)
 */
export function sampleBernoulliExp(gamma: Rational, rng: RandomSource): boolean {
  if (gamma.num < 0n || gamma.den <= 0n) throw new CryptoArgumentError('gamma must be a rational >= 0')
  if (gamma.num < BigInt(EXACT_LIMIT) && gamma.den < BigInt(EXACT_LIMIT)) {
    return bernoulliExpNumber(Number(gamma.num), Number(gamma.den), rng)
  }
  return bernoulliExpBig(gamma.num, gamma.den, rng)
}

/**
 * Algorithm 1 on safe integers `0 <= num`, `1 <= den` (both `< 2^53`, not re-checked: internal).
 * For gamma > 1 it multiplies floor(gamma) independent Bernoulli(exp(-1)) by one
 * Bernoulli(exp(-(gamma - floor(gamma)))), stopping at the first 0.
 *
 * @example
 * bernoulliExpNumber(3, 2, rng) // true with probability exp(-3/2)
 */
export function bernoulliExpNumber(num: number, den: number, rng: RandomSource): boolean {
  if (num <= den) return bernoulliExpAtMostOne(num, den, rng)
  // `%` on doubles is exact, so r and k are exact integers.
  const r = num % den
  const k = (num - r) / den
  for (let i = 0; i < k; i++) if (!bernoulliExpAtMostOne(1, 1, rng)) return false
  return bernoulliExpAtMostOne(r, den, rng)
}

/**
 * Algorithm 1 over bigint, for parameters beyond 2^53.
 * @example
 * bernoulliExpBig(3n ** 50n, 2n ** 80n, rng)
 */
export function bernoulliExpBig(num: bigint, den: bigint, rng: RandomSource): boolean {
  if (num <= den) return bernoulliExpAtMostOneBig(num, den, rng)
  const k = num / den
  const r = num % den
  for (let i = 0n; i < k; i++) if (!bernoulliExpAtMostOne(1, 1, rng)) return false
  return bernoulliExpAtMostOneBig(r, den, rng)
}

/**
 * The gamma in [0, 1] branch: draw A_k ~ Bernoulli(gamma / k) for k = 1, 2, ... until the first 0;
 * the result is 1 iff that k is odd. P(result = 1) = sum_k (-gamma)^(k-1)/(k-1)! ... = exp(-gamma).
 */
function bernoulliExpAtMostOne(num: number, den: number, rng: RandomSource): boolean {
  if (num === 0) return true
  for (let k = 1; ; k++) {
    const m = den * k
    // Bernoulli(num / (den k)) = [U < num] for U uniform in [0, den k).
    const a =
      m < EXACT_LIMIT ? rng.uniformInt(m) < num : rng.uniformBigInt(BigInt(den) * BigInt(k)) < BigInt(num)
    if (!a) return (k & 1) === 1
  }
}

function bernoulliExpAtMostOneBig(num: bigint, den: bigint, rng: RandomSource): boolean {
  if (num === 0n) return true
  if (den < BigInt(EXACT_LIMIT)) return bernoulliExpAtMostOne(Number(num), Number(den), rng)
  for (let k = 1n; ; k++) {
    if (!(rng.uniformBigInt(den * k) < num)) return (k & 1n) === 1n
  }
}
