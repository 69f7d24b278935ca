import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ckksDecryptVector, ckksEncryptVector } from '../../crypto/he/ckks.ts'
import {
  ckksMatvec,
  generateMatvecGaloisKeys,
  matvecAssemble,
  matvecBlocks,
  matvecGaloisSteps
} from '../../crypto/he/ckks-matvec.ts'
import { createHeContext } from '../../crypto/he/context.ts'
import type { HeContext } from '../../crypto/he/context.ts'
import { disposeAll } from '../../crypto/he/dispose.ts'
import type { HeGaloisKeys, HeKeySet } from '../../crypto/he/keys.ts'
import { generateKeys } from '../../crypto/he/keys.ts'
import { seededRandom } from '../helpers/seeded-random.ts'

let ctx: HeContext
let keys: HeKeySet
let galois: HeGaloisKeys[]
const COLS = [1, 3, 8, 44, 300]

beforeAll(async () => {
  ctx = await createHeContext('ckks-8192')
  keys = generateKeys(ctx)
  const steps = new Set(COLS.flatMap((d) => matvecGaloisSteps(d)))
  galois = generateMatvecGaloisKeys(keys.secretKey, [...steps])
})

afterAll(() => {
  disposeAll(galois)
  keys.dispose()
  ctx.dispose()
})

function randomMatrix(seed: string, rows: number, cols: number, scale: number): Float64Array {
  const rng = seededRandom(seed)
  return Float64Array.from({ length: rows * cols }, () => (rng.bits(32) / 2 ** 32 - 0.5) * 2 * scale)
}

function plainProduct(x: Float64Array, r: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(cols)
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j] = out[j]! + x[i * cols + j]! * r[i]!
  return out
}

describe('matvecBlocks / matvecGaloisSteps', () => {
  it('splits columns into decreasing power-of-two blocks that cover them once', () => {
    for (const cols of [1, 2, 3, 7, 44, 119, 300, 4096, 4100, 9000]) {
      const blocks = matvecBlocks(cols)
      let next = 0
      for (const b of blocks) {
        expect(b.col0).toBe(next)
        expect(b.padded & (b.padded - 1)).toBe(0)
        expect(b.width).toBeLessThanOrEqual(b.padded)
        expect(b.col0 % b.padded).toBe(0)
        next += b.width
      }
      expect(next).toBe(cols)
    }
    expect(matvecBlocks(300).map((b) => b.padded)).toEqual([256, 64])
  })

  it('lists only positive steps below the slot count, about 2·sqrt(d) + log2(S/d)', () => {
    const steps = matvecGaloisSteps(300)
    expect(steps.every((s) => s > 0 && s < 4096 && Number.isInteger(s))).toBe(true)
    expect(new Set(steps).size).toBe(steps.length)
    expect(steps.length).toBeLessThan(60)
    expect(() => matvecGaloisSteps(0)).toThrow(/positive integer/)
  })
})

describe('ckksMatvec', () => {
  it.each(COLS)('matches the plaintext product for %i columns', (cols) => {
    const rows = cols === 300 ? 4096 : 97
    const x = randomMatrix(`x-${cols}`, rows, cols, 1)
    const r = randomMatrix(`r-${cols}`, rows, 1, 1)
    using enc = ckksEncryptVector(keys.publicKey, r)
    using product = ckksMatvec(enc, x, rows, cols, galois)
    expect(product.chunks.length).toBe(matvecBlocks(cols).length)
    const got = matvecAssemble(cols, ckksDecryptVector(keys.secretKey, product))
    const want = plainProduct(x, r, rows, cols)
    for (let j = 0; j < cols; j++) expect(Math.abs(got[j]! - want[j]!)).toBeLessThan(1e-4)
  })

  it('ignores slots of the vector beyond the matrix rows', () => {
    const x = randomMatrix('x-rows', 10, 3, 1)
    const r = randomMatrix('r-rows', 40, 1, 1)
    using enc = ckksEncryptVector(keys.publicKey, r)
    using product = ckksMatvec(enc, x, 10, 3, galois)
    const got = matvecAssemble(3, ckksDecryptVector(keys.secretKey, product))
    const want = plainProduct(x, r, 10, 3)
    for (let j = 0; j < 3; j++) expect(got[j]).toBeCloseTo(want[j]!, 5)
  })

  it('encrypts zero for an all-zero matrix when given the public key, refuses without it', () => {
    using enc = ckksEncryptVector(keys.publicKey, [1, 2, 3])
    const zeros = new Float64Array(3 * 8)
    using product = ckksMatvec(enc, zeros, 3, 8, galois, { publicKey: keys.publicKey })
    const got = matvecAssemble(8, ckksDecryptVector(keys.secretKey, product))
    for (const v of got) expect(Math.abs(v)).toBeLessThan(1e-6)
    expect(() => ckksMatvec(enc, zeros, 3, 8, galois)).toThrow(
      expect.objectContaining({ code: 'COHORT_HE_PARAMETER_MISMATCH' })
    )
  })

  it('refuses bad shapes, values and missing keys with typed errors', () => {
    using enc = ckksEncryptVector(keys.publicKey, [1, 2, 3])
    const arg = expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    expect(() => ckksMatvec(enc, new Float64Array(5), 3, 2, galois)).toThrow(arg)
    expect(() => ckksMatvec(enc, new Float64Array(6), 0, 6, galois)).toThrow(arg)
    expect(() => ckksMatvec(enc, new Float64Array(6), 5000, 6, galois)).toThrow(arg)
    expect(() => ckksMatvec(enc, [1, Number.NaN, 0, 0, 0, 0], 3, 2, galois)).toThrow(arg)
    using small = generateKeys(ctx, { galois: [1] })
    expect(() => ckksMatvec(enc, new Float64Array(12).fill(1), 3, 4, small.galoisKeys!)).toThrow(
      expect.objectContaining({ code: 'COHORT_HE_PARAMETER_MISMATCH' })
    )
  })

  it('refuses a vector with no level left for the rescale', () => {
    using enc = ckksEncryptVector(keys.publicKey, [1, 2, 3])
    using once = ckksMatvec(enc, new Float64Array([1, 1, 1]), 3, 1, galois)
    expect(() => ckksMatvec(once, new Float64Array([1]), 1, 1, galois)).toThrow(
      expect.objectContaining({ code: 'COHORT_HE_LEVEL_EXHAUSTED' })
    )
  })

  it('splits Galois keys into objects the load limits accept', () => {
    const steps = matvecGaloisSteps(300)
    const objs = generateMatvecGaloisKeys(keys.secretKey, steps)
    try {
      expect(objs.length).toBe(Math.ceil(steps.length / 12))
    } finally {
      disposeAll(objs)
    }
  })
})
