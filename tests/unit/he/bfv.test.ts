import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bfvAdd,
  bfvAddInPlace,
  bfvDecryptVector,
  bfvEncryptVector,
  bfvMaxAbs,
  bfvMaxParties,
  bfvSum
} from '../../../crypto/he/bfv.ts'
import type { BfvVector } from '../../../crypto/he/ciphertext.ts'
import { createHeContext } from '../../../crypto/he/context.ts'
import type { HeContext } from '../../../crypto/he/context.ts'
import { disposeAll } from '../../../crypto/he/dispose.ts'
import { generateKeys } from '../../../crypto/he/keys.ts'
import type { HeKeySet } from '../../../crypto/he/keys.ts'
import { seededRandom } from '../../helpers/seeded-random.ts'

let ctx: HeContext
let keys: HeKeySet

beforeAll(async () => {
  ctx = await createHeContext('bfv-8192')
  keys = generateKeys(ctx)
})

afterAll(() => {
  keys.dispose()
  ctx.dispose()
})

/** Uniform signed integers in [-bound, bound]. */
function randomSigned(seed: string, length: number, bound: number): number[] {
  const rng = seededRandom(seed)
  return Array.from({ length }, () => rng.uniformInt(2 * bound + 1) - bound)
}

describe('bfv-8192 preset', () => {
  it('has 8192 slots and the 50-bit batching prime t ≡ 1 mod 2N', () => {
    expect(ctx.slotCount).toBe(8192)
    expect(ctx.plainModulus).toBe(1125899906826241n)
    expect(ctx.plainModulus % 16384n).toBe(1n)
    expect(bfvMaxAbs(ctx)).toBe(562949953413120)
    expect(Number.isSafeInteger(bfvMaxAbs(ctx))).toBe(true)
  })

  it('bounds the number of parties by n·B <= (t-1)/2', () => {
    expect(bfvMaxParties(ctx, 2 ** 24)).toBe(33554431)
    expect(bfvMaxParties(ctx, 2 ** 32)).toBe(131071)
    expect(bfvMaxParties(ctx, bfvMaxAbs(ctx))).toBe(1)
    expect(() => bfvMaxParties(ctx, 0)).toThrow(expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' }))
  })
})

describe('BFV sums', () => {
  it('sums 10 encrypted fixed-point vectors of 8192 slots to the exact ring sum', () => {
    const parties = 10
    const bound = 2 ** 45 // 10 · 2^45 < (t-1)/2 ≈ 2^49
    const inputs = Array.from({ length: parties }, (_, p) => randomSigned(`bfv-sum/${p}`, 8192, bound))
    inputs[0]![0] = bound
    inputs[1]![0] = bound // two extremes in the same slot
    inputs[2]![1] = -bound
    const encrypted: BfvVector[] = []
    try {
      for (const v of inputs) encrypted.push(bfvEncryptVector(keys.publicKey, v))
      expect(encrypted[0]!.chunks).toHaveLength(1)
      using total = bfvSum(encrypted)
      const decrypted = bfvDecryptVector(keys.secretKey, total, { maxAbs: parties * bound })
      const expected = inputs[0]!.map((_, i) => inputs.reduce((s, v) => s + v[i]!, 0))
      expect(decrypted).toHaveLength(8192)
      expect(Array.from(decrypted)).toEqual(expected)
    } finally {
      disposeAll(encrypted)
    }
  })

  it('splits a vector longer than one ciphertext and sums every chunk', () => {
    const length = 2 * 8192 + 5
    const a = randomSigned('bfv-chunks/a', length, 1000)
    const b = randomSigned('bfv-chunks/b', length, 1000)
    using ea = bfvEncryptVector(keys.publicKey, a)
    using eb = bfvEncryptVector(keys.publicKey, b)
    expect(ea.chunks).toHaveLength(3)
    using sum = bfvAdd(ea, eb)
    expect(Array.from(bfvDecryptVector(keys.secretKey, sum))).toEqual(a.map((x, i) => x + b[i]!))
    bfvAddInPlace(ea, eb)
    bfvAddInPlace(ea, eb)
    expect(Array.from(bfvDecryptVector(keys.secretKey, ea))).toEqual(a.map((x, i) => x + 2 * b[i]!))
  })

  it('property: the decrypted sum of k encryptions equals the integer sum', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: -(2 ** 30), max: 2 ** 30 }), { minLength: 1, maxLength: 12 }), {
          minLength: 1,
          maxLength: 3
        }),
        (vectors) => {
          const length = Math.min(...vectors.map((v) => v.length))
          const trimmed = vectors.map((v) => v.slice(0, length))
          const encrypted = trimmed.map((v) => bfvEncryptVector(keys.publicKey, v))
          try {
            using total = bfvSum(encrypted)
            const expected = trimmed[0]!.map((_, i) => trimmed.reduce((s, v) => s + v[i]!, 0))
            expect(Array.from(bfvDecryptVector(keys.secretKey, total))).toEqual(expected)
          } finally {
            disposeAll(encrypted)
          }
        }
      ),
      { numRuns: 8, seed: 20250 }
    )
  })

  it('wraps modulo t past the bound, and the declared maxAbs catches it', () => {
    const max = bfvMaxAbs(ctx)
    using a = bfvEncryptVector(keys.publicKey, [max, -max, 1])
    using b = bfvEncryptVector(keys.publicKey, [1, -1, 1])
    using sum = bfvAdd(a, b)
    // (t-1)/2 + 1 wraps to -(t-1)/2: a plausible but wrong value.
    expect(Array.from(bfvDecryptVector(keys.secretKey, sum))).toEqual([-max, max, 2])
    expect(() => bfvDecryptVector(keys.secretKey, sum, { maxAbs: max - 1 })).toThrow(
      expect.objectContaining({ code: 'COHORT_HE_DECODE_OVERFLOW' })
    )
  })

  it('refuses values outside the plain range and non-integers', () => {
    const max = bfvMaxAbs(ctx)
    for (const bad of [max + 1, -max - 1, 0.5, Number.NaN, 2 ** 60]) {
      expect(() => bfvEncryptVector(keys.publicKey, [0, bad])).toThrow(
        expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
      )
    }
    expect(() => bfvEncryptVector(keys.publicKey, [])).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
  })

  it('refuses to add vectors of different lengths', () => {
    using a = bfvEncryptVector(keys.publicKey, [1, 2, 3])
    using b = bfvEncryptVector(keys.publicKey, [1, 2])
    expect(() => bfvAdd(a, b)).toThrow(expect.objectContaining({ code: 'COHORT_HE_PARAMETER_MISMATCH' }))
    expect(() => bfvSum([])).toThrow(expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' }))
  })

  it('does not decrypt under another secret key to the same values', () => {
    using other = generateKeys(ctx)
    using a = bfvEncryptVector(keys.publicKey, [1, 2, 3])
    let values: number[] | undefined
    try {
      values = Array.from(bfvDecryptVector(other.secretKey, a))
    } catch (err) {
      expect(err).toMatchObject({ code: 'COHORT_HE_DECODE_OVERFLOW' }) // noise budget 0
    }
    if (values !== undefined) expect(values).not.toEqual([1, 2, 3])
  })

  it('throws HeDisposedError for a disposed vector', () => {
    const a = bfvEncryptVector(keys.publicKey, [1])
    a.dispose()
    a.dispose() // idempotent
    expect(a.disposed).toBe(true)
    expect(() => bfvDecryptVector(keys.secretKey, a)).toThrow(
      expect.objectContaining({ code: 'COHORT_HE_DISPOSED' })
    )
  })
})
