import { describe, expect, it } from 'vitest'
import { decodeSum, quantize } from '../../../crypto/quantize.ts'
import { createInputStash } from '../../../node/jobs/input-stash.ts'
import type { MaliciousPlan } from '../../../simulations/faults/fault-plan.ts'
import { maliciousStash, poisonPlain, poisonRing } from '../../../simulations/faults/malicious-input.ts'

const scale: MaliciousPlan = { kind: 'scale', factor: 100, norm: 1, rounds: undefined }
const random: MaliciousPlan = { kind: 'random', factor: 1, norm: 3, rounds: undefined }

const norm = (v: ArrayLike<number>, d: number) => {
  let s = 0
  for (let i = 0; i < d; i++) s += v[i]! ** 2
  return Math.sqrt(s)
}

describe.each([
  { k: 62, clip: 2 ** 27, scale: 2 ** 24 },
  { k: 32, clip: 2 ** 8, scale: 2 ** 16 }
])('poisoned fixed-point summands in Z_2^$k', (q) => {
  // An update of weight 250 (its last coordinate), as a sample-weighted node releases it.
  const summand = [0.5, -1.25, 3, -0.001, 250].map((x, i) =>
    i < 4 ? x * (q.k === 62 ? 250 : 1) : q.k === 62 ? 250 : 1
  )

  it('scale: the update part is multiplied exactly, the weight untouched', () => {
    const ring = quantize(summand, q)
    const out = decodeSum(poisonRing(ring, scale, q, 's'), 1, q)
    const back = decodeSum(ring, 1, q)
    for (let i = 0; i < 4; i++) expect(out[i]).toBeCloseTo(back[i]! * 100, 6)
    expect(out[4]).toBe(back[4])
  })

  it('random: a direction of norm `norm` per unit of weight, reproducible by seed', () => {
    const ring = quantize(summand, q)
    const w = decodeSum(ring, 1, q)[4]!
    const a = decodeSum(poisonRing(ring, random, q, 'seed-1'), 1, q)
    expect(norm(a, 4) / w).toBeCloseTo(3, 3)
    expect(a[4]).toBe(w)
    expect([...poisonRing(ring, random, q, 'seed-1')]).toEqual([...poisonRing(ring, random, q, 'seed-1')])
    expect([...poisonRing(ring, random, q, 'seed-2')]).not.toEqual([...poisonRing(ring, random, q, 'seed-1')])
  })
})

describe('plaintext poisoning and the stash wrapper', () => {
  it('poisonPlain scales or replaces the update part only', () => {
    const v = new Float64Array([1, -2, 10])
    expect([...poisonPlain(v, scale, 's')]).toEqual([100, -200, 10])
    const r = poisonPlain(v, random, 's')
    expect(norm(r, 2)).toBeCloseTo(30, 9)
    expect(r[2]).toBe(10)
  })

  it('poisons only fit summands of the attack rounds, and says so', () => {
    const q = { k: 62, clip: 2 ** 27, scale: 2 ** 24 }
    const real = createInputStash()
    const seen: number[] = []
    const stash = maliciousStash(real, { ...scale, rounds: new Set([2]) }, q, 's', (r) => seen.push(r))
    const x = quantize([1, 2, 3], q)
    stash.put('job/fit/aa', 1, x)
    stash.put('job/fit/bb', 2, x)
    stash.put('job/eval/cc', 2, x)
    expect(seen).toEqual([2])
    expect(decodeSum(real.take('job/fit/aa', 1), 1, q)[0]).toBe(1)
    expect(decodeSum(real.take('job/fit/bb', 2), 1, q)[0]).toBe(100)
    expect(decodeSum(real.take('job/eval/cc', 2), 1, q)[0]).toBe(1)
  })
})
