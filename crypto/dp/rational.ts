import { CryptoArgumentError } from '../errors.ts'

/**
 * Exact non-negative rationals over bigint, for the parameters of the exact samplers (Canonne, Kamath,
 * Steinke 2020 need sigma^2 and scales as rationals so that no floating point touches the sampling
 * path). Always normalised: `den > 0`, `gcd(num, den) = 1`.
 *
 * @example
 * const half: Rational = rational(1, 2)
 */
export interface Rational {
  readonly num: bigint
  readonly den: bigint
}

/**
 * Builds a normalised rational `num / den` (both non-negative integers, `den > 0`).
 *
 * @example
 * rational(6, 4) // { num: 3n, den: 2n }
 */
export function rational(num: bigint | number, den: bigint | number = 1n): Rational {
  const n = toBig(num, 'num')
  const d = toBig(den, 'den')
  if (n < 0n) throw new CryptoArgumentError(`rational numerator must be >= 0, got ${n}`)
  if (d <= 0n) throw new CryptoArgumentError(`rational denominator must be > 0, got ${d}`)
  const g = gcd(n, d)
  return Object.freeze({ num: n / g, den: d / g })
}

/**
 * The exact value of a finite, non-negative double as a rational, read from its binary expansion
 * (sign, exponent, 52-bit fraction): `1.1` becomes `2476979795053773 / 2^51`, not `11 / 10`.
 *
 * @example
 * rationalFromNumber(0.75) // { num: 3n, den: 4n }
 */
export function rationalFromNumber(x: number): Rational {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) {
    throw new CryptoArgumentError(`expected a finite number >= 0, got ${String(x)}`)
  }
  if (x === 0) return rational(0n)
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, x)
  const hi = view.getUint32(0)
  const lo = view.getUint32(4)
  const biased = (hi >>> 20) & 0x7ff
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo)
  // IEEE 754 binary64: normal = (2^52 + frac) * 2^(e - 1075); subnormal = frac * 2^-1074.
  const mantissa = biased === 0 ? frac : frac | (1n << 52n)
  const shift = (biased === 0 ? 1 : biased) - 1075
  if (shift >= 0) return rational(mantissa << BigInt(shift))
  return rational(mantissa, 1n << BigInt(-shift))
}

/**
 * Accepts a number (converted exactly) or a rational, as parameters of the samplers do.
 * @example
 * toRational(0.5, 'sigma') // { num: 1n, den: 2n }
 */
export function toRational(x: number | Rational, title = 'value'): Rational {
  if (typeof x === 'number') {
    if (!Number.isFinite(x) || x < 0)
      throw new CryptoArgumentError(`${title} must be a finite number >= 0, got ${x}`)
    return rationalFromNumber(x)
  }
  if (x === null || typeof x !== 'object' || typeof x.num !== 'bigint' || typeof x.den !== 'bigint') {
    throw new CryptoArgumentError(`${title} must be a number or a { num, den } bigint rational`)
  }
  return rational(x.num, x.den)
}

/** `a * b`. @example mulRational(rational(1, 2), rational(2, 3)) // 1/3 */
export function mulRational(a: Rational, b: Rational): Rational {
  return rational(a.num * b.num, a.den * b.den)
}

/** `a / b` for `b > 0`. @example divRational(rational(1), rational(4)) // 1/4 */
export function divRational(a: Rational, b: Rational): Rational {
  if (b.num === 0n) throw new CryptoArgumentError('division of a rational by zero')
  return rational(a.num * b.den, a.den * b.num)
}

/** Sign of `a - b`. @example compareRational(rational(1, 3), rational(1, 2)) // -1 */
export function compareRational(a: Rational, b: Rational): -1 | 0 | 1 {
  const l = a.num * b.den
  const r = b.num * a.den
  return l < r ? -1 : l > r ? 1 : 0
}

/** `floor(sqrt(n))` for a bigint `n >= 0` (Newton's method on integers). @example isqrt(17n) // 4n */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new CryptoArgumentError('isqrt of a negative number')
  if (n < 2n) return n
  let x = BigInt(Math.floor(Math.sqrt(Number(n))))
  // The float estimate can be off for n >= 2^52; Newton from above converges to the floor.
  if (x * x <= n) x = x + 1n
  for (;;) {
    const y = (x + n / x) >> 1n
    if (y >= x) break
    x = y
  }
  while (x * x > n) x -= 1n
  while ((x + 1n) * (x + 1n) <= n) x += 1n
  return x
}

/**
 * The largest double `<= r`, so that a privacy claim derived from it never overstates the noise.
 *
 * @example
 * numberAtMost(rational(1, 3)) <= 1 / 3 // true
 */
export function numberAtMost(r: Rational): number {
  let f = approx(r)
  while (compareRational(rationalFromNumber(f), r) > 0) f = nextDown(f)
  for (;;) {
    const up = nextUp(f)
    if (!Number.isFinite(up) || compareRational(rationalFromNumber(up), r) > 0) return f
    f = up
  }
}

function approx(r: Rational): number {
  const nb = r.num.toString(2).length
  const db = r.den.toString(2).length
  const sn = Math.max(0, nb - 60)
  const sd = Math.max(0, db - 60)
  const f = (Number(r.num >> BigInt(sn)) / Number(r.den >> BigInt(sd))) * 2 ** (sn - sd)
  return Number.isFinite(f) ? f : Number.MAX_VALUE
}

function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, x)
  view.setBigUint64(0, view.getBigUint64(0) + 1n)
  return view.getFloat64(0)
}

function nextDown(x: number): number {
  if (x <= Number.MIN_VALUE) return 0
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, x)
  view.setBigUint64(0, view.getBigUint64(0) - 1n)
  return view.getFloat64(0)
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b]
  return a === 0n ? 1n : a
}

function toBig(x: bigint | number, title: string): bigint {
  if (typeof x === 'bigint') return x
  if (!Number.isSafeInteger(x))
    throw new CryptoArgumentError(`rational ${title} must be a safe integer, got ${x}`)
  return BigInt(x)
}
