import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createRdpAccountant } from '../../../crypto/dp/accountants/rdp.ts'
import { discreteGaussianEvent } from '../../../crypto/dp/events.ts'
import { l2Norm, makeClip } from '../../../crypto/dp/mechanisms/clip.ts'
import { makeDiscreteGaussian } from '../../../crypto/dp/mechanisms/discrete-gaussian.ts'
import { makeDiscreteLaplace } from '../../../crypto/dp/mechanisms/discrete-laplace.ts'
import {
  makeDistributedDiscreteGaussian,
  partySigma,
  partySigma2
} from '../../../crypto/dp/mechanisms/distributed-discrete-gaussian.ts'
import { compareRational, rational, rationalFromNumber } from '../../../crypto/dp/rational.ts'
import { seededRandom } from '../../helpers/seeded-random.ts'

const ARG = expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })

describe('makeDiscreteGaussian', () => {
  it('carries its event', () => {
    expect(makeDiscreteGaussian({ sigma: 10, sensitivity: 4 }).event).toEqual({
      kind: 'discrete-gaussian',
      sigma: 10,
      sensitivity: 4
    })
    expect(makeDiscreteGaussian({ sigma: 10, sensitivity: 4, dimension: 3 }).event).toEqual({
      kind: 'discrete-gaussian',
      sigma: 10,
      sensitivity: 4,
      dimension: 3
    })
  })

  it('records a rational sigma rounded down, never overstating the noise', () => {
    const m = makeDiscreteGaussian({ sigma: rational(1, 3), sensitivity: 1 })
    const e = m.event as { sigma: number }
    expect(compareRational(rationalFromNumber(e.sigma), rational(1, 3))).toBe(-1)
    expect(e.sigma).toBeCloseTo(1 / 3, 15)
  })

  it('adds the same noise to Int32Array (mod 2^32), Uint32Array (mod 2^32) and bigint[] (exact)', () => {
    const m = makeDiscreteGaussian({ sigma: 1000, sensitivity: 1 })
    const x = [2 ** 31 - 1, -(2 ** 31), 0, 5]
    const exact = m.apply(
      x.map((v) => BigInt(v)),
      seededRandom('mech')
    )
    const i32 = m.apply(Int32Array.from(x), seededRandom('mech'))
    const u32 = m.apply(Uint32Array.from(x.map((v) => v >>> 0)), seededRandom('mech'))
    expect(i32).toBeInstanceOf(Int32Array)
    expect(u32).toBeInstanceOf(Uint32Array)
    expect(Array.isArray(exact)).toBe(true)
    for (let i = 0; i < x.length; i++) {
      const noise = exact[i]! - BigInt(x[i]!)
      expect(noise).not.toBe(0n) // sigma = 1000: P(noise = 0) ~ 4e-4 per coordinate
      expect(i32[i]).toBe(Number(BigInt.asIntN(32, exact[i]!)))
      expect(u32[i]).toBe(Number(BigInt.asUintN(32, exact[i]!)))
    }
  })

  it('does not mutate its input, and refuses inputs longer than its dimension', () => {
    const m = makeDiscreteGaussian({ sigma: 10, sensitivity: 1, dimension: 2 })
    const x = new Int32Array([1, 2])
    m.apply(x, seededRandom('m'))
    expect([...x]).toEqual([1, 2])
    expect(() => m.apply(new Int32Array(3), seededRandom('m'))).toThrow(ARG)
    expect(() => m.apply([1n, 2] as unknown as bigint[], seededRandom('m'))).toThrow(ARG)
  })

  it('refuses sigma <= 0 and a negative sensitivity', () => {
    expect(() => makeDiscreteGaussian({ sigma: 0, sensitivity: 1 })).toThrow(ARG)
    expect(() => makeDiscreteGaussian({ sigma: -1, sensitivity: 1 })).toThrow(ARG)
    expect(() => makeDiscreteGaussian({ sigma: 1, sensitivity: -1 })).toThrow(ARG)
  })
})

describe('makeDiscreteLaplace', () => {
  it('carries a discrete-laplace event and noises integers', () => {
    const m = makeDiscreteLaplace({ scale: 2, sensitivity: 1 })
    expect(m.event).toEqual({ kind: 'discrete-laplace', scale: 2, sensitivity: 1 })
    const out = m.apply(new Array<bigint>(2000).fill(0n), seededRandom('dlap-mech'))
    const mean = out.reduce((s, v) => s + Number(v), 0) / out.length
    expect(Math.abs(mean)).toBeLessThan(0.3) // sd of one draw ~ 2.8, of the mean ~ 0.063
    expect(new Set(out).size).toBeGreaterThan(5)
  })
})

describe('distributed discrete Gaussian', () => {
  it('splits sigma_total^2 exactly across n parties', () => {
    expect(partySigma2(10, 4)).toEqual({ num: 25n, den: 1n })
    expect(partySigma2(10, 3)).toEqual({ num: 100n, den: 3n })
    expect(partySigma(10, 4)).toBe(5)
  })

  it('the sum of n_min shares has variance ~ sigma_total^2', () => {
    const n = 8
    const d = 4000
    const m = makeDistributedDiscreteGaussian({
      sigmaTotal: 20,
      sensitivity: 10,
      dimension: d,
      minParticipants: n
    })
    const sum = new Float64Array(d)
    for (let p = 0; p < n; p++) {
      const share = m.apply(new Int32Array(d), seededRandom(`party/${p}`))
      for (let i = 0; i < d; i++) sum[i]! += share[i]!
    }
    let sq = 0
    for (const v of sum) sq += v * v
    // sd of the sample variance ratio ~ sqrt(2/d) ~ 0.022
    expect(sq / d / 400).toBeGreaterThan(0.92)
    expect(sq / d / 400).toBeLessThan(1.08)
  })

  it('carries a distributed event that costs at least, and about, the central sigma_total', () => {
    const m = makeDistributedDiscreteGaussian({
      sigmaTotal: 20,
      sensitivity: 10,
      dimension: 1000,
      minParticipants: 8
    })
    expect(m.event).toEqual({
      kind: 'distributed-discrete-gaussian',
      sigma: 20,
      sensitivity: 10,
      dimension: 1000,
      parties: 8
    })
    const distributed = createRdpAccountant().compose(m.event)
    const central = createRdpAccountant().compose(discreteGaussianEvent({ sigma: 20, sensitivity: 10 }))
    for (let i = 0; i < central.rdp.length; i++) {
      expect(distributed.rdp[i]!).toBeGreaterThanOrEqual(central.rdp[i]!)
      expect(distributed.rdp[i]! / central.rdp[i]!).toBeLessThan(1 + 1e-6)
    }
  })

  it('the KLS tau term matters when per-party sigma is small', () => {
    // sigma_party = 0.5: tau = 10 * sum_k exp(-pi^2/2 * k/(k+1)) is large; the bound is far above central.
    const e = makeDistributedDiscreteGaussian({
      sigmaTotal: 1,
      sensitivity: 1,
      dimension: 100,
      minParticipants: 4
    }).event
    const distributed = createRdpAccountant().compose(e).epsilon(1e-5)
    const central = createRdpAccountant()
      .compose(discreteGaussianEvent({ sigma: 1, sensitivity: 1 }))
      .epsilon(1e-5)
    expect(distributed).toBeGreaterThan(central * 1.5)
  })

  it('refuses per-party sigma below 1/2 and bad counts', () => {
    const base = { sigmaTotal: 1, sensitivity: 1, dimension: 10 }
    expect(() => makeDistributedDiscreteGaussian({ ...base, minParticipants: 5 })).toThrow(ARG)
    expect(() => makeDistributedDiscreteGaussian({ ...base, minParticipants: 0 })).toThrow(ARG)
    expect(() => makeDistributedDiscreteGaussian({ ...base, minParticipants: 2, dimension: 0 })).toThrow(ARG)
  })
})

describe('makeClip', () => {
  it('scales a long vector onto the ball and leaves a short one alone', () => {
    const clip = makeClip({ norm: 1 })
    const long = clip.vector(new Float64Array([3, 4]))
    expect(long.clipped).toBe(true)
    expect(long.normBefore).toBe(5)
    expect(long.vector[0]).toBeCloseTo(0.6, 15)
    expect(long.vector[1]).toBeCloseTo(0.8, 15)
    const short = clip.vector(new Float64Array([0.3, 0.4]))
    expect(short.clipped).toBe(false)
    expect([...short.vector]).toEqual([0.3, 0.4])
  })

  it('clips each row of a matrix independently, without mutating it', () => {
    const m = new Float64Array([3, 4, 0.1, 0.1, 0, 10])
    const r = makeClip({ norm: 2 }).rows(m, { rows: 3, cols: 2 })
    expect([...r.clipped]).toEqual([1, 0, 1])
    expect(r.clippedCount).toBe(2)
    expect([...r.matrix.subarray(2, 4)]).toEqual([0.1, 0.1])
    expect(r.matrix[5]).toBe(2)
    expect(m[5]).toBe(10)
    expect(() => makeClip({ norm: 2 }).rows(m, { rows: 2, cols: 2 })).toThrow(ARG)
  })

  it('never leaves a norm above C (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e150, max: 1e150, noNaN: true }), { minLength: 1, maxLength: 50 }),
        fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
        (values, c) => {
          const out = makeClip({ norm: c }).vector(Float64Array.from(values))
          expect(l2Norm(out.vector)).toBeLessThanOrEqual(c)
        }
      )
    )
  })

  it('refuses NaN, infinities and a non-positive norm', () => {
    expect(() => makeClip({ norm: 0 })).toThrow(ARG)
    expect(() => makeClip({ norm: 1 }).vector(new Float64Array([Number.NaN]))).toThrow(ARG)
    expect(() => makeClip({ norm: 1 }).vector(new Float64Array([Number.POSITIVE_INFINITY]))).toThrow(ARG)
  })
})
