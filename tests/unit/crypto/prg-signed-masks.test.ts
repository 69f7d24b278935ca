import { describe, expect, it } from 'vitest'
import { FOLD_ELEMENTS, makeRingFolder } from '../../../crypto/_ring-fold.ts'
import { __TEST, applySignedMasks, prgExpand } from '../../../crypto/prg.ts'
import type { SignedSeed } from '../../../crypto/prg.ts'

/** xorshift32: deterministic test data only. */
function rng(seed: number) {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return x >>> 0
  }
}

const big = (v: ArrayLike<number | bigint>): bigint[] => Array.from(v, (x) => BigInt(x))

const seedOf = (i: number) => Uint8Array.from({ length: 32 }, (_, j) => (i * 31 + j * 7) & 0xff)

function termsOf(count: number, r: () => number): SignedSeed[] {
  return Array.from({ length: count }, (_, i) => ({ seed: seedOf(i + 1), sign: r() & 1 ? 1 : -1 }))
}

/** Reference: x + Σ sign · prgExpand(seed) in BigInt (prgExpand is checked against noble in prg.test.ts). */
function reference(x: ArrayLike<number | bigint>, terms: SignedSeed[], k: number, offset: number): bigint[] {
  const M = 1n << BigInt(k)
  const out = Array.from(x, (v) => BigInt(v))
  for (const t of terms) {
    const m = prgExpand(t.seed, out.length, { k, offset })
    for (let i = 0; i < out.length; i++) out[i] = (((out[i]! + BigInt(t.sign) * BigInt(m[i]!)) % M) + M) % M
  }
  return out
}

function input(d: number, k: number, r: () => number) {
  if (k <= 32) return Uint32Array.from({ length: d }, () => (k === 32 ? r() : r() & (2 ** k - 1)))
  return BigUint64Array.from({ length: d }, () => BigInt.asUintN(k, (BigInt(r()) << 32n) | BigInt(r())))
}

describe('applySignedMasks', () => {
  it.each([
    // k, d, offset, terms: term counts cover full groups of four, each remainder and none
    [32, 0, 0, 3],
    [32, 1, 0, 1],
    [32, 7, 3, 2],
    [32, FOLD_ELEMENTS + 5, 0, 16],
    [32, 2 * FOLD_ELEMENTS + 3, 12_345, 7],
    [17, FOLD_ELEMENTS - 1, 1, 5],
    [1, 1000, 2, 9],
    [31, 333, 0, 4],
    [45, 3000, 5, 3]
  ])(
    'k = %i, d = %i, offset = %i, %i terms: equals x + Σ sign · PRG(seed) mod 2^k',
    (k, d, offset, count) => {
      const r = rng(k * 1000 + d + count)
      const x = input(d, k, r)
      const terms = termsOf(count, r)
      const y = x.slice()
      applySignedMasks(y, terms, { k, offset })
      expect(big(y)).toEqual(reference(x, terms, k, offset))
    }
  )

  it('an empty term list leaves the vector as it is', () => {
    const y = Uint32Array.of(1, 2, 3)
    applySignedMasks(y, [], { k: 2 })
    expect(Array.from(y)).toEqual([1, 2, 3])
  })

  it('touches only its window when the vector is a view into a larger buffer', () => {
    const r = rng(7)
    const whole = input(40_000, 32, r) as Uint32Array
    const before = whole.slice()
    const window = whole.subarray(3, 3 + 20_001) // byteOffset 12: not 16-aligned
    const terms = termsOf(6, r)
    applySignedMasks(window, terms, { offset: 3 })
    expect(Array.from(whole.subarray(0, 3))).toEqual(Array.from(before.subarray(0, 3)))
    expect(Array.from(whole.subarray(3 + 20_001))).toEqual(Array.from(before.subarray(3 + 20_001)))
    expect(big(window)).toEqual(reference(before.subarray(3, 3 + 20_001), terms, 32, 3))
  })

  it('adding then subtracting the same terms restores the input', () => {
    const r = rng(99)
    const x = input(50_000, 24, r)
    const terms = termsOf(11, r)
    const y = x.slice()
    applySignedMasks(y, terms, { k: 24 })
    expect(Buffer.from(y.buffer).equals(Buffer.from(x.buffer))).toBe(false)
    applySignedMasks(
      y,
      terms.map((t) => ({ seed: t.seed, sign: -t.sign as 1 | -1 })),
      { k: 24 }
    )
    expect(Buffer.from(y.buffer).equals(Buffer.from(x.buffer))).toBe(true)
  })

  it('leaves no input or keystream behind in its scratch memory', () => {
    const r = rng(5)
    applySignedMasks(input(FOLD_ELEMENTS + 77, 32, r), termsOf(5, r))
    const folder = __TEST.sharedFolder()!
    expect(folder.acc.every((w) => w === 0)).toBe(true)
    for (const s of folder.slots) expect(s.every((w) => w === 0)).toBe(true)
  })

  it('rejects malformed terms and vectors with CryptoArgumentError', () => {
    const arg = expect.objectContaining({ name: 'CryptoArgumentError' })
    const y = new Uint32Array(4)
    expect(() => applySignedMasks(y, [{ seed: seedOf(1), sign: 2 as 1 }])).toThrow(arg)
    expect(() => applySignedMasks(y, [{ seed: seedOf(1).subarray(1), sign: 1 }])).toThrow(arg)
    expect(() => applySignedMasks(y, 'x' as unknown as SignedSeed[])).toThrow(arg)
    expect(() => applySignedMasks(new BigUint64Array(4), [{ seed: seedOf(1), sign: 1 }])).toThrow(arg)
    expect(() => applySignedMasks(y, [{ seed: seedOf(1), sign: 1 }], { offset: -1 })).toThrow(arg)
  })
})

describe('ring folder (crypto/_ring-fold.ts)', () => {
  it('uses WebAssembly SIMD on this runtime', () => {
    expect(makeRingFolder().kind).toBe('simd')
    expect(makeRingFolder({ portable: true }).kind).toBe('js')
  })

  it.each([1, 3, 4, 1001, FOLD_ELEMENTS])(
    'SIMD and JS kernels agree with a BigInt reference (n = %i)',
    (n) => {
      const r = rng(n)
      const simd = makeRingFolder()
      const js = makeRingFolder({ portable: true })
      for (const [flips, mask] of [
        [[0, -1, 0, -1], -1],
        [[-1, -1, -1, -1], 0x1ffff],
        [[0, 0, 0, 0], 1]
      ] as const) {
        const acc = Int32Array.from({ length: n }, () => r() | 0)
        const slots = [0, 1, 2, 3].map(() => Int32Array.from({ length: n }, () => r() | 0))
        const carry = -(flips[0] + flips[1] + flips[2] + flips[3])
        const expected = Array.from({ length: n }, (_, i) => {
          let s = BigInt(acc[i]!) + BigInt(carry)
          for (let q = 0; q < 4; q++) s += BigInt(slots[q]![i]! ^ flips[q]!)
          return Number(BigInt.asIntN(32, s & BigInt.asUintN(32, BigInt(mask))))
        })
        for (const f of [simd, js]) {
          f.acc.set(acc)
          for (let q = 0; q < 4; q++) f.slots[q]!.set(slots[q]!)
          f.fold(n, flips[0], flips[1], flips[2], flips[3], carry, mask)
          expect(Array.from(f.acc.subarray(0, n)), f.kind).toEqual(expected)
        }
      }
      for (const f of [simd, js]) {
        f.wipe()
        expect(f.acc.every((w) => w === 0) && f.slots.every((s) => s.every((w) => w === 0))).toBe(true)
      }
    }
  )
})
