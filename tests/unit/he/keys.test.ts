import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bfvDecryptVector, bfvEncryptVector } from '../../../crypto/he/bfv.ts'
import { ckksEncryptVector } from '../../../crypto/he/ckks.ts'
import { createHeContext } from '../../../crypto/he/context.ts'
import type { HeContext } from '../../../crypto/he/context.ts'
import { generateKeys, publicKeyFingerprint } from '../../../crypto/he/keys.ts'
import { loadPublicKey, savePublicKey } from '../../../crypto/he/serialize.ts'

let ctx: HeContext
let ckks: HeContext

beforeAll(async () => {
  ctx = await createHeContext('bfv-8192')
  ckks = await createHeContext('ckks-8192')
})

afterAll(() => {
  ctx.dispose()
  ckks.dispose()
})

const code = (c: string) => expect.objectContaining({ code: c })

describe('generateKeys', () => {
  it('makes a secret and a public key, and optional relin / Galois keys', () => {
    using basic = generateKeys(ctx)
    expect(basic.relinKeys).toBeUndefined()
    expect(basic.galoisKeys).toBeUndefined()
    using full = generateKeys(ckks, { relin: true, galois: [1, -1, 7] })
    expect(full.relinKeys?.handle.size()).toBe(1)
    expect(full.galoisKeys?.handle.size()).toBe(3)
  })

  it('keys outlive the SEAL KeyGenerator that made them', () => {
    using keys = generateKeys(ctx)
    using v = bfvEncryptVector(keys.publicKey, [11, -12])
    expect(Array.from(bfvDecryptVector(keys.secretKey, v))).toEqual([11, -12])
  })

  it('dispose() frees every key once; a disposed key cannot be used', () => {
    const keys = generateKeys(ctx)
    keys.dispose()
    keys.dispose()
    expect(keys.publicKey.disposed).toBe(true)
    expect(keys.secretKey.disposed).toBe(true)
    expect(() => bfvEncryptVector(keys.publicKey, [1])).toThrow(code('COHORT_HE_DISPOSED'))
  })

  it('refuses invalid rotation steps', () => {
    for (const galois of [[0], [4096], [1.5], [], 'all' as unknown as number[]]) {
      expect(() => generateKeys(ckks, { galois })).toThrow(code('COHORT_CRYPTO_ARGUMENT'))
    }
  })

  it('keys of one scheme cannot be used with the other', () => {
    using keys = generateKeys(ctx)
    using other = generateKeys(ckks)
    expect(() => ckksEncryptVector(keys.publicKey, [1])).toThrow(code('COHORT_HE_PARAMETER_MISMATCH'))
    using v = bfvEncryptVector(keys.publicKey, [1])
    expect(() => bfvDecryptVector(other.secretKey, v)).toThrow(code('COHORT_HE_PARAMETER_MISMATCH'))
  })
})

describe('publicKeyFingerprint', () => {
  it('is a stable SHA-256 hex per key, unchanged by a save/load round trip', () => {
    using a = generateKeys(ctx)
    using b = generateKeys(ctx)
    const fa = publicKeyFingerprint(a.publicKey)
    expect(fa).toMatch(/^[0-9a-f]{64}$/)
    expect(publicKeyFingerprint(a.publicKey)).toBe(fa)
    expect(publicKeyFingerprint(b.publicKey)).not.toBe(fa)
    using loaded = loadPublicKey(ctx, savePublicKey(a.publicKey))
    expect(publicKeyFingerprint(loaded)).toBe(fa)
  })
})
