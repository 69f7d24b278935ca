/**
 * PSI v2 hashing (crypto/psi/hash-to-curve.ts): RFC 9380 Appendix J.4.1 vectors and the property
 * that fixes v1's leak (its field arithmetic: tests/property/fe25519-wasm.test.ts): every hashed point is on the
 * curve, never on the twist (v1's raw hashes are on the twist about half of the time).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { blindPoints, hashIds, psiKeygen } from '../../../crypto/psi/blind.ts'
import { __TEST, hashIdsToCurve, hashIdToCurve } from '../../../crypto/psi/hash-to-curve.ts'

interface H2cVector {
  msg: string
  P: { x: string; y: string }
  u: [string, string]
  Q0: { x: string; y: string }
  Q1: { x: string; y: string }
}
interface H2cVectors {
  source: string
  suite: string
  dst: string
  vectors: H2cVector[]
}
const V = JSON.parse(
  readFileSync(new URL('../../vectors/psi-h2c-curve25519-ro.json', import.meta.url), 'utf8')
) as H2cVectors

const P = (1n << 255n) - 19n
const A = 486662n
function pow(b: bigint, e: bigint): bigint {
  let r = 1n
  let x = ((b % P) + P) % P
  while (e > 0n) {
    if (e & 1n) r = (r * x) % P
    x = (x * x) % P
    e >>= 1n
  }
  return r
}
const le = (b: Uint8Array, at = 0) => {
  let v = 0n
  for (let i = 31; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i]!)
  return v
}
/** u is the x-coordinate of a point on Curve25519 itself (not the twist): u³ + Au² + u is a square. */
const onCurve = (u: bigint) => {
  const rhs = (((u * u) % P) * u + A * ((u * u) % P) + u) % P
  return rhs === 0n || pow(rhs, (P - 1n) / 2n) === 1n
}
/** x([8]Q) from x(Q): three x-only doublings (RFC 7748 ladder formulas, a24 = 121666). */
function times8(x: bigint): bigint {
  let X = x
  let Z = 1n
  for (let k = 0; k < 3; k++) {
    const a = (X + Z) % P
    const b = (X - Z + P) % P
    const aa = (a * a) % P
    const bb = (b * b) % P
    const c = (aa - bb + P) % P
    X = (aa * bb) % P
    Z = (c * ((bb + 121666n * c) % P)) % P
  }
  return (X * pow(Z, P - 2n)) % P
}

describe('RFC 9380 curve25519_XMD:SHA-512_ELL2_RO_ (Appendix J.4.1)', () => {
  for (const v of V.vectors) {
    it(`msg ${JSON.stringify(v.msg.slice(0, 12))}: u, Q0, Q1 and [8](Q0 + Q1) = P`, () => {
      const r = __TEST.hashToFieldAndMap(new TextEncoder().encode(v.msg), V.dst)
      expect(r.u).toEqual([BigInt(`0x${v.u[0]}`), BigInt(`0x${v.u[1]}`)])
      expect(r.Q0).toEqual({ x: BigInt(`0x${v.Q0.x}`), y: BigInt(`0x${v.Q0.y}`) })
      expect(r.Q1).toEqual({ x: BigInt(`0x${v.Q1.x}`), y: BigInt(`0x${v.Q1.y}`) })
      expect(times8(le(r.sumX))).toBe(BigInt(`0x${v.P.x}`))
    })
  }
})

describe('v2 hashing fixes the curve/twist bit', () => {
  const salt = crypto.getRandomValues(new Uint8Array(32))
  const ids = Array.from({ length: 200 }, (_, i) => `customer-${i}`)

  it('every v2 point is on the curve; v1 hashes land on the twist about half the time', () => {
    const v2 = hashIdsToCurve(ids, salt)
    const v1 = hashIds(ids, salt)
    let v2Twist = 0
    let v1Twist = 0
    for (let i = 0; i < ids.length; i++) {
      if (!onCurve(le(v2, 32 * i))) v2Twist++
      if (!onCurve(le(v1, 32 * i))) v1Twist++
    }
    expect(v2Twist).toBe(0)
    // Binomial(200, 1/2): [60, 140] holds with probability > 1 - 1e-8.
    expect(v1Twist).toBeGreaterThan(60)
    expect(v1Twist).toBeLessThan(140)
  })

  it('blinded v2 points stay on the curve and blinding commutes', () => {
    const a = psiKeygen()
    const b = psiKeygen()
    const h = hashIdsToCurve(ids.slice(0, 20), salt)
    const ab = blindPoints(b, blindPoints(a, h))
    const ba = blindPoints(a, blindPoints(b, h))
    expect(Buffer.from(ab).equals(Buffer.from(ba))).toBe(true)
    for (let i = 0; i < 20; i++) expect(onCurve(le(ab, 32 * i))).toBe(true)
  })

  it('is deterministic, salt-separated, and batch-independent', () => {
    const one = hashIdToCurve('u00042', salt)
    const batch = hashIdsToCurve(['x', 'u00042', 'y'], salt)
    expect(Buffer.from(batch.subarray(32, 64)).equals(Buffer.from(one))).toBe(true)
    const other = hashIdToCurve('u00042', crypto.getRandomValues(new Uint8Array(32)))
    expect(Buffer.from(other).equals(Buffer.from(one))).toBe(false)
    // More than one inversion batch (256 ids) gives the same points as one id at a time.
    const many = Array.from({ length: 300 }, (_, i) => `m${i}`)
    const all = hashIdsToCurve(many, salt)
    expect(Buffer.from(all.subarray(299 * 32)).equals(Buffer.from(hashIdToCurve('m299', salt)))).toBe(true)
  })

  it('refuses a bad salt', () => {
    expect(() => hashIdsToCurve(['a'], new Uint8Array(31))).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
  })
})
