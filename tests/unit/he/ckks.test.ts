import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ckksAdd,
  ckksAddInPlace,
  ckksDecryptVector,
  ckksEncryptVector,
  ckksMultiplyPlain,
  ckksRotateSum
} from '../../../crypto/he/ckks.ts'
import { createHeContext } from '../../../crypto/he/context.ts'
import type { HeContext } from '../../../crypto/he/context.ts'
import { generateKeys, rotateSumSteps } from '../../../crypto/he/keys.ts'
import type { HeKeySet } from '../../../crypto/he/keys.ts'
import { seededRandom } from '../../helpers/seeded-random.ts'

let ctx: HeContext
let keys: HeKeySet

beforeAll(async () => {
  ctx = await createHeContext('ckks-8192')
  keys = generateKeys(ctx, { galois: true })
})

afterAll(() => {
  keys.dispose()
  ctx.dispose()
})

/** Uniform reals in [lo, hi) with 2^-32 resolution. */
function randomReals(seed: string, length: number, lo: number, hi: number): number[] {
  const rng = seededRandom(seed)
  return Array.from({ length }, () => lo + ((hi - lo) * rng.nextUint32()) / 2 ** 32)
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0)

describe('ckks-8192 preset', () => {
  it('has 4096 slots, scale 2^40, three data levels and power-of-two rotation steps', () => {
    expect(ctx.slotCount).toBe(4096)
    expect(ctx.scale).toBe(2 ** 40)
    expect(ctx.dataParmsIds).toHaveLength(3)
    expect(ctx.coeffModuli.map((q) => q.toString(2).length)).toEqual([60, 40, 40])
    expect(rotateSumSteps(ctx)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048])
  })
})

describe('CKKS vectors', () => {
  it('rotate-and-sum of a 4096-element vector is within 1e-6 relative of the plaintext sum', () => {
    const x = randomReals('ckks-sum', 4096, 0, 1)
    using enc = ckksEncryptVector(keys.publicKey, x)
    using total = ckksRotateSum(enc, keys.galoisKeys!)
    const [got] = ckksDecryptVector(keys.secretKey, total)
    const want = sum(x)
    expect(Math.abs(got! - want) / Math.abs(want)).toBeLessThan(1e-6)
  })

  it('rotate-and-sum of signed values is accurate to 1e-6 of the sum of magnitudes', () => {
    const x = randomReals('ckks-signed', 4096, -100, 100)
    using enc = ckksEncryptVector(keys.publicKey, x)
    using total = ckksRotateSum(enc, keys.galoisKeys!)
    const [got] = ckksDecryptVector(keys.secretKey, total)
    expect(Math.abs(got! - sum(x))).toBeLessThan(1e-6 * sum(x.map(Math.abs)))
  })

  it('rotate-and-sum folds every chunk of a long vector (padding adds nothing)', () => {
    const x = randomReals('ckks-long', 4096 + 1000, 0, 1)
    using enc = ckksEncryptVector(keys.publicKey, x)
    expect(enc.chunks).toHaveLength(2)
    using total = ckksRotateSum(enc, keys.galoisKeys!)
    expect(total.length).toBe(1)
    const [got] = ckksDecryptVector(keys.secretKey, total)
    expect(Math.abs(got! - sum(x)) / sum(x)).toBeLessThan(1e-6)
  })

  it('encrypts, adds and decrypts element-wise', () => {
    const a = randomReals('ckks-a', 100, -5, 5)
    const b = randomReals('ckks-b', 100, -5, 5)
    using ea = ckksEncryptVector(keys.publicKey, a)
    using eb = ckksEncryptVector(keys.publicKey, b)
    using s = ckksAdd(ea, eb)
    const got = ckksDecryptVector(keys.secretKey, s)
    expect(got).toHaveLength(100)
    const maxErr = (xs: Float64Array) => Math.max(...xs.map((v, i) => Math.abs(v - (a[i]! + b[i]!))))
    expect(maxErr(got)).toBeLessThan(1e-6)
    ckksAddInPlace(ea, eb)
    expect(maxErr(ckksDecryptVector(keys.secretKey, ea))).toBeLessThan(1e-6)
  })

  it('multiplies by a plaintext vector with rescale, then rotate-and-sum gives the dot product', () => {
    const x = randomReals('ckks-dot/x', 4096, -1, 1)
    const w = randomReals('ckks-dot/w', 4096, -1, 1)
    using ex = ckksEncryptVector(keys.publicKey, x)
    using prod = ckksMultiplyPlain(ex, w)
    expect(ctx.dataLevel(prod.chunks[0]!.parmsId())).toBe(1)
    expect(Math.abs(prod.chunks[0]!.handle.scale() / ctx.scale - 1)).toBeLessThan(1e-3)
    const each = ckksDecryptVector(keys.secretKey, prod)
    expect(Math.max(...each.map((v, i) => Math.abs(v - x[i]! * w[i]!)))).toBeLessThan(1e-5)
    using dot = ckksRotateSum(prod, keys.galoisKeys!)
    const want = x.reduce((s, xi, i) => s + xi * w[i]!, 0)
    expect(Math.abs(ckksDecryptVector(keys.secretKey, dot)[0]! - want)).toBeLessThan(1e-4)
  })

  it('allows two plaintext multiplications, then reports the exhausted level', () => {
    using ex = ckksEncryptVector(keys.publicKey, [1.5, -2])
    using p1 = ckksMultiplyPlain(ex, [2, 3])
    using p2 = ckksMultiplyPlain(p1, [0.5, 0.25])
    const got = ckksDecryptVector(keys.secretKey, p2)
    expect(got[0]).toBeCloseTo(1.5, 5)
    expect(got[1]).toBeCloseTo(-1.5, 5)
    expect(() => ckksMultiplyPlain(p2, [1, 1])).toThrow(
      expect.objectContaining({ code: 'COHORT_HE_LEVEL_EXHAUSTED' })
    )
  })

  it('multiplies an all-zero chunk into a fresh zero when given the public key', () => {
    const x = randomReals('ckks-zero', 4100, -1, 1)
    const w = x.map((_, i) => (i < 4096 ? 0 : 1)) // first chunk of weights is all zeros
    using ex = ckksEncryptVector(keys.publicKey, x)
    expect(() => ckksMultiplyPlain(ex, w)).toThrow(
      expect.objectContaining({ code: 'COHORT_HE_PARAMETER_MISMATCH' })
    )
    using prod = ckksMultiplyPlain(ex, w, { publicKey: keys.publicKey })
    using dot = ckksRotateSum(prod, keys.galoisKeys!) // chunks share level and scale
    const want = x.slice(4096).reduce((s, v) => s + v, 0)
    expect(Math.abs(ckksDecryptVector(keys.secretKey, dot)[0]! - want)).toBeLessThan(1e-5)
  })

  it('refuses to add a fresh ciphertext to a product (level and scale differ)', () => {
    using a = ckksEncryptVector(keys.publicKey, [1, 2])
    using b = ckksMultiplyPlain(a, [1, 1])
    expect(() => ckksAdd(a, b)).toThrow(expect.objectContaining({ code: 'COHORT_HE_PARAMETER_MISMATCH' }))
  })

  it('refuses a rotate-and-sum without the rotation keys', () => {
    using partial = generateKeys(ctx, { galois: [1, 2] })
    using a = ckksEncryptVector(keys.publicKey, [1, 2, 3])
    expect(() => ckksRotateSum(a, partial.galoisKeys!)).toThrow(
      expect.objectContaining({ code: 'COHORT_HE_PARAMETER_MISMATCH' })
    )
  })

  it('refuses values that are not finite or too large, and weights of another length', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 2 ** 19]) {
      expect(() => ckksEncryptVector(keys.publicKey, [bad])).toThrow(
        expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
      )
    }
    using a = ckksEncryptVector(keys.publicKey, [1, 2])
    expect(() => ckksMultiplyPlain(a, [1])).toThrow(
      expect.objectContaining({ code: 'COHORT_HE_PARAMETER_MISMATCH' })
    )
  })
})
