import { describe, expect, it } from 'vitest'
import {
  combine,
  lagrangeAtZero,
  makeCombiner,
  SHAMIR_PRIME,
  SHAMIR_SHARE_BYTES,
  split
} from '../../../crypto/shamir.ts'
import type { Share } from '../../../crypto/shamir.ts'
import { toHex } from '../../vectors/load.ts'

const secret = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff)
const code = (c: string) => expect.objectContaining({ code: c })

describe('split / combine over F_(2^521 - 1)', () => {
  it('n = 100, t = 51: several subsets of 51 rebuild the secret', () => {
    const shares = split(secret, 51, 100)
    expect(shares).toHaveLength(100)
    expect(shares.map((s) => s.x)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
    for (const s of shares) expect(s.y).toHaveLength(SHAMIR_SHARE_BYTES)
    expect(toHex(combine(shares.slice(0, 51), 51))).toBe(toHex(secret))
    expect(toHex(combine(shares.slice(49), 51))).toBe(toHex(secret))
    const odd = shares.filter((s) => s.x % 2 === 1).concat(shares[1]!)
    expect(toHex(combine(odd.reverse(), 51))).toBe(toHex(secret))
  })

  it('uses the first t of more than t shares', () => {
    const shares = split(secret, 3, 10)
    expect(toHex(combine(shares, 3))).toBe(toHex(secret))
  })

  it('fresh randomness: two splits of one secret differ', () => {
    expect(toHex(split(secret, 2, 3)[0]!.y)).not.toBe(toHex(split(secret, 2, 3)[0]!.y))
  })

  it('n up to 1000 (beyond the 255 of GF(2^8) sharing)', () => {
    const shares = split(secret, 3, 1000)
    expect(toHex(combine([shares[999]!, shares[500]!, shares[254]!], 3))).toBe(toHex(secret))
  })

  it('refuses too few shares, duplicate x, out-of-range arguments', () => {
    const shares = split(secret, 3, 5)
    expect(() => combine(shares.slice(0, 2), 3)).toThrow(
      expect.objectContaining({ name: 'InsufficientSharesError', code: 'COHORT_INSUFFICIENT_SHARES' })
    )
    expect(() => combine([shares[0]!, shares[1]!, { ...shares[0]! }], 3)).toThrow(
      code('COHORT_DUPLICATE_SHARE')
    )
    expect(() => combine([shares[0]!, shares[1]!, shares[2]!, shares[1]!], 3)).toThrow(
      code('COHORT_DUPLICATE_SHARE')
    )
    expect(() => split(secret, 1, 5)).toThrow(code('COHORT_CRYPTO_ARGUMENT'))
    expect(() => split(secret, 6, 5)).toThrow(code('COHORT_CRYPTO_ARGUMENT'))
    expect(() => split(secret, 2, 1001)).toThrow(code('COHORT_CRYPTO_ARGUMENT'))
    expect(() => split(secret.subarray(1), 2, 3)).toThrow(code('COHORT_CRYPTO_ARGUMENT'))
    expect(() => combine([{ x: 0, y: shares[0]!.y }, shares[1]!, shares[2]!], 3)).toThrow(
      code('COHORT_CRYPTO_ARGUMENT')
    )
  })

  it('detects a share replaced by random bytes, or shares of two different secrets (f(0) >= 2^256)', () => {
    const shares = split(secret, 4, 6)
    for (let trial = 0; trial < 20; trial++) {
      const bad: Share[] = shares.slice(0, 4)
      const y = crypto.getRandomValues(new Uint8Array(SHAMIR_SHARE_BYTES))
      y[0]! &= 0x00 // keep y < p so the value check, not the range check of y, is what fires
      bad[trial % 4] = { x: bad[trial % 4]!.x, y }
      expect(() => combine(bad, 4)).toThrow(expect.objectContaining({ name: 'InvalidShareError' }))
    }
    const other = split(crypto.getRandomValues(new Uint8Array(32)), 4, 6)
    expect(() => combine([...shares.slice(0, 2), ...other.slice(2, 4)], 4)).toThrow(
      expect.objectContaining({ name: 'InvalidShareError' })
    )
  })

  it('does not authenticate: a targeted change shifts the secret by l_i * delta (why shares need the AEAD)', () => {
    const shares = split(secret, 2, 2) // l = [2, -1]: share 2 + 1 -> secret - 1
    const y = shares[1]!.y.slice()
    y[y.length - 1]! ^= 1
    const forged = combine([shares[0]!, { x: 2, y }], 2)
    expect(toHex(forged)).not.toBe(toHex(secret))
  })

  it('refuses a share value >= p and a wrong-length share', () => {
    const shares = split(secret, 2, 3)
    const p = Uint8Array.from(Buffer.from(SHAMIR_PRIME.toString(16).padStart(132, '0'), 'hex'))
    expect(() => combine([shares[0]!, { x: 2, y: p }], 2)).toThrow(code('COHORT_INVALID_SHARE'))
    expect(() => combine([shares[0]!, { x: 2, y: shares[1]!.y.subarray(1) }], 2)).toThrow(
      code('COHORT_CRYPTO_ARGUMENT')
    )
  })
})

describe('Lagrange coefficients', () => {
  it('for x = 1, 2 they are 2 and -1 (f(0) = 2 f(1) - f(2) on a line)', () => {
    expect(lagrangeAtZero([1, 2])).toEqual([2n, SHAMIR_PRIME - 1n])
  })

  it('sum to 1 (they interpolate the constant polynomial)', () => {
    const l = lagrangeAtZero([3, 17, 250, 999, 42])
    expect(l.reduce((a, b) => (a + b) % SHAMIR_PRIME, 0n)).toBe(1n)
  })

  it('a combiner is reused across secrets with the same holders', () => {
    const other = crypto.getRandomValues(new Uint8Array(32))
    const s1 = split(secret, 5, 9)
    const s2 = split(other, 5, 9)
    const pick = [8, 1, 4, 6, 2]
    const c = makeCombiner(pick)
    const by = (shares: Share[]) => pick.map((x) => shares[x - 1]!)
    expect(toHex(c.combine(by(s1)))).toBe(toHex(secret))
    expect(toHex(c.combine(by(s2).reverse()))).toBe(toHex(other))
    expect(() => c.combine(by(s1).slice(1))).toThrow(code('COHORT_CRYPTO_ARGUMENT'))
    expect(() => c.combine([...by(s1).slice(1), s1[2]!])).toThrow(code('COHORT_CRYPTO_ARGUMENT'))
  })
})
