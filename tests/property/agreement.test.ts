import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { x25519PublicKey, x25519SharedSecret } from '../../crypto/agreement.ts'
import { blindPoints, hashIds } from '../../crypto/psi/blind.ts'
import { hex, toHex, x25519Vectors } from '../vectors/load.ts'

const key = fc.uint8Array({ minLength: 32, maxLength: 32 })
const lowOrder = x25519Vectors().lowOrder.points

describe('X25519 properties', () => {
  it('low-order points are rejected for every secret key', () => {
    fc.assert(
      fc.property(key, fc.constantFrom(...lowOrder), (sk, p) => {
        expect(() => x25519SharedSecret(sk, hex(p))).toThrow(
          expect.objectContaining({ code: 'COHORT_LOW_ORDER_POINT' })
        )
      }),
      { numRuns: 100 }
    )
  })

  it('agreement is symmetric', () => {
    fc.assert(
      fc.property(key, key, (a, b) => {
        expect(toHex(x25519SharedSecret(a, x25519PublicKey(b)))).toBe(
          toHex(x25519SharedSecret(b, x25519PublicKey(a)))
        )
      }),
      { numRuns: 100 }
    )
  })

  it('PSI blinding commutes for random keys and ids', () => {
    fc.assert(
      fc.property(
        key,
        key,
        fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 5 }),
        key,
        (a, b, ids, salt) => {
          const h = hashIds(ids, salt)
          expect(toHex(blindPoints(b, blindPoints(a, h)))).toBe(toHex(blindPoints(a, blindPoints(b, h))))
        }
      ),
      { numRuns: 100 }
    )
  })
})
