import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ckksDecryptVector, ckksEncryptVector } from '../../crypto/he/ckks.ts'
import {
  ckksMatvec,
  generateMatvecGaloisKeys,
  matvecAssemble,
  matvecGaloisSteps
} from '../../crypto/he/ckks-matvec.ts'
import { createHeContext } from '../../crypto/he/context.ts'
import type { HeContext } from '../../crypto/he/context.ts'
import { disposeAll } from '../../crypto/he/dispose.ts'
import type { HeGaloisKeys, HeKeySet } from '../../crypto/he/keys.ts'
import { generateKeys } from '../../crypto/he/keys.ts'

const MAX_COLS = 40
let ctx: HeContext
let keys: HeKeySet
let galois: HeGaloisKeys[]

beforeAll(async () => {
  ctx = await createHeContext('ckks-8192')
  keys = generateKeys(ctx)
  const steps = new Set<number>()
  for (let d = 1; d <= MAX_COLS; d++) for (const s of matvecGaloisSteps(d)) steps.add(s)
  galois = generateMatvecGaloisKeys(keys.secretKey, [...steps])
})

afterAll(() => {
  disposeAll(galois)
  keys.dispose()
  ctx.dispose()
})

describe('ckksMatvec (property)', () => {
  it('equals Xᵀr within CKKS precision for random small shapes', () => {
    const shape = fc
      .record({ rows: fc.integer({ min: 1, max: 64 }), cols: fc.integer({ min: 1, max: MAX_COLS }) })
      .chain(({ rows, cols }) =>
        fc.record({
          rows: fc.constant(rows),
          cols: fc.constant(cols),
          x: fc.array(fc.double({ min: -8, max: 8, noNaN: true }), {
            minLength: rows * cols,
            maxLength: rows * cols
          }),
          r: fc.array(fc.double({ min: -4, max: 4, noNaN: true }), { minLength: rows, maxLength: rows })
        })
      )
    fc.assert(
      fc.property(shape, ({ rows, cols, x, r }) => {
        if (x.every((v) => v === 0)) return
        using enc = ckksEncryptVector(keys.publicKey, r)
        using product = ckksMatvec(enc, x, rows, cols, galois, { publicKey: keys.publicKey })
        const got = matvecAssemble(cols, ckksDecryptVector(keys.secretKey, product))
        for (let j = 0; j < cols; j++) {
          let want = 0
          for (let i = 0; i < rows; i++) want += x[i * cols + j]! * r[i]!
          expect(Math.abs(got[j]! - want)).toBeLessThan(1e-4 * (1 + Math.abs(want)))
        }
      }),
      { numRuns: 12, seed: 7 }
    )
  })
})
