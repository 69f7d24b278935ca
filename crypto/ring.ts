/**
 * Vectors over the ring Z_2^k, the space secure aggregation works in (masks, quantised updates).
 *
 * Representation, chosen so arithmetic never leaves exact integers:
 * - k <= 32: `Uint32Array`. Addition is a 32-bit wrap done by the typed-array store itself
 *   (ToUint32 = mod 2^32); for k < 32 we AND with 2^k - 1 afterwards.
 * - 33 <= k <= 62: `BigUint64Array`. Added as two 32-bit limbs with a carry (no BigInt per element;
 *   `BigInt.asUintN(k, ·)` on big-endian hosts); a Float64Array would only be exact to 2^53, so it
 *   is not used.
 * k stops at 62 so that a sum of two elements plus a carry always fits a signed 64-bit word in
 * other implementations, and so 2^k is exactly representable in a double (used by quantize.ts).
 *
 * Invariant: every element of a RingVector for k bits is < 2^k. Functions here keep it; inputs
 * violating it give results reduced mod 2^k, never an error (checking would cost a pass).
 */
import { aInRange, aInt } from './asserts.ts'
import { CryptoArgumentError } from './errors.ts'

/**
 * A vector over Z_2^k: Uint32Array for k <= 32, BigUint64Array for k in 33..62.
 * @example
 * const v: RingVector = ringZeros(10, 32) // Uint32Array
 */
export type RingVector = Uint32Array | BigUint64Array

/**
 * Default ring size: Z_2^32 (style.md C3).
 * @example
 * ringZeros(d, DEFAULT_RING_BITS)
 */
export const DEFAULT_RING_BITS = 32
/**
 * Largest supported k.
 * @example
 * aRingBits(MAX_RING_BITS) // passes; 63 throws
 */
export const MAX_RING_BITS = 62

/**
 * Asserts `k` is an integer ring size in 1..62.
 *
 * @example
 * aRingBits(32)
 */
export function aRingBits(k: unknown, title = 'k'): asserts k is number {
  aInRange(k, 1, MAX_RING_BITS, title)
}

/**
 * Bytes per element in the representation for `k` bits: 4 (k <= 32) or 8.
 *
 * @example
 * ringElementBytes(32) // 4
 */
export function ringElementBytes(k: number): 4 | 8 {
  aRingBits(k)
  return k <= 32 ? 4 : 8
}

/**
 * A zero vector of length `d` for ring size `k`.
 *
 * @example
 * const acc = ringZeros(1000, 32) // Uint32Array(1000)
 */
export function ringZeros(d: number, k: number): RingVector {
  aInt(d, 'd')
  if (d < 0) throw new CryptoArgumentError(`d must be >= 0, got ${d}`)
  aRingBits(k)
  return k <= 32 ? new Uint32Array(d) : new BigUint64Array(d)
}

/**
 * Asserts `v` has the representation of ring size `k`.
 *
 * @example
 * aRingVector(new Uint32Array(4), 32)
 */
export function aRingVector(v: unknown, k: number, title = 'vector'): asserts v is RingVector {
  aRingBits(k)
  const ok = k <= 32 ? v instanceof Uint32Array : v instanceof BigUint64Array
  if (!ok) {
    throw new CryptoArgumentError(
      `${title} must be a ${k <= 32 ? 'Uint32Array' : 'BigUint64Array'} for k=${k}`
    )
  }
}

/**
 * acc[i] = acc[i] + x[i] mod 2^k, in place.
 *
 * @example
 * ringAddInPlace(sum, maskedInput, 32)
 */
export function ringAddInPlace(acc: RingVector, x: RingVector, k: number): void {
  combine(acc, x, k, 1)
}

/**
 * acc[i] = acc[i] - x[i] mod 2^k, in place.
 *
 * @example
 * ringSubInPlace(sum, selfMask, 32)
 */
export function ringSubInPlace(acc: RingVector, x: RingVector, k: number): void {
  combine(acc, x, k, -1)
}

function combine(acc: RingVector, x: RingVector, k: number, sign: 1 | -1): void {
  aRingVector(acc, k, 'acc')
  aRingVector(x, k, 'x')
  if (acc.length !== x.length) {
    throw new CryptoArgumentError(`length mismatch: acc has ${acc.length}, x has ${x.length}`)
  }
  ringCombineUnchecked(acc, x, k, sign)
}

/**
 * @internal acc ±= x mod 2^k without argument checks (hot loop shared with prg.ts).
 * @example
 * ringCombineUnchecked(acc, mask, 32, -1) // acc -= mask, no checks
 */
export function ringCombineUnchecked(acc: RingVector, x: RingVector, k: number, sign: 1 | -1): void {
  const n = acc.length
  if (k <= 32) {
    const a = acc as Uint32Array
    const b = x as Uint32Array
    if (k === 32) {
      if (sign === 1) for (let i = 0; i < n; i++) a[i] = a[i]! + b[i]!
      else for (let i = 0; i < n; i++) a[i] = a[i]! - b[i]!
    } else {
      const mask = 2 ** k - 1
      if (sign === 1) for (let i = 0; i < n; i++) a[i] = (a[i]! + b[i]!) & mask
      else for (let i = 0; i < n; i++) a[i] = (a[i]! - b[i]!) & mask
    }
    return
  }
  const a = acc as BigUint64Array
  const b = x as BigUint64Array
  if (LITTLE_ENDIAN) {
    combineLimbs(a, b, k, sign)
    return
  }
  if (sign === 1) for (let i = 0; i < n; i++) a[i] = BigInt.asUintN(k, a[i]! + b[i]!)
  else for (let i = 0; i < n; i++) a[i] = BigInt.asUintN(k, a[i]! - b[i]!)
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

// k in 33..64 on two 32-bit limbs (little-endian: low word first), bit-identical to the BigInt
// loop and ~15x faster: no BigInt is allocated per element. The high limb is reduced mod 2^(k-32).
function combineLimbs(acc: BigUint64Array, x: BigUint64Array, k: number, sign: 1 | -1): void {
  const n = acc.length
  const a = new Uint32Array(acc.buffer, acc.byteOffset, 2 * n)
  const b = new Uint32Array(x.buffer, x.byteOffset, 2 * n)
  const hiMask = k >= 64 ? 0xffffffff : 2 ** (k - 32) - 1
  if (sign === 1) {
    for (let i = 0; i < 2 * n; i += 2) {
      const lo = (a[i]! + b[i]!) >>> 0
      a[i + 1] = (a[i + 1]! + b[i + 1]! + (lo < a[i]! ? 1 : 0)) & hiMask
      a[i] = lo
    }
  } else {
    for (let i = 0; i < 2 * n; i += 2) {
      const lo = (a[i]! - b[i]!) >>> 0
      a[i + 1] = (a[i + 1]! - b[i + 1]! - (a[i]! < b[i]! ? 1 : 0)) & hiMask
      a[i] = lo
    }
  }
}
