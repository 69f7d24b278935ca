import { describe, expect, it } from 'vitest'
import { createRandomSource, randomSourceFromFill } from '../../../crypto/dp/random.ts'
import { seededRandom } from '../../helpers/seeded-random.ts'

/** A source that hands out a fixed list of 32-bit words, then fails. */
function scripted(words: number[]) {
  let i = 0
  return randomSourceFromFill(
    (buf) => {
      for (let k = 0; k < buf.length; k++) {
        if (i >= words.length) throw new Error('script exhausted')
        buf[k] = words[i++]!
      }
    },
    { bufferWords: 1 }
  )
}

describe('RandomSource', () => {
  it('uniformInt rejects the top partial block (no modulo bias)', () => {
    // limit for n = 6 is 2^32 - (2^32 mod 6) = 2^32 - 4, so 0xffffffff is rejected and 7 gives 7 mod 6.
    expect(scripted([0xffffffff, 7]).uniformInt(6)).toBe(1)
    expect(scripted([0xfffffffb, 8]).uniformInt(6)).toBe(0xfffffffb % 6)
  })

  it('bits(k) takes the top bits of a word, and two words above 32 bits', () => {
    expect(scripted([0xf0000000]).bits(4)).toBe(15)
    expect(scripted([0xffffffff, 5]).bits(40)).toBe(255 * 2 ** 32 + 5)
  })

  it('uniformBigInt rejects values >= n', () => {
    // n = 2^64 + 1: 65 bits = one top bit + two words; 2^64 + 1 >= n is rejected, then 3.
    const rng = scripted([0x80000000, 0, 1, 0, 0, 3])
    expect(rng.uniformBigInt(2n ** 64n + 1n)).toBe(3n)
  })

  it('stays in range for small, 2^32-crossing, 2^53 and bigint bounds', () => {
    const rng = createRandomSource()
    for (const n of [1, 2, 3, 1000, 2 ** 32, 2 ** 32 + 1, 3 * 2 ** 40 + 7, 2 ** 53]) {
      for (let i = 0; i < 200; i++) {
        const u = rng.uniformInt(n)
        expect(Number.isSafeInteger(u) || u === 2 ** 53 - 1).toBe(true)
        expect(u >= 0 && u < n).toBe(true)
      }
    }
    const big = 10n ** 40n + 3n
    for (let i = 0; i < 200; i++) {
      const u = rng.uniformBigInt(big)
      expect(u >= 0n && u < big).toBe(true)
    }
  })

  it('is uniform (chi-square over 6 cells, seeded)', () => {
    const rng = seededRandom('uniformInt/6')
    const counts = new Array(6).fill(0)
    const n = 60000
    for (let i = 0; i < n; i++) counts[rng.uniformInt(6)]++
    const chi = counts.reduce((s, c) => s + (c - n / 6) ** 2 / (n / 6), 0)
    expect(chi).toBeLessThan(20.52) // chi-square(5) at p = 0.001
  })

  it('seeded sources are reproducible, and differ across seeds', () => {
    const a = seededRandom('x')
    const b = seededRandom('x')
    const c = seededRandom('y')
    const sa = Array.from({ length: 2000 }, () => a.nextUint32())
    const sb = Array.from({ length: 2000 }, () => b.nextUint32())
    const sc = Array.from({ length: 2000 }, () => c.nextUint32())
    expect(sa).toEqual(sb)
    expect(sa).not.toEqual(sc)
  })

  it('refuses bad bounds and buffer sizes', () => {
    const rng = createRandomSource()
    expect(() => rng.uniformInt(0)).toThrow(expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' }))
    expect(() => rng.uniformInt(1.5)).toThrow(expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' }))
    expect(() => rng.uniformBigInt(0n)).toThrow(expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' }))
    expect(() => createRandomSource({ bufferWords: 0 })).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
    expect(() => createRandomSource({ bufferWords: 20000 })).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
  })
})
