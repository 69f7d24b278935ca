/**
 * SEAL memory is released deterministically: the WebAssembly heap (which only ever grows) stays flat
 * across many encrypt/operate/free cycles once warmed up. The heavier 10,000-cycle RSS check is
 * `npm run bench -- he-memory`.
 */
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bfvAdd, bfvDecryptVector, bfvEncryptVector } from '../../../crypto/he/bfv.ts'
import type { BfvVector } from '../../../crypto/he/ciphertext.ts'
import {
  ckksDecryptVector,
  ckksEncryptVector,
  ckksMultiplyPlain,
  ckksRotateSum
} from '../../../crypto/he/ckks.ts'
import { createHeContext } from '../../../crypto/he/context.ts'
import type { HeContext } from '../../../crypto/he/context.ts'
import { disposeAll } from '../../../crypto/he/dispose.ts'
import { generateKeys } from '../../../crypto/he/keys.ts'
import type { HeKeySet } from '../../../crypto/he/keys.ts'
import { sealHeapBytes } from '../../../crypto/he/runtime.ts'
import { loadBfvVector, loadCiphertext, saveCiphertext, saveVector } from '../../../crypto/he/serialize.ts'

const MiB = 1024 * 1024
// Wasm memory grows in large steps (Emscripten over-allocates by 20%, at least one 64 KiB page at a
// time); a leak of even one 64 KiB plaintext per cycle would add 64 MiB over 1000 cycles.
const SLACK = 8 * MiB

let bfv: HeContext
let ckks: HeContext
let bk: HeKeySet
let ck: HeKeySet
const values = Array.from({ length: 8192 }, (_, i) => (i % 201) - 100)

beforeAll(async () => {
  bfv = await createHeContext('bfv-8192')
  ckks = await createHeContext('ckks-8192')
  bk = generateKeys(bfv)
  ck = generateKeys(ckks, { galois: true })
})

afterAll(() => {
  for (const d of [bk, ck, bfv, ckks]) d.dispose()
})

/** Runs `cycle` `warmup` times, then `n` times, and returns the heap growth of the second part. */
function heapGrowth(warmup: number, n: number, cycle: (i: number) => void): number {
  for (let i = 0; i < warmup; i++) cycle(i)
  const before = sealHeapBytes()
  for (let i = 0; i < n; i++) cycle(i)
  return sealHeapBytes() - before
}

describe('SEAL memory release', () => {
  it('1,000 BFV encrypt + add + free cycles keep the wasm heap flat', () => {
    const growth = heapGrowth(20, 1000, () => {
      using v = bfvEncryptVector(bk.publicKey, values)
      using s = bfvAdd(v, v)
      if (s.chunks.length !== 1) throw new Error('unexpected chunking')
    })
    expect(growth).toBeLessThanOrEqual(SLACK)
  }, 60_000)

  it('save / load / decrypt cycles (BFV) keep the heap flat', () => {
    const growth = heapGrowth(5, 60, () => {
      using v = bfvEncryptVector(bk.publicKey, values)
      using back = loadBfvVector(bfv, saveVector(v))
      const out = bfvDecryptVector(bk.secretKey, back)
      if (out[1] !== values[1]) throw new Error('wrong decryption')
    })
    expect(growth).toBeLessThanOrEqual(SLACK)
  })

  it('CKKS encrypt / multiply / rotate-and-sum / decrypt cycles keep the heap flat', () => {
    const x = Array.from({ length: 4096 }, (_, i) => (i % 10) / 10)
    const growth = heapGrowth(3, 15, () => {
      using v = ckksEncryptVector(ck.publicKey, x)
      using p = ckksMultiplyPlain(v, x)
      using s = ckksRotateSum(p, ck.galoisKeys!)
      ckksDecryptVector(ck.secretKey, s)
    })
    expect(growth).toBeLessThanOrEqual(SLACK)
  })

  it('rejected loads (SEAL exceptions) free their temporaries and exception objects', () => {
    let tampered: Uint8Array
    {
      using v = bfvEncryptVector(bk.publicKey, [1])
      const bytes = saveCiphertext(v.chunks[0]!)
      const payload = new Uint8Array(zstdDecompressSync(bytes.subarray(16)))
      payload.fill(0xff, payload.length - 8)
      const body = zstdCompressSync(payload)
      tampered = new Uint8Array(16 + body.length)
      tampered.set(bytes.subarray(0, 16))
      new DataView(tampered.buffer).setBigUint64(8, BigInt(tampered.length), true)
      tampered.set(body, 16)
    }
    const growth = heapGrowth(10, 200, () => {
      expect(() => loadCiphertext(bfv, tampered)).toThrow(
        expect.objectContaining({ code: 'COHORT_HE_MALFORMED' })
      )
    })
    expect(growth).toBeLessThanOrEqual(SLACK)
  })

  it('control: holding 100 ciphertexts does grow the heap (the measure can see a leak)', () => {
    const held: BfvVector[] = []
    const before = sealHeapBytes()
    try {
      for (let i = 0; i < 100; i++) held.push(bfvEncryptVector(bk.publicKey, values))
      // 100 × (2 polynomials × 4 limbs × 8192 × 8 bytes) = 50 MiB of live ciphertexts.
      expect(sealHeapBytes() - before).toBeGreaterThan(20 * MiB)
    } finally {
      disposeAll(held)
    }
  })
})
