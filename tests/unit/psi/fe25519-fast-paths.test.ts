/**
 * The PSI speed-ups keep their results: the field multiplication's chain-free carries stay exact and
 * keep limbs loose for every input the representation allows (limbs in (-2^23, 2^23), not just the
 * canonical ones the RFC-vector tests use), and the worker's raw-key blinding equals blindPoints,
 * low-order refusals included.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fe, feMul, fePow2523, feSqr, feToBigInt } from '../../../crypto/psi/_fe25519.ts'
import type { Fe } from '../../../crypto/psi/_fe25519.ts'
import { blindPoints, psiKeygen } from '../../../crypto/psi/blind.ts'
import { hashIdsToCurve } from '../../../crypto/psi/hash-to-curve.ts'
import { blindPacked } from '../../../crypto/psi/psi-worker.ts'

const P = (1n << 255n) - 19n
const LOOSE = 2 ** 23 - 1
const limb = fc.oneof(fc.integer({ min: -LOOSE, max: LOOSE }), fc.constantFrom(LOOSE, -LOOSE, 0, 2 ** 22 - 1))
const element = fc.array(limb, { minLength: 12, maxLength: 12 }).map((l) => Float64Array.from(l))

/** The value a limb vector stands for, reduced mod p. */
function value(a: Fe): bigint {
  let v = 0n
  for (let i = 11; i >= 0; i--) v = (v << 22n) + BigInt(a[i]!)
  return ((v % P) + P) % P
}

function pow(b: bigint, e: bigint): bigint {
  let r = 1n
  let x = b % P
  while (e > 0n) {
    if (e & 1n) r = (r * x) % P
    x = (x * x) % P
    e >>= 1n
  }
  return r
}

const loose = (a: Fe) => a.every((x) => Number.isInteger(x) && Math.abs(x) < 2 ** 23)

describe('field arithmetic on loose limbs', () => {
  it('mul and sqr are exact and return loose limbs (extreme limbs included)', () => {
    fc.assert(
      fc.property(element, element, (a, b) => {
        const o = fe()
        feMul(o, a, b)
        expect(value(o)).toBe((value(a) * value(b)) % P)
        expect(loose(o)).toBe(true)
        feSqr(o, a)
        expect(value(o)).toBe((value(a) * value(a)) % P)
        expect(loose(o)).toBe(true)
      }),
      { numRuns: 2000 }
    )
  })

  it('the all-extreme inputs (largest column sums) stay exact', () => {
    for (const s of [1, -1]) {
      const a = Float64Array.from({ length: 12 }, () => s * LOOSE)
      const b = Float64Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? LOOSE : -LOOSE))
      const o = fe()
      feMul(o, a, a)
      expect(feToBigInt(o)).toBe((value(a) * value(a)) % P)
      feMul(o, a, b)
      expect(feToBigInt(o)).toBe((value(a) * value(b)) % P)
      feSqr(o, a)
      expect(feToBigInt(o)).toBe((value(a) * value(a)) % P)
    }
  })

  it('the (p-5)/8 power chain (squarings in registers) agrees with BigInt on loose input', () => {
    fc.assert(
      fc.property(element, (a) => {
        const o = fe()
        fePow2523(o, a)
        expect(value(o)).toBe(pow(value(a), (P - 5n) / 8n))
      }),
      { numRuns: 30 }
    )
  })
})

describe('worker blinding (raw-public keys)', () => {
  const salt = crypto.getRandomValues(new Uint8Array(32))
  it('equals blindPoints on hashed and on arbitrary points', () => {
    const key = psiKeygen()
    const hashed = hashIdsToCurve(
      Array.from({ length: 64 }, (_, i) => `u${i}`),
      salt
    )
    expect(Buffer.from(blindPacked(key, hashed)).equals(Buffer.from(blindPoints(key, hashed)))).toBe(true)
    const arbitrary = new Uint8Array(32 * 64)
    for (let i = 0; i < 4; i++) arbitrary.set(crypto.getRandomValues(new Uint8Array(512)), i * 512)
    expect(Buffer.from(blindPacked(key, arbitrary)).equals(Buffer.from(blindPoints(key, arbitrary)))).toBe(
      true
    )
  })

  it('refuses a low-order point like blindPoints, and keeps stack traces on afterwards', () => {
    const points = hashIdsToCurve(['a', 'b', 'c'], salt)
    points.fill(0, 32, 64) // u = 0: low order
    expect(() => blindPacked(psiKeygen(), points)).toThrow(
      expect.objectContaining({ code: 'COHORT_LOW_ORDER_POINT', message: expect.stringContaining('point 1') })
    )
    expect(Error.stackTraceLimit).toBeGreaterThan(0)
    expect(() => blindPacked(psiKeygen(), new Uint8Array(33))).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
  })
})
