import { x25519 as nobleX25519 } from '@noble/curves/ed25519.js'
import { describe, expect, it } from 'vitest'
import { x25519Keygen, x25519PublicKey, x25519SharedSecret } from '../../../crypto/agreement.ts'
import { hex, toHex, x25519Vectors } from '../../vectors/load.ts'

const V = x25519Vectors()

describe('X25519 (RFC 7748)', () => {
  for (const v of V.scalarMult) {
    it(`§${v.section}: X25519(scalar, u)`, () => {
      expect(toHex(x25519SharedSecret(hex(v.scalar), hex(v.u)))).toBe(v.output)
    })
  }

  for (const step of V.iterated.after) {
    const run = step.slow === true && !process.env.COHORT_SLOW ? it.skip : it
    run(
      `§5.2 iterated ${step.iterations} times${step.slow ? ' (slow, COHORT_SLOW=1)' : ''}`,
      () => {
        let k = hex(V.iterated.start)
        let u = hex(V.iterated.start)
        for (let i = 0; i < step.iterations; i++) {
          const next = x25519SharedSecret(k, u)
          u = k
          k = next
        }
        expect(toHex(k)).toBe(step.k)
      },
      600_000
    )
  }

  it('§6.1: public keys and the shared secret', () => {
    const { dh } = V
    expect(toHex(x25519PublicKey(hex(dh.alicePrivate)))).toBe(dh.alicePublic)
    expect(toHex(x25519PublicKey(hex(dh.bobPrivate)))).toBe(dh.bobPublic)
    expect(toHex(x25519SharedSecret(hex(dh.alicePrivate), hex(dh.bobPublic)))).toBe(dh.shared)
    expect(toHex(x25519SharedSecret(hex(dh.bobPrivate), hex(dh.alicePublic)))).toBe(dh.shared)
  })

  it('rejects every low-order point with LowOrderPointError (all-zero check, §6.1)', () => {
    const { secretKey } = x25519Keygen()
    for (const p of V.lowOrder.points) {
      expect(() => x25519SharedSecret(secretKey, hex(p)), p).toThrow(
        expect.objectContaining({ name: 'LowOrderPointError', code: 'COHORT_LOW_ORDER_POINT' })
      )
    }
  })

  it('the listed low-order points really give zero (checked with noble, not OpenSSL)', () => {
    const scalar = hex(V.scalarMult[0]!.scalar)
    for (const p of V.lowOrder.points) expect(() => nobleX25519.getSharedSecret(scalar, hex(p)), p).toThrow()
  })

  it('keygen returns a matching pair and agreement is symmetric', () => {
    const a = x25519Keygen()
    const b = x25519Keygen()
    expect(a.secretKey).toHaveLength(32)
    expect(toHex(x25519PublicKey(a.secretKey))).toBe(toHex(a.publicKey))
    expect(toHex(x25519SharedSecret(a.secretKey, b.publicKey))).toBe(
      toHex(x25519SharedSecret(b.secretKey, a.publicKey))
    )
    expect(toHex(nobleX25519.getSharedSecret(a.secretKey, b.publicKey))).toBe(
      toHex(x25519SharedSecret(a.secretKey, b.publicKey))
    )
  })

  it('checks key lengths', () => {
    const { secretKey, publicKey } = x25519Keygen()
    expect(() => x25519SharedSecret(secretKey.subarray(1), publicKey)).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
    expect(() => x25519SharedSecret(secretKey, new Uint8Array(33))).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
    expect(() => x25519PublicKey('x' as never)).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
  })
})
