import { CryptoArgumentError } from '../../errors.ts'
import type { RandomSource } from '../random.ts'
import { type Rational, toRational } from '../rational.ts'
import { bernoulliExpBig, bernoulliExpNumber, EXACT_LIMIT } from './bernoulli-exp.ts'

/**
 * The discrete Laplace distribution on the integers, P(x) = (1 - r)/(1 + r) * r^|x| with
 * r = exp(-1/b), for a rational scale b = t / s: Canonne, Kamath, Steinke 2020, Algorithm 2 (§5.2).
 * Exact: only uniform integers and Bernoulli(exp(-rational)) are drawn.
 *
 * @example
 * const s: IntegerSampler = makeDiscreteGaussianSampler(100); s.sample(rng)
 */
export interface IntegerSampler {
  /** Draws one value (a safe integer). */
  sample(rng: RandomSource): number
}

/** Largest scale numerator/denominator we accept (keeps every output a safe integer in practice). */
const MAX_SCALE = 2 ** 40

/**
 * A sampler of the discrete Laplace with scale `scale` (a number, taken exactly, or a rational t/s).
 *
 * @example
 * const lap = makeDiscreteLaplaceSampler(rational(3, 2))
 * lap.sample(createRandomSource()) // an integer, P(x) proportional to exp(-2|x|/3)
 */
export function makeDiscreteLaplaceSampler(scale: number | Rational): IntegerSampler {
  const b = toRational(scale, 'scale')
  if (b.num === 0n) throw new CryptoArgumentError('discrete Laplace scale must be > 0')
  if (b.num > BigInt(MAX_SCALE) * b.den)
    throw new CryptoArgumentError(`discrete Laplace scale must be <= 2^40`)
  const t = b.num
  const s = b.den
  if (t < BigInt(EXACT_LIMIT) && s < BigInt(EXACT_LIMIT)) {
    const tn = Number(t)
    const sn = Number(s)
    return Object.freeze({ sample: (rng: RandomSource) => discreteLaplaceNumber(tn, sn, rng) })
  }
  return Object.freeze({ sample: (rng: RandomSource) => toSafe(discreteLaplaceBig(t, s, rng)) })
}

/**
 * Algorithm 2 on safe integers t, s >= 1 (internal; the discrete Gaussian sampler calls it with s = 1).
 * U + t*V is a geometric variable of parameter 1 - exp(-1/t), built from its remainder U (Bernoulli
 * rejection with exp(-U/t)) and quotient V (geometric with exp(-1)); dividing by s gives scale t/s;
 * the sign bit with the rejection of (negative, 0) makes it two-sided without doubling P(0).
 *
 * @example
 * discreteLaplaceNumber(3, 2, rng) // discrete Laplace of scale 3/2
 */
export function discreteLaplaceNumber(t: number, s: number, rng: RandomSource): number {
  for (;;) {
    const u = rng.uniformInt(t)
    if (!bernoulliExpNumber(u, t, rng)) continue
    let v = 0
    while (bernoulliExpNumber(1, 1, rng)) v++
    const x = u + t * v
    if (!(x < EXACT_LIMIT)) {
      const big = finishBig(BigInt(u) + BigInt(t) * BigInt(v), BigInt(s), rng)
      if (big === undefined) continue
      return toSafe(big)
    }
    const y = (x - (x % s)) / s
    const negative = (rng.nextUint32() & 1) === 1
    if (negative && y === 0) continue
    return negative ? -y : y
  }
}

function discreteLaplaceBig(t: bigint, s: bigint, rng: RandomSource): bigint {
  for (;;) {
    const u = rng.uniformBigInt(t)
    if (!bernoulliExpBig(u, t, rng)) continue
    let v = 0n
    while (bernoulliExpNumber(1, 1, rng)) v++
    const y = finishBig(u + t * v, s, rng)
    if (y !== undefined) return y
  }
}

/** Divides by s and applies the sign; undefined means "rejected, restart" (negative zero). */
function finishBig(x: bigint, s: bigint, rng: RandomSource): bigint | undefined {
  const y = x / s
  const negative = (rng.nextUint32() & 1) === 1
  if (negative && y === 0n) return undefined
  return negative ? -y : y
}

function toSafe(y: bigint): number {
  // With scale <= 2^40 a value beyond 2^53 has probability below exp(-2^13); refuse rather than round.
  if (y > BigInt(Number.MAX_SAFE_INTEGER) || y < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CryptoArgumentError('discrete Laplace sample does not fit in a safe integer')
  }
  return Number(y)
}
