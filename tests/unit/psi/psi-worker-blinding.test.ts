/**
 * The worker's PEM-key blinding (crypto/psi/psi-worker.ts blindPacked) equals blindPoints and
 * node:crypto's raw-public X25519, low-order refusals included.
 */
import { diffieHellman } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { x25519PrivateKeyObject } from '../../../crypto/agreement.ts'
import { blindPoints, psiKeygen } from '../../../crypto/psi/blind.ts'
import { hashIdsToCurve } from '../../../crypto/psi/hash-to-curve.ts'
import { blindPacked } from '../../../crypto/psi/psi-worker.ts'

const P = (1n << 255n) - 19n

describe('worker blinding (PEM keys)', () => {
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

  it('equals raw-public X25519 on non-canonical and edge u-coordinates (bit 255 set, u >= p)', () => {
    const key = psiKeygen()
    const privateKey = x25519PrivateKeyObject(key)
    const le = (v: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn))
    const edges = [2n ** 256n - 1n, 2n ** 255n - 1n, P + 9n, P + 2n ** 255n + 9n, 2n ** 255n + 9n, 9n, P - 1n]
    for (const u of edges) {
      const raw = () =>
        diffieHellman({
          privateKey,
          publicKey: { key: le(u), format: 'raw-public', asymmetricKeyType: 'x25519' } as unknown as string
        })
      const mine = () => blindPacked(key, le(u))
      let want: Uint8Array | undefined
      try {
        want = raw()
      } catch {
        want = undefined
      }
      if (want === undefined || want.every((b) => b === 0)) {
        expect(mine).toThrow(expect.objectContaining({ code: 'COHORT_LOW_ORDER_POINT' }))
      } else expect(Buffer.from(mine()).equals(Buffer.from(want))).toBe(true)
    }
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
