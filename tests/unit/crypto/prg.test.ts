import { ctr } from '@noble/ciphers/aes.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { describe, expect, it } from 'vitest'
import { __TEST, addMask, PRG_LABEL, prgExpand, prgFill, subMask } from '../../../crypto/prg.ts'
import { hex, prgGoldenVectors, toHex } from '../../vectors/load.ts'

const seed = Uint8Array.from({ length: 32 }, (_, i) => 100 + i)

/** Independent reference: noble HKDF + noble AES-CTR, elements read little-endian. */
function reference(s: Uint8Array, d: number, k: number, offset = 0): bigint[] {
  const info = new TextEncoder().encode(`${PRG_LABEL}\0`)
  const okm = hkdf(sha256, s, undefined, info, 32)
  const width = k <= 32 ? 4 : 8
  const ks = ctr(okm.slice(0, 16), okm.slice(16)).encrypt(new Uint8Array((offset + d) * width))
  const view = new DataView(ks.buffer, ks.byteOffset)
  const out: bigint[] = []
  for (let i = offset; i < offset + d; i++) {
    const v = width === 4 ? BigInt(view.getUint32(4 * i, true)) : view.getBigUint64(8 * i, true)
    out.push(BigInt.asUintN(k, v))
  }
  return out
}

const asBig = (v: ArrayLike<number | bigint>): bigint[] => Array.from(v, (x) => BigInt(x))

describe('prgExpand', () => {
  for (const c of prgGoldenVectors().cases) {
    it(`golden ${c.name}: same seed -> same vector across runs`, () => {
      const v = prgExpand(hex(c.seed), c.values.length, { k: c.k, offset: c.offset })
      expect(Array.from(v as ArrayLike<number | bigint>, String)).toEqual(c.values)
    })
  }

  it.each([32, 17, 1, 33, 48, 62])('k = %i matches an independent noble AES-CTR implementation', (k) => {
    expect(asBig(prgExpand(seed, 300, { k }))).toEqual(reference(seed, 300, k))
    expect(asBig(prgExpand(seed, 50, { k, offset: 1001 }))).toEqual(reference(seed, 50, k, 1001))
  })

  it('uses Uint32Array for k <= 32 and BigUint64Array above, every element < 2^k', () => {
    const v8 = prgExpand(seed, 4096, { k: 8 }) as Uint32Array
    expect(v8).toBeInstanceOf(Uint32Array)
    expect(Math.max(...v8)).toBeLessThan(256)
    expect(Math.max(...v8)).toBeGreaterThan(200) // not degenerate
    const v40 = prgExpand(seed, 1000, { k: 40 }) as BigUint64Array
    expect(v40).toBeInstanceOf(BigUint64Array)
    for (const x of v40) expect(x < 1n << 40n).toBe(true)
  })

  it('chunked generation equals one-shot generation (offsets across 64 KiB chunks and AES blocks)', () => {
    const d = 70_001
    const whole = prgExpand(seed, d) as Uint32Array
    for (const cut of [1, 3, 16_383, 16_384, 16_385, 50_001]) {
      const a = prgExpand(seed, cut) as Uint32Array
      const b = new Uint32Array(d - cut)
      prgFill(seed, b, { offset: cut })
      expect(toHex(new Uint8Array(a.buffer))).toBe(toHex(new Uint8Array(whole.buffer, 0, cut * 4)))
      expect(toHex(new Uint8Array(b.buffer))).toBe(toHex(new Uint8Array(whole.buffer, cut * 4)))
    }
  })

  it('different seeds give different vectors', () => {
    const other = seed.slice()
    other[0]! ^= 1
    expect(toHex(new Uint8Array((prgExpand(seed, 8) as Uint32Array).buffer))).not.toBe(
      toHex(new Uint8Array((prgExpand(other, 8) as Uint32Array).buffer))
    )
  })

  it('checks its arguments', () => {
    const arg = expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    expect(() => prgExpand(seed.subarray(1), 4)).toThrow(arg)
    expect(() => prgExpand(seed, 4, { k: 63 })).toThrow(arg)
    expect(() => prgExpand(seed, 4, { k: 0 })).toThrow(arg)
    expect(() => prgExpand(seed, -1)).toThrow(arg)
    expect(() => prgExpand(seed, 4, { offset: -1 })).toThrow(arg)
    expect(() => prgFill(seed, new Uint32Array(4), { k: 40 })).toThrow(arg)
    expect(() => prgFill(seed, new BigUint64Array(4), { k: 32 })).toThrow(arg)
  })
})

describe('AES-CTR counter arithmetic', () => {
  const key = Uint8Array.from({ length: 16 }, (_, i) => i)
  it.each([
    ['2^128 - 1 (wraps to 0)', (1n << 128n) - 1n],
    ['2^32 - 1 (carry out of the low word)', (1n << 32n) - 1n],
    ['2^64 - 2', (1n << 64n) - 2n]
  ])('starting a stream mid-way equals the contiguous stream, counter %s', (_, iv0) => {
    const contiguous = __TEST.keystream(key, iv0, 0, 160)
    for (const off of [16, 17, 32, 47]) {
      expect(toHex(__TEST.keystream(key, iv0, off, 160 - off))).toBe(toHex(contiguous.subarray(off)))
    }
  })
})

describe('addMask / subMask', () => {
  it.each([32, 12, 45])('k = %i: add is vec + PRG mod 2^k, sub undoes it', (k) => {
    const d = 20_000
    const mask = prgExpand(seed, d, { k })
    const x = prgExpand(crypto.getRandomValues(new Uint8Array(32)), d, { k })
    const y = x.slice()
    addMask(y, seed, { k })
    const M = 1n << BigInt(k)
    for (let i = 0; i < d; i += 997) {
      expect(BigInt(y[i]!)).toBe((BigInt(x[i]!) + BigInt(mask[i]!)) % M)
    }
    subMask(y, seed, { k })
    expect(asBig(y)).toEqual(asBig(x))
  })

  it('masks a slice with the matching offset', () => {
    const d = 40_000
    const full = new Uint32Array(d)
    addMask(full, seed)
    const part = new Uint32Array(d - 12_345)
    addMask(part, seed, { offset: 12_345 })
    expect(toHex(new Uint8Array(part.buffer))).toBe(toHex(new Uint8Array(full.buffer, 12_345 * 4)))
  })
})
