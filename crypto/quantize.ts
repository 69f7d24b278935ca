/**
 * Fixed-point quantisation of real vectors into Z_2^k, so that secure aggregation (which sums in
 * Z_2^k) yields the sum of the real vectors.
 *
 * encode, per coordinate: x -> clip to [-clip, clip] -> y = x * scale -> integer q by rounding
 *   -> q mod 2^k (two's complement: the offset encoding with offset 0; negatives wrap to the top).
 * decode of a sum of n encodings: s mod 2^k -> the representative in [-2^(k-1), 2^(k-1)) -> / scale.
 *
 * No-overflow invariant: every |q| <= B = ceil(clip * scale), so |sum of n| <= n·B. Decoding is exact
 * (the integer sum is recovered) iff n·B + reserve <= 2^(k-1) - 1, where `reserve` is room kept for
 * noise added in the ring (distributed DP noise, crypto/dp). {@link maxParties} returns the largest
 * such n and {@link decodeSum} refuses a larger n with RingOverflowError, because a wrapped sum
 * decodes to a plausible but wrong value.
 *
 * Rounding (`rounding` option):
 * - 'nearest' (default): q = Math.round(y) (ties toward +inf), |q - y| <= 1/2, deterministic and
 *   reproducible; per-coordinate error of a decoded sum of n: |err| <= n / (2·scale).
 * - 'stochastic': q = floor(y) + [u < y - floor(y)], u uniform on {0, 2^-32, ...} from
 *   crypto.getRandomValues; unbiased up to 2^-32 per coordinate (E[q] = y + O(2^-32)), |q - y| < 1,
 *   so |err| < n / scale, but errors of different parties cancel on average (sum error ~ sqrt(n)).
 * Errors are relative to the clipped inputs; clipping itself is not an error the bound covers.
 *
 * `scale` must be a power of two 2^f: then x·scale is exact in binary floating point and the bounds
 * above hold exactly (no extra ulp terms). Values are kept below 2^52 so floor/round are exact.
 */
import { aFinite, aInt } from './asserts.ts'
import { CryptoArgumentError, RingOverflowError } from './errors.ts'
import { aRingBits, aRingVector, DEFAULT_RING_BITS } from './ring.ts'
import type { RingVector } from './ring.ts'

/**
 * Rounding mode of {@link quantize}.
 * @example
 * quantize(x, { clip: 1, scale: 2 ** 16, rounding: 'stochastic' satisfies Rounding })
 */
export type Rounding = 'nearest' | 'stochastic'

/**
 * Fixed-point parameters; every party of a round must use the same ones.
 * @example
 * const params: QuantParams = { k: 32, clip: 1, scale: 2 ** 16 }
 */
export interface QuantParams {
  /** Ring bits k (1..62). @default 32 */
  k?: number
  /** Per-coordinate clipping bound c > 0: inputs are clipped to [-c, c]. */
  clip: number
  /** Scale 2^f (a power of two): one unit of the ring is 1/scale. */
  scale: number
  /** @default 'nearest' */
  rounding?: Rounding
  /** Magnitude (ring units) kept free for noise added to the sum. @default 0 */
  reserve?: number
}

const MAX_SCALED = 2 ** 52

interface Resolved {
  k: number
  clip: number
  scale: number
  rounding: Rounding
  reserve: number
  bound: number
}

function resolve(params: QuantParams): Resolved {
  if (params === null || typeof params !== 'object')
    throw new CryptoArgumentError('params must be QuantParams')
  const { k = DEFAULT_RING_BITS, clip, scale, rounding = 'nearest', reserve = 0 } = params
  aRingBits(k)
  aFinite(clip, 'clip', { positive: true })
  aFinite(scale, 'scale', { positive: true })
  if (!Number.isInteger(Math.log2(scale)))
    throw new CryptoArgumentError(`scale must be a power of two, got ${scale}`)
  if (rounding !== 'nearest' && rounding !== 'stochastic') {
    throw new CryptoArgumentError(`rounding must be 'nearest' or 'stochastic', got ${String(rounding)}`)
  }
  aInt(reserve, 'reserve')
  if (reserve < 0) throw new CryptoArgumentError(`reserve must be >= 0, got ${reserve}`)
  const bound = Math.ceil(clip * scale)
  if (!(bound <= MAX_SCALED))
    throw new CryptoArgumentError(`clip * scale must be <= 2^52, got ${clip * scale}`)
  return { k, clip, scale, rounding, reserve, bound }
}

/**
 * The largest number of parties whose encoded vectors can be summed in Z_2^k without wrapping:
 * floor((2^(k-1) - 1 - reserve) / ceil(clip·scale)); 0 when not even one fits.
 *
 * @param reserve - ring units kept free for noise on the sum @default 0
 * @example
 * maxParties(32, 1, 2 ** 16) // 32767
 */
export function maxParties(k: number, clip: number, scale: number, reserve = 0): number {
  const r = resolve({ k, clip, scale, reserve })
  const room = (1n << BigInt(r.k - 1)) - 1n - BigInt(r.reserve)
  if (room < BigInt(r.bound)) return 0
  const n = room / BigInt(r.bound)
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n)
}

/**
 * Worst-case per-coordinate error of a decoded sum of n vectors, relative to the sum of the clipped
 * inputs: n/(2·scale) for 'nearest', n/scale (strict) for 'stochastic'.
 *
 * @example
 * roundingErrorBound(10, { clip: 1, scale: 1024 }) // 10 / 2048
 */
export function roundingErrorBound(n: number, params: QuantParams): number {
  const r = resolve(params)
  aInt(n, 'n')
  return r.rounding === 'nearest' ? n / (2 * r.scale) : n / r.scale
}

/**
 * Encodes a real vector into Z_2^k (clip, scale, round, two's complement).
 *
 * @throws CryptoArgumentError for a non-finite coordinate (a NaN update is a bug, never clipped away)
 * @example
 * const q = quantize(update, { clip: 1, scale: 2 ** 16 }) // Uint32Array
 */
export function quantize(x: ArrayLike<number>, params: QuantParams): RingVector {
  const r = resolve(params)
  if (x === null || typeof x !== 'object' || typeof x.length !== 'number') {
    throw new CryptoArgumentError('x must be an array of numbers')
  }
  const d = x.length
  const q = new Float64Array(d)
  const random = r.rounding === 'stochastic' ? new Uint32Array(Math.min(d, 16384)) : undefined
  for (let i = 0; i < d; i++) {
    const v = x[i]!
    if (!Number.isFinite(v)) throw new CryptoArgumentError(`x[${i}] must be finite, got ${v}`)
    const y = Math.min(r.clip, Math.max(-r.clip, v)) * r.scale
    if (random === undefined) {
      q[i] = Math.round(y)
    } else {
      const j = i % random.length
      if (j === 0) crypto.getRandomValues(random)
      const fl = Math.floor(y)
      q[i] = fl + (random[j]! / 2 ** 32 < y - fl ? 1 : 0)
    }
  }
  return encode(q, r.k)
}

function encode(q: Float64Array, k: number): RingVector {
  const d = q.length
  if (k <= 32) {
    const out = new Uint32Array(d)
    // |q| <= 2^(k-1) - 1 < 2^31, so `& mask` on the int32 is q mod 2^k; for k = 32 the store wraps.
    const mask = k === 32 ? -1 : 2 ** k - 1
    for (let i = 0; i < d; i++) out[i] = q[i]! & mask
    return out
  }
  const out = new BigUint64Array(d)
  for (let i = 0; i < d; i++) out[i] = BigInt.asUintN(k, BigInt(q[i]!))
  return out
}

/**
 * Decodes the ring sum of n quantised vectors into the (approximate) real sum.
 *
 * @param sum - sum mod 2^k of n outputs of {@link quantize} (plus any noise within `reserve`)
 * @param n - number of vectors summed
 * @throws RingOverflowError when n > maxParties(k, clip, scale, reserve)
 * @example
 * const total = decodeSum(unmaskedSum, survivors.length, params) // Float64Array
 */
export function decodeSum(sum: RingVector, n: number, params: QuantParams): Float64Array {
  const r = resolve(params)
  aRingVector(sum, r.k, 'sum')
  aInt(n, 'n')
  if (n < 1) throw new CryptoArgumentError(`n must be >= 1, got ${n}`)
  const limit = maxParties(r.k, r.clip, r.scale, r.reserve)
  if (n > limit) {
    throw new RingOverflowError(
      `a sum of ${n} vectors can wrap in Z_2^${r.k} (at most ${limit} fit with clip ${r.clip}, scale ${r.scale})`
    )
  }
  const d = sum.length
  const out = new Float64Array(d)
  const inv = 1 / r.scale // exact: scale is a power of two
  if (r.k <= 32) {
    const s = sum as Uint32Array
    const half = 2 ** (r.k - 1)
    const modulus = 2 ** r.k
    for (let i = 0; i < d; i++) {
      const v = s[i]!
      out[i] = (v >= half ? v - modulus : v) * inv
    }
    return out
  }
  const s = sum as BigUint64Array
  for (let i = 0; i < d; i++) out[i] = Number(BigInt.asIntN(r.k, s[i]!)) * inv
  return out
}
