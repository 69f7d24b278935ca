import { describe, expect, it } from 'vitest'
import { x25519Keygen, x25519SharedSecret } from '../../../crypto/agreement.ts'
import { addMask } from '../../../crypto/prg.ts'
import { applyMasks, BLOCK_ELEMENTS, maskSign, pairSeed } from '../../../protocols/secagg/masking.ts'
import { openSharePair, sealSharePair } from '../../../protocols/secagg/shares.ts'

const seed = (b: number) => new Uint8Array(32).fill(b)

describe('masking', () => {
  for (const k of [32, 20, 40]) {
    it(`block-wise masking equals whole-vector masking across block boundaries (k = ${k})`, () => {
      const d = BLOCK_ELEMENTS + 1234
      const make = () => (k <= 32 ? new Uint32Array(d) : new BigUint64Array(d))
      const a = make()
      const b = make()
      const masks = [
        { seed: seed(1), sign: 1 as const },
        { seed: seed(2), sign: -1 as const },
        { seed: seed(3), sign: 1 as const }
      ]
      applyMasks(a, masks, k)
      addMask(b, seed(1), { k })
      addMask(b, seed(3), { k })
      const minus = make()
      addMask(minus, seed(2), { k })
      for (let i = 0; i < d; i++) {
        if (k <= 32)
          (b as Uint32Array)[i] = (((b as Uint32Array)[i]! - (minus as Uint32Array)[i]!) & (2 ** k - 1)) >>> 0
        else
          (b as BigUint64Array)[i] = BigInt.asUintN(
            k,
            (b as BigUint64Array)[i]! - (minus as BigUint64Array)[i]!
          )
      }
      expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true)
      applyMasks(
        a,
        masks.map((m) => ({ seed: m.seed, sign: -m.sign as 1 | -1 })),
        k
      )
      expect(a.every((x) => x === 0 || x === 0n)).toBe(true)
    })
  }

  it('derives the same pair seed at both ends, bound to job, round and pair', () => {
    const u = x25519Keygen()
    const v = x25519Keygen()
    const ctx = { jobId: 'j', round: 1, a: 'peer-u', b: 'peer-v' }
    const su = pairSeed(x25519SharedSecret(u.secretKey, v.publicKey), ctx)
    const sv = pairSeed(x25519SharedSecret(v.secretKey, u.publicKey), { ...ctx, a: 'peer-v', b: 'peer-u' })
    expect(su).toEqual(sv)
    const ss = x25519SharedSecret(u.secretKey, v.publicKey)
    expect(pairSeed(ss, { ...ctx, round: 2 })).not.toEqual(su)
    expect(pairSeed(ss, { ...ctx, jobId: 'k' })).not.toEqual(su)
    expect(maskSign(1, 2)).toBe(1)
    expect(maskSign(2, 1)).toBe(-1)
  })

  it('seals shares for one (job, round, src, dst) only', () => {
    const key = seed(9)
    const pair = { x: 7, b: new Uint8Array(66).fill(1), s: new Uint8Array(66).fill(2) }
    const route = { jobId: 'j', round: 1, src: 'a', dst: 'b' }
    const sealed = sealSharePair(key, pair, route)
    expect(openSharePair(key, sealed, route)).toEqual(pair)
    for (const other of [
      { ...route, round: 2 },
      { ...route, jobId: 'k' },
      { ...route, src: 'b', dst: 'a' }
    ]) {
      expect(() => openSharePair(key, sealed, other)).toThrow(
        expect.objectContaining({ code: 'COHORT_SECAGG_BAD_SHARE' })
      )
    }
  })
})
