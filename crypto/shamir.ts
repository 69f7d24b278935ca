/**
 * Shamir secret sharing (Shamir 1979) of 32-byte secrets over the prime field F_p, p = 2^521 - 1.
 *
 * Why not the `shamir-secret-sharing` package: it works byte-wise in GF(2^8), so x coordinates are
 * bytes and n <= 255; SecAgg over a federation of up to 1000 parties needs more. A single prime
 * field element holds the whole 256-bit secret (no chunking, one polynomial), the field is noble's
 * audited `Field` (@noble/curves/abstract/modular), and p is the Mersenne prime style.md C1 names.
 *
 * split: f(X) = s + a_1 X + ... + a_{t-1} X^{t-1} with a_i uniform in F_p; share i = (i, f(i)) for
 * x = 1..n. Any t shares determine f, hence s = f(0); any t-1 shares are uniformly distributed and
 * independent of s (perfect secrecy). combine: Lagrange interpolation at 0,
 *   s = sum_i y_i * l_i,   l_i = prod_{j != i} x_j / (x_j - x_i),
 * with one batch inversion for all denominators. A {@link makeCombiner} keeps the l_i for a fixed
 * set of x and reuses them across many secrets (the unmask phase rebuilds one secret per peer from
 * the same survivors).
 *
 * Integrity: combine does NOT authenticate shares. Changing share i by delta shifts the result by
 * l_i * delta, which whoever changes it controls (flipping a low bit of y moves the secret by a
 * small multiple of 2^j and can stay a valid 32-byte value). Shares must travel authenticated (the
 * AEAD of crypto/aead.ts). What combine does check is that f(0) < 2^256: a share replaced by random
 * garbage, or a set mixing shares of different secrets, lands on a near-uniform element of F_p and
 * is rejected (InvalidShareError) except with probability ~2^-265.
 *
 * Shares are 66 bytes big-endian (ceil(521/8)). BigInt values cannot be wiped from memory; callers
 * should wipe the secret and share byte arrays they own once used.
 */
import { Field } from '@noble/curves/abstract/modular.js'
import { aBytes, aInRange } from './asserts.ts'
import {
  CryptoArgumentError,
  DuplicateShareError,
  InsufficientSharesError,
  InvalidShareError
} from './errors.ts'

/**
 * p = 2^521 - 1 (a Mersenne prime).
 * @example
 * lagrangeAtZero([1, 2])[1] === SHAMIR_PRIME - 1n // true
 */
export const SHAMIR_PRIME = (1n << 521n) - 1n
const Fp = Field(SHAMIR_PRIME)

/**
 * Secret length in bytes.
 * @example
 * split(crypto.getRandomValues(new Uint8Array(SHAMIR_SECRET_BYTES)), 2, 3)
 */
export const SHAMIR_SECRET_BYTES = 32
/**
 * Share value (y) length in bytes.
 * @example
 * aBytes(share.y, SHAMIR_SHARE_BYTES, 'share.y')
 */
export const SHAMIR_SHARE_BYTES = Fp.BYTES
/**
 * Largest n (and so the largest x coordinate).
 * @example
 * split(seed, 501, SHAMIR_MAX_SHARES)
 */
export const SHAMIR_MAX_SHARES = 1000

/**
 * One share: the point (x, f(x)), x in 1..n, y big-endian in F_p.
 * @example
 * const share: Share = split(seed, 2, 3)[0]! // { x: 1, y: Uint8Array(66) }
 */
export interface Share {
  x: number
  y: Uint8Array
}

const SECRET_LIMIT = 1n << 256n

function bytesToBigInt(bytes: Uint8Array): bigint {
  let v = 0n
  for (const b of bytes) v = (v << 8n) | BigInt(b)
  return v
}

function bigIntTo32(v: bigint): Uint8Array {
  const out = new Uint8Array(SHAMIR_SECRET_BYTES)
  for (let i = SHAMIR_SECRET_BYTES - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}

/** Uniform element of F_p: 521 random bits, rejecting the single value p (probability 2^-521). */
function randomFieldElement(): bigint {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(Fp.BYTES))
    bytes[0]! &= 0x01 // 66 bytes = 528 bits; keep the low 521
    const v = bytesToBigInt(bytes)
    bytes.fill(0)
    if (v < SHAMIR_PRIME) return v
  }
}

/**
 * Splits a 32-byte secret into n shares, any t of which rebuild it.
 *
 * @param secret - 32 bytes (e.g. a PRG seed or an X25519 secret key)
 * @param t - threshold, 2..n
 * @param n - number of shares, t..1000; share i has x = i
 * @example
 * const shares = split(seed, 51, 100)
 * combine(shares.slice(49), 51) // equals seed
 */
export function split(secret: Uint8Array, t: number, n: number): Share[] {
  aBytes(secret, SHAMIR_SECRET_BYTES, 'secret')
  aInRange(n, 2, SHAMIR_MAX_SHARES, 'n')
  aInRange(t, 2, n, 't')
  const coeffs: bigint[] = [bytesToBigInt(secret)]
  for (let i = 1; i < t; i++) coeffs.push(randomFieldElement())
  const shares: Share[] = []
  for (let x = 1; x <= n; x++) {
    // Horner: f(x) = (...(a_{t-1} x + a_{t-2}) x + ...) x + a_0
    const bx = BigInt(x)
    let acc = coeffs[t - 1]!
    for (let j = t - 2; j >= 0; j--) acc = Fp.add(Fp.mul(acc, bx), coeffs[j]!)
    shares.push({ x, y: Fp.toBytes(acc) })
  }
  coeffs.fill(0n)
  return shares
}

/**
 * Lagrange coefficients at 0 for distinct x coordinates: l_i = prod_{j != i} x_j / (x_j - x_i).
 *
 * @throws DuplicateShareError when two x coincide
 * @example
 * lagrangeAtZero([1, 2]) // [2n, p - 1n]  (2·f(1) - f(2) = f(0) for a line)
 */
export function lagrangeAtZero(xs: readonly number[]): bigint[] {
  const seen = new Set<number>()
  for (const x of xs) {
    aInRange(x, 1, SHAMIR_MAX_SHARES, 'share.x')
    if (seen.has(x)) throw new DuplicateShareError(`two shares have x = ${x}`)
    seen.add(x)
  }
  const nums: bigint[] = []
  const dens: bigint[] = []
  for (let i = 0; i < xs.length; i++) {
    let num = Fp.ONE
    let den = Fp.ONE
    const xi = BigInt(xs[i]!)
    for (let j = 0; j < xs.length; j++) {
      if (j === i) continue
      const xj = BigInt(xs[j]!)
      num = Fp.mul(num, xj)
      den = Fp.mul(den, Fp.create(xj - xi))
    }
    nums.push(num)
    dens.push(den)
  }
  const inv = Fp.invertBatch(dens)
  return nums.map((num, i) => Fp.mul(num, inv[i]!))
}

/**
 * A reconstruction for a fixed list of x coordinates (Lagrange coefficients precomputed).
 * @example
 * const combiner: Combiner = makeCombiner([1, 2, 3])
 */
export interface Combiner {
  /** The x coordinates, in the order their coefficients were computed. */
  readonly xs: readonly number[]
  /** Rebuilds a secret from shares with exactly these x (any order). */
  combine(shares: readonly Share[]): Uint8Array
}

/**
 * Precomputes the Lagrange coefficients for a set of x coordinates; reuse it when many secrets
 * are rebuilt from the same share holders.
 *
 * @param xs - exactly t distinct x coordinates
 * @example
 * const c = makeCombiner([1, 2, 3])
 * const seedA = c.combine(sharesOfA)
 * const seedB = c.combine(sharesOfB)
 */
export function makeCombiner(xs: readonly number[]): Combiner {
  if (!Array.isArray(xs) || xs.length < 2)
    throw new CryptoArgumentError('xs must list at least 2 x coordinates')
  const coeffs = lagrangeAtZero(xs)
  const index = new Map<number, number>(xs.map((x, i) => [x, i]))
  const frozen = Object.freeze([...xs])
  return Object.freeze({
    xs: frozen,
    combine(shares: readonly Share[]): Uint8Array {
      if (!Array.isArray(shares) || shares.length !== frozen.length) {
        throw new CryptoArgumentError(`expected exactly ${frozen.length} shares, got ${shares?.length}`)
      }
      const used = new Set<number>()
      let acc = Fp.ZERO
      for (const share of shares) {
        const i = index.get(share?.x)
        if (i === undefined)
          throw new CryptoArgumentError(`share x = ${share?.x} is not one of ${frozen.length} expected`)
        if (used.has(share.x)) throw new DuplicateShareError(`two shares have x = ${share.x}`)
        used.add(share.x)
        acc = Fp.add(acc, Fp.mul(shareValue(share), coeffs[i]!))
      }
      if (acc >= SECRET_LIMIT) {
        throw new InvalidShareError('shares do not rebuild a 32-byte secret: a share is wrong or was altered')
      }
      return bigIntTo32(acc)
    }
  })
}

function shareValue(share: Share): bigint {
  aBytes(share.y, SHAMIR_SHARE_BYTES, 'share.y')
  const y = bytesToBigInt(share.y)
  if (y >= SHAMIR_PRIME) throw new InvalidShareError('share.y is not a field element (>= p)')
  return y
}

/**
 * Rebuilds the secret from at least t shares (the first t are used; every x must be distinct).
 *
 * @throws InsufficientSharesError with fewer than t shares
 * @throws DuplicateShareError when two shares have the same x
 * @throws InvalidShareError when a share is malformed or the shares are inconsistent
 * @example
 * const secret = combine([shares[0], shares[4], shares[7]], 3)
 */
export function combine(shares: readonly Share[], t: number): Uint8Array {
  aInRange(t, 2, SHAMIR_MAX_SHARES, 't')
  if (!Array.isArray(shares)) throw new CryptoArgumentError('shares must be an array')
  if (shares.length < t) {
    throw new InsufficientSharesError(`need at least ${t} shares to rebuild the secret, got ${shares.length}`)
  }
  const seen = new Set<number>()
  for (const s of shares) {
    if (s === null || typeof s !== 'object') throw new CryptoArgumentError('each share must be { x, y }')
    aInRange(s.x, 1, SHAMIR_MAX_SHARES, 'share.x')
    if (seen.has(s.x)) throw new DuplicateShareError(`two shares have x = ${s.x}`)
    seen.add(s.x)
  }
  const chosen = shares.slice(0, t)
  return makeCombiner(chosen.map((s) => s.x)).combine(chosen)
}

/**
 * Test-only internals: interpolation at 0 as a field element, without the 32-byte range check.
 * @example
 * __TEST.interpolateAtZero(shares.slice(0, t - 1)) // != secret
 */
export const __TEST = Object.freeze({
  interpolateAtZero(shares: readonly Share[]): bigint {
    const coeffs = lagrangeAtZero(shares.map((s) => s.x))
    let acc = Fp.ZERO
    shares.forEach((s, i) => {
      acc = Fp.add(acc, Fp.mul(shareValue(s), coeffs[i]!))
    })
    return acc
  }
})
