import { describe, expect, it } from 'vitest'
import { encodeCanonical, hashCanonical, sha256 } from '../../../crypto/hash.ts'
import { toHex } from '../../vectors/load.ts'

describe('sha256', () => {
  it('matches FIPS 180-4 "abc"', () => {
    expect(toHex(sha256(new TextEncoder().encode('abc')))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    )
  })
})

describe('encodeCanonical', () => {
  it('is utf8(label) followed by msgpack of the array', () => {
    const bytes = encodeCanonical('cohort/test/v1', [1, 'a', Uint8Array.of(9), true, null, [2]])
    // 96 = fixarray(6), 01, a1 61 = "a", c4 01 09 = bin8, c3 = true, c0 = nil, 91 02 = [2]
    expect(toHex(bytes)).toBe(`${Buffer.from('cohort/test/v1').toString('hex')}9601a161c40109c3c09102`)
  })

  it('depends on field order (arrays are ordered)', () => {
    expect(toHex(encodeCanonical('cohort/t/v1', ['a', 'b']))).not.toBe(
      toHex(encodeCanonical('cohort/t/v1', ['b', 'a']))
    )
  })

  it('depends on the label', () => {
    expect(toHex(encodeCanonical('cohort/t/v1', [1]))).not.toBe(toHex(encodeCanonical('cohort/u/v1', [1])))
  })

  it('refuses objects, also nested, and non-finite numbers', () => {
    const bad: unknown[] = [
      [{ a: 1 }],
      [[new Map()]],
      [Number.NaN],
      [Number.POSITIVE_INFINITY],
      [undefined],
      [1n]
    ]
    for (const fields of bad) {
      expect(() => encodeCanonical('cohort/t/v1', fields as never)).toThrow(
        expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
      )
    }
    expect(() => encodeCanonical('cohort/t/v1', { 0: 'a', length: 1 } as never)).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
  })

  it('refuses a label that is not cohort/<purpose>/v<n>', () => {
    expect(() => encodeCanonical('cohort/t' as never, [])).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
  })

  it('hashCanonical = sha256(encodeCanonical)', () => {
    const fields = [3, 'x', Uint8Array.of(1, 2)]
    expect(toHex(hashCanonical('cohort/audit/v1', fields))).toBe(
      toHex(sha256(encodeCanonical('cohort/audit/v1', fields)))
    )
  })
})
