import { createHash } from 'node:crypto'
import { x25519 as nobleX25519 } from '@noble/curves/ed25519.js'
import { describe, expect, it } from 'vitest'
import {
  blindPoints,
  hashAndBlind,
  hashIds,
  hashIdToPoint,
  intersectIndices,
  PSI_LABEL,
  psiKeygen
} from '../../../crypto/psi/blind.ts'
import { hex, toHex, x25519Vectors } from '../../vectors/load.ts'

const salt = Uint8Array.from({ length: 32 }, (_, i) => i)

describe('hashIdToPoint', () => {
  it('is SHA-256(label || salt || utf8(id)) with bit 255 cleared', () => {
    const d = createHash('sha256').update(PSI_LABEL).update(salt).update('ünïcode-id', 'utf8').digest()
    d[31]! &= 0x7f
    expect(toHex(hashIdToPoint('ünïcode-id', salt))).toBe(d.toString('hex'))
  })

  it('depends on the salt and the id, and packs batches in order', () => {
    const other = salt.slice()
    other[0] = 99
    expect(toHex(hashIdToPoint('a', salt))).not.toBe(toHex(hashIdToPoint('a', other)))
    const packed = hashIds(['a', 'b', 'c'], salt)
    expect(packed).toHaveLength(96)
    expect(toHex(packed.subarray(32, 64))).toBe(toHex(hashIdToPoint('b', salt)))
    for (let i = 0; i < 3; i++) expect(packed[32 * i + 31]! & 0x80).toBe(0)
  })

  it('checks its arguments', () => {
    expect(() => hashIds(['a'], salt.subarray(1))).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
    expect(() => hashIds(['a', ''], salt)).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
  })
})

describe('blindPoints', () => {
  it('is X25519(key, u) (checked against noble)', () => {
    const key = psiKeygen()
    const points = hashIds(['x', 'y'], salt)
    const out = blindPoints(key, points)
    expect(toHex(out.subarray(0, 32))).toBe(toHex(nobleX25519.getSharedSecret(key, points.subarray(0, 32))))
    expect(toHex(out.subarray(32))).toBe(toHex(nobleX25519.getSharedSecret(key, points.subarray(32))))
  })

  it('commutes: blind_b(blind_a(H(id))) = blind_a(blind_b(H(id)))', () => {
    const a = psiKeygen()
    const b = psiKeygen()
    const ids = ['alice@example.com', 'bob@example.com', '42']
    const ab = blindPoints(b, hashAndBlind(ids, salt, a))
    const ba = blindPoints(a, hashAndBlind(ids, salt, b))
    expect(toHex(ab)).toBe(toHex(ba))
    expect(toHex(hashAndBlind(ids, salt, a))).not.toBe(toHex(hashAndBlind(ids, salt, b)))
  })

  it('a full DH-PSI run finds exactly the common ids', () => {
    const a = psiKeygen()
    const b = psiKeygen()
    const mine = ['u1', 'u2', 'u3', 'u4', 'u5']
    const theirs = ['u9', 'u4', 'u2', 'u7']
    const mineDouble = blindPoints(b, hashAndBlind(mine, salt, a)) // A sends blind_a, B blinds again
    const theirsDouble = blindPoints(a, hashAndBlind(theirs, salt, b)) // B sends blind_b, A blinds again
    expect(intersectIndices(mineDouble, theirsDouble).map((i) => mine[i])).toEqual(['u2', 'u4'])
  })

  it('rejects low-order points (a malicious peer cannot learn anything about the key mod 8)', () => {
    const key = psiKeygen()
    for (const p of x25519Vectors().lowOrder.points) {
      const batch = new Uint8Array(96)
      batch.set(hashIdToPoint('ok', salt), 0)
      batch.set(hex(p), 32)
      expect(() => blindPoints(key, batch), p).toThrow(
        expect.objectContaining({ code: 'COHORT_LOW_ORDER_POINT' })
      )
    }
  })

  it('refuses partial points and wrong key lengths', () => {
    expect(() => blindPoints(psiKeygen(), new Uint8Array(33))).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
    expect(() => blindPoints(new Uint8Array(31), new Uint8Array(32))).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
  })
})
