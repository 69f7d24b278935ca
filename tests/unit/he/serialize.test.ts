import { zstdCompressSync, zstdDecompressSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bfvDecryptVector, bfvEncryptVector } from '../../../crypto/he/bfv.ts'
import {
  ckksDecryptVector,
  ckksEncryptVector,
  ckksMultiplyPlain,
  ckksRotateSum
} from '../../../crypto/he/ckks.ts'
import { createHeContext } from '../../../crypto/he/context.ts'
import type { HeContext } from '../../../crypto/he/context.ts'
import { generateKeys } from '../../../crypto/he/keys.ts'
import type { HeKeySet } from '../../../crypto/he/keys.ts'
import { getSealRuntime } from '../../../crypto/he/runtime.ts'
import {
  loadBfvVector,
  loadCiphertext,
  loadCkksVector,
  loadGaloisKeys,
  loadPublicKey,
  loadRelinKeys,
  loadSecretKey,
  loadVector,
  saveCiphertext,
  saveGaloisKeys,
  savePublicKey,
  saveRelinKeys,
  saveSecretKey,
  saveVector
} from '../../../crypto/he/serialize.ts'
import { seededRandom } from '../../helpers/seeded-random.ts'

let bfv: HeContext
let ckks: HeContext
let bk: HeKeySet
let ck: HeKeySet

beforeAll(async () => {
  bfv = await createHeContext('bfv-8192')
  ckks = await createHeContext('ckks-8192')
  bk = generateKeys(bfv, { relin: true })
  ck = generateKeys(ckks, { galois: true })
})

afterAll(() => {
  for (const d of [bk, ck, bfv, ckks]) d.dispose()
})

const code = (c: string) => expect.objectContaining({ code: c })

/** Re-frames a SEAL payload as a zstd SEAL object (what a tampering peer would send). */
function frame(payload: Uint8Array): Uint8Array {
  const body = zstdCompressSync(payload)
  const out = new Uint8Array(16 + body.length)
  out.set([0x5e, 0xa1, 0x10, 0x04, 0x01, 0x02, 0, 0])
  new DataView(out.buffer).setBigUint64(8, BigInt(out.length), true)
  out.set(body, 16)
  return out
}

function payloadOf(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(zstdDecompressSync(bytes.subarray(16)))
}

describe('round trips', () => {
  it('a BFV vector of several chunks survives save/load, within the size limit', () => {
    const values = Array.from({ length: 9000 }, (_, i) => i - 4500)
    using vec = bfvEncryptVector(bk.publicKey, values)
    const wire = saveVector(vec)
    expect(wire.chunks).toHaveLength(2)
    for (const c of wire.chunks) {
      expect(c.length).toBeLessThanOrEqual(bfv.limits.ciphertextBytes)
      expect(c.length).toBeGreaterThan(400_000) // ~430 kB each
    }
    using back = loadBfvVector(bfv, wire, { expectedLength: 9000 })
    expect(Array.from(bfvDecryptVector(bk.secretKey, back))).toEqual(values)
  })

  it('public and secret keys survive save/load and interoperate with the originals', () => {
    const pkBytes = savePublicKey(bk.publicKey)
    const skBytes = saveSecretKey(bk.secretKey)
    expect(pkBytes.length).toBeLessThanOrEqual(bfv.limits.publicKeyBytes)
    expect(skBytes.length).toBeLessThanOrEqual(bfv.limits.secretKeyBytes)
    using pk = loadPublicKey(bfv, pkBytes)
    using sk = loadSecretKey(bfv, skBytes)
    using a = bfvEncryptVector(pk, [7, -8, 9])
    expect(Array.from(bfvDecryptVector(bk.secretKey, a))).toEqual([7, -8, 9])
    using b = bfvEncryptVector(bk.publicKey, [1, 2])
    expect(Array.from(bfvDecryptVector(sk, b))).toEqual([1, 2])
  })

  it('relinearization and Galois keys survive save/load', () => {
    const rkBytes = saveRelinKeys(bk.relinKeys!)
    expect(rkBytes.length).toBeLessThanOrEqual(bfv.limits.relinKeysBytes)
    using rk = loadRelinKeys(bfv, rkBytes)
    expect(rk.handle.size()).toBe(bk.relinKeys!.handle.size())
    const gkBytes = saveGaloisKeys(ck.galoisKeys!)
    expect(gkBytes.length).toBeLessThanOrEqual(ckks.limits.galoisKeysBytes)
    using gk = loadGaloisKeys(ckks, gkBytes)
    using v = ckksEncryptVector(ck.publicKey, [1, 2, 3, 4])
    using s = ckksRotateSum(v, gk)
    expect(ckksDecryptVector(ck.secretKey, s)[0]).toBeCloseTo(10, 5)
  })

  it('a CKKS ciphertext one level down (after a product) loads too', () => {
    using v = ckksEncryptVector(ck.publicKey, [2, 3])
    using p = ckksMultiplyPlain(v, [4, 5])
    using back = loadCiphertext(ckks, saveCiphertext(p.chunks[0]!))
    expect(ckks.dataLevel(back.parmsId())).toBe(1)
    using vec = loadCkksVector(ckks, saveVector(p))
    const got = ckksDecryptVector(ck.secretKey, vec)
    expect(got[0]).toBeCloseTo(8, 5)
    expect(got[1]).toBeCloseTo(15, 5)
  })
})

describe('rejection of bad bytes', () => {
  let ctBytes: Uint8Array
  beforeAll(() => {
    using v = bfvEncryptVector(bk.publicKey, [1, 2, 3])
    ctBytes = saveCiphertext(v.chunks[0]!)
  })

  it('refuses bytes over the size limit before parsing them', () => {
    expect(() => loadCiphertext(bfv, new Uint8Array(bfv.limits.ciphertextBytes + 1))).toThrow(
      code('COHORT_HE_SIZE_LIMIT')
    )
    expect(() => loadPublicKey(bfv, new Uint8Array(bfv.limits.publicKeyBytes + 1))).toThrow(
      code('COHORT_HE_SIZE_LIMIT')
    )
  })

  it('refuses a zstd bomb as oversized instead of inflating it', () => {
    const bomb = frame(new Uint8Array(bfv.rawLimits.ciphertext + 4096))
    expect(bomb.length).toBeLessThan(2000)
    expect(() => loadCiphertext(bfv, bomb)).toThrow(code('COHORT_HE_SIZE_LIMIT'))
  })

  it('refuses garbage, empty, truncated and re-sized bytes', () => {
    const rng = seededRandom('he-garbage')
    const garbage = Uint8Array.from({ length: 5000 }, () => rng.uniformInt(256))
    expect(() => loadCiphertext(bfv, garbage)).toThrow(code('COHORT_HE_MALFORMED'))
    expect(() => loadCiphertext(bfv, new Uint8Array(0))).toThrow(code('COHORT_HE_MALFORMED'))
    expect(() => loadCiphertext(bfv, ctBytes.subarray(0, ctBytes.length - 100))).toThrow(
      code('COHORT_HE_MALFORMED')
    )
    expect(() => loadCiphertext(bfv, ctBytes.subarray(0, 16))).toThrow(code('COHORT_HE_MALFORMED'))
    const corruptStream = ctBytes.slice()
    corruptStream.fill(0xff, 16, 64)
    expect(() => loadCiphertext(bfv, corruptStream)).toThrow(code('COHORT_HE_MALFORMED'))
    expect(() => loadCiphertext(bfv, 'bytes' as unknown as Uint8Array)).toThrow(
      code('COHORT_CRYPTO_ARGUMENT')
    )
  })

  it('refuses objects made under other parameters, or of another kind', () => {
    using c = ckksEncryptVector(ck.publicKey, [1])
    expect(() => loadCiphertext(bfv, saveCiphertext(c.chunks[0]!))).toThrow(
      code('COHORT_HE_PARAMETER_MISMATCH')
    )
    expect(() => loadPublicKey(bfv, savePublicKey(ck.publicKey))).toThrow(
      code('COHORT_HE_PARAMETER_MISMATCH')
    )
    expect(() => loadSecretKey(bfv, saveSecretKey(ck.secretKey))).toThrow(
      code('COHORT_HE_PARAMETER_MISMATCH')
    )
    expect(() => loadPublicKey(bfv, ctBytes)).toThrow(code('COHORT_HE_PARAMETER_MISMATCH'))
    expect(() => loadRelinKeys(bfv, savePublicKey(bk.publicKey))).toThrow(code('COHORT_HE_MALFORMED'))
    // BFV objects are larger than the CKKS limits allow: refused on size before anything else.
    expect(() => loadCiphertext(ckks, ctBytes)).toThrow(code('COHORT_HE_SIZE_LIMIT'))
    expect(() => loadPublicKey(ckks, savePublicKey(bk.publicKey))).toThrow(code('COHORT_HE_SIZE_LIMIT'))
  })

  it('refuses a ciphertext with an unreduced coefficient, repeatedly, without damaging the runtime', async () => {
    const rt = await getSealRuntime()
    const payload = payloadOf(ctBytes)
    // Last coefficient of the data (a uint64 at the end) set to 2^64 - 1 > every prime.
    payload.fill(0xff, payload.length - 8)
    const tampered = frame(payload)
    const sp = rt.stackGet()
    for (let i = 0; i < 300; i++) {
      expect(() => loadCiphertext(bfv, tampered)).toThrow(code('COHORT_HE_MALFORMED'))
    }
    // Each escaped C++ exception would leak 16-48 bytes of the 64 KiB wasm stack without the guard.
    expect(rt.stackGet()).toBe(sp)
    using v = bfvEncryptVector(bk.publicKey, [4, 5])
    expect(Array.from(bfvDecryptVector(bk.secretKey, v))).toEqual([4, 5])
  })

  it('refuses a ciphertext of size 3 and key-switching keys with absurd counts', () => {
    const size3 = payloadOf(ctBytes)
    new DataView(size3.buffer).setBigUint64(33, 3n, true)
    expect(() => loadCiphertext(bfv, frame(size3))).toThrow(code('COHORT_HE_MALFORMED'))
    const rk = payloadOf(saveRelinKeys(bk.relinKeys!))
    const huge = rk.slice()
    new DataView(huge.buffer).setBigUint64(32, 2n ** 40n, true)
    expect(() => loadRelinKeys(bfv, frame(huge))).toThrow(code('COHORT_HE_MALFORMED'))
    const extra = new Uint8Array(rk.length + 8)
    extra.set(rk)
    expect(() => loadRelinKeys(bfv, frame(extra))).toThrow(code('COHORT_HE_MALFORMED'))
  })

  it('checks a serialized vector record before loading its chunks', () => {
    using vec = bfvEncryptVector(bk.publicKey, [1, 2, 3])
    const wire = saveVector(vec)
    expect(() => loadVector(bfv, { ...wire, length: 8193 })).toThrow(code('COHORT_CRYPTO_ARGUMENT'))
    expect(() => loadVector(bfv, { ...wire, length: 0 })).toThrow(code('COHORT_CRYPTO_ARGUMENT'))
    expect(() => loadVector(bfv, wire, { maxLength: 2 })).toThrow(code('COHORT_CRYPTO_ARGUMENT'))
    expect(() => loadVector(bfv, wire, { expectedLength: 4 })).toThrow(code('COHORT_HE_PARAMETER_MISMATCH'))
    expect(() => loadVector(ckks, wire)).toThrow(code('COHORT_HE_PARAMETER_MISMATCH'))
    expect(() => loadCkksVector(bfv, wire)).toThrow(code('COHORT_HE_PARAMETER_MISMATCH'))
    expect(() => loadVector(bfv, { ...wire, chunks: [new Uint8Array(10)] })).toThrow(
      code('COHORT_HE_MALFORMED')
    )
    expect(() => loadVector(bfv, null as never)).toThrow(code('COHORT_CRYPTO_ARGUMENT'))
  })
})
