/**
 * The WebAssembly field of hash-to-curve (crypto/psi/_fe25519-wasm.ts) against BigInt arithmetic mod
 * p: random
 * canonical values, edge values (0, 1, p - 1, p, 2^255 - 1, non-canonical encodings) and limbs at
 * and beyond the bounds any stored element can have; then whole hash-to-curve outputs against a
 * BigInt implementation of RFC 9380 (expand_message_xmd, Elligator 2, the Montgomery sum).
 */
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createWasmField } from '../../crypto/psi/_fe25519-wasm.ts'
import { hashIdsToCurve, PSI_V2_LABEL } from '../../crypto/psi/hash-to-curve.ts'

const P = (1n << 255n) - 19n
const mod = (x: bigint) => ((x % P) + P) % P
function pow(b: bigint, e: bigint): bigint {
  let r = 1n
  let x = mod(b)
  for (; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * x) % P
    x = (x * x) % P
  }
  return r
}

const F = createWasmField()
const [x, y, o] = [F.alloc(), F.alloc(), F.alloc()]
const WIDTH = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 26 : 25))
const OFFSET = WIDTH.map((_, i) => Math.ceil(25.5 * i))
/** The value a limb vector stands for, mod p. */
const limbValue = (limbs: readonly number[]) =>
  mod(limbs.reduce((v, l, i) => v + (BigInt(l) << BigInt(OFFSET[i]!)), 0n))
/** ref10's input bound (1.65·2^26 / 1.65·2^25): stored elements stay far inside it. */
const BOUND = WIDTH.map((w) => Math.floor(1.65 * 2 ** w))
/** Every operation's output bound (ref10's carried form): 1.01·2^25 / 1.01·2^24. */
const carried = (limbs: readonly number[]) =>
  limbs.every((l, i) => Math.abs(l) <= 1.01 * 2 ** (WIDTH[i]! - 1))

const canonical = fc.bigInt({ min: 0n, max: P - 1n })
const edge = fc.constantFrom(0n, 1n, 2n, 18n, 19n, P - 1n, P - 2n, P - 19n, 2n ** 254n, 2n ** 255n - 20n)
const value = fc.oneof(canonical, edge)
/** Limb vectors up to the multiplication's bound, including its extremes and mixed signs. */
const limbs = fc.tuple(
  ...BOUND.map((b) => fc.oneof(fc.integer({ min: -b, max: b }), fc.constantFrom(b, -b, 0, 2 ** 25 - 1)))
)
/** Non-canonical encodings of small values: p itself, 2^255 - 1 (= 18), p + 5 (all limbs at max width). */
const loud: number[][] = [
  WIDTH.map((w, i) => (i === 0 ? 2 ** w - 19 : 2 ** w - 1)), // p
  WIDTH.map((w) => 2 ** w - 1), // 2^255 - 1
  WIDTH.map((w, i) => (i === 0 ? 2 ** w - 14 : 2 ** w - 1)), // p + 5
  BOUND,
  BOUND.map((b) => -b),
  BOUND.map((b, i) => (i % 2 === 0 ? b : -b))
]

describe('wasm field arithmetic agrees with BigInt mod p', () => {
  it('mul, sqr, add, sub, neg, mulSmall on canonical and edge values', () => {
    fc.assert(
      fc.property(value, value, fc.integer({ min: 0, max: 2 ** 20 - 1 }), (a, b, k) => {
        F.setBig(x, a)
        F.setBig(y, b)
        const cases: [() => void, bigint][] = [
          [() => F.mul(o, x, y), a * b],
          [() => F.sqr(o, x), a * a],
          [() => F.add(o, x, y), a + b],
          [() => F.sub(o, x, y), a - b],
          [() => F.neg(o, x), -a],
          [() => F.mulSmall(o, x, k), a * BigInt(k)]
        ]
        for (const [run, want] of cases) {
          run()
          expect(F.toBig(o)).toBe(mod(want))
          expect(carried(F.limbs(o))).toBe(true)
        }
      }),
      { numRuns: 1000 }
    )
  })

  it('mul and sqr are exact for limbs at their bounds and return carried limbs', () => {
    const check = (a: number[], b: number[]) => {
      F.setLimbs(x, a)
      F.setLimbs(y, b)
      F.mul(o, x, y)
      expect(F.toBig(o)).toBe((limbValue(a) * limbValue(b)) % P)
      expect(carried(F.limbs(o))).toBe(true)
      F.sqr(o, x)
      expect(F.toBig(o)).toBe((limbValue(a) * limbValue(a)) % P)
      expect(carried(F.limbs(o))).toBe(true)
    }
    for (const a of loud) for (const b of loud) check(a, b)
    fc.assert(
      fc.property(limbs, limbs, (a, b) => check(a, b)),
      { numRuns: 2000 }
    )
  })

  it('toBytes is canonical for non-canonical encodings (p → 0, 2^255 - 1 → 18)', () => {
    for (const a of loud) {
      F.setLimbs(x, a)
      expect(F.toBig(x)).toBe(limbValue(a))
      expect(F.isZero(x)).toBe(limbValue(a) === 0n ? 1 : 0)
      expect(F.sgn0(x)).toBe(Number(limbValue(a) & 1n))
    }
    F.setLimbs(x, loud[0]!)
    expect(F.toBig(x)).toBe(0n)
    F.setLimbs(x, loud[1]!)
    expect(F.toBig(x)).toBe(18n)
    fc.assert(
      fc.property(limbs, (a) => {
        F.setLimbs(x, a)
        expect(F.toBig(x)).toBe(limbValue(a))
      }),
      { numRuns: 1000 }
    )
  })

  it('sqrn, the (p-5)/8 power and inversion', () => {
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 40 }), (a, n) => {
        F.setBig(x, a)
        F.sqrn(o, x, n)
        expect(F.toBig(o)).toBe(pow(a, 1n << BigInt(n)))
      }),
      { numRuns: 200 }
    )
    fc.assert(
      fc.property(value, (a) => {
        F.setBig(x, a)
        F.pow2523(o, x)
        expect(F.toBig(o)).toBe(pow(a, (P - 5n) / 8n))
        F.inv(o, x)
        expect(F.toBig(o)).toBe(pow(a, P - 2n))
      }),
      { numRuns: 60 }
    )
  })

  it('eq, isZero, sgn0 and cmov', () => {
    fc.assert(
      fc.property(value, value, fc.constantFrom(0, 1), (a, b, flag) => {
        F.setBig(x, a)
        F.setBig(y, b)
        F.add(o, y, x)
        F.sub(o, o, x) // b in a different encoding
        expect(F.eq(o, y)).toBe(1)
        expect(F.eq(x, y)).toBe(a === b ? 1 : 0)
        expect(F.isZero(x)).toBe(a === 0n ? 1 : 0)
        expect(F.sgn0(x)).toBe(Number(a & 1n))
        F.copy(o, x)
        F.cmov(o, y, flag)
        expect(F.toBig(o)).toBe(flag === 1 ? b : a)
      }),
      { numRuns: 500 }
    )
  })

  it('fromBE48: OS2IP of 48 bytes mod p', () => {
    const at = F.region(48)
    const check = (bytes: Uint8Array) => {
      F.bytes.set(bytes, at)
      F.fromBE48(o, at)
      expect(F.toBig(o)).toBe(BigInt(`0x${Buffer.from(bytes).toString('hex')}`) % P)
      expect(carried(F.limbs(o))).toBe(true)
    }
    check(new Uint8Array(48).fill(0xff))
    check(new Uint8Array(48))
    fc.assert(fc.property(fc.uint8Array({ minLength: 48, maxLength: 48 }), check), { numRuns: 500 })
  })
})

// --- hash-to-curve against a BigInt RFC 9380 (curve25519_XMD:SHA-512_ELL2_RO_, no clear_cofactor) ---
const A = 486662n
const sha512 = (...parts: Uint8Array[]) =>
  new Uint8Array(createHash('sha512').update(Buffer.concat(parts)).digest())
function hashToField(msg: Uint8Array, dst: string): [bigint, bigint] {
  const d = new TextEncoder().encode(dst)
  const dPrime = Uint8Array.of(...d, d.length)
  const b0 = sha512(new Uint8Array(128), msg, Uint8Array.of(0, 96, 0), dPrime)
  const b1 = sha512(b0, Uint8Array.of(1), dPrime)
  const b2 = sha512(
    b0.map((v, i) => v ^ b1[i]!),
    Uint8Array.of(2),
    dPrime
  )
  const uniform = Uint8Array.of(...b1, ...b2)
  const os2ip = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString('hex')}`)
  return [os2ip(uniform.subarray(0, 48)) % P, os2ip(uniform.subarray(48, 96)) % P]
}
const isSquare = (v: bigint) => v === 0n || pow(v, (P - 1n) / 2n) === 1n
function sqrt(v: bigint): bigint {
  let r = pow(v, (P + 3n) / 8n)
  if (mod(r * r) !== mod(v)) r = mod(r * pow(2n, (P - 1n) / 4n))
  return r
}
/** RFC 9380 §6.7.1 map_to_curve_elligator2 (the plain, non-straight-line description). */
function elligator2(u: bigint): [bigint, bigint] {
  const g = (t: bigint) => mod(t * t * t + A * t * t + t)
  const x1 = mod(-A * pow(1n + 2n * u * u, P - 2n))
  const x = isSquare(g(x1)) ? x1 : mod(-x1 - A)
  let y = sqrt(g(x))
  if ((y & 1n) === 1n) y = mod(-y) // even root; odd when x = x1 (RFC 9380 §6.7.1 steps 6-7)
  return [x, x === x1 ? mod(-y) : y]
}

describe('hash-to-curve (wasm) against BigInt RFC 9380', () => {
  it('x(Q0 + Q1) for random ids and salts', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.string({ maxLength: 40 }),
        (salt, id) => {
          const msg = Uint8Array.of(...salt, ...new TextEncoder().encode(id))
          const [[x1, y1], [x2, y2]] = hashToField(msg, PSI_V2_LABEL).map(elligator2)
          const lambda = mod((y2! - y1!) * pow(x2! - x1!, P - 2n))
          const want = mod(lambda * lambda - A - x1! - x2!)
          const got = hashIdsToCurve([id], salt)
          expect(got.reduceRight((v, b) => (v << 8n) | BigInt(b), 0n)).toBe(want)
        }
      ),
      { numRuns: 150 }
    )
  })
})
