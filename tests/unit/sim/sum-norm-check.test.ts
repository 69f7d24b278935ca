import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { JobConfig } from '../../../configs/job.ts'
import type { JobRecord } from '../../../coordinator/jobs/types.ts'
import { createSumNormCheck, fitNoiseStd, SUM_NORM_CODE } from '../../../simulations/faults/sum-norm-check.ts'
import type { SumNormCheckResult } from '../../../simulations/faults/sum-norm-check.ts'

function job(dp: unknown): JobRecord {
  return {
    id: 'job-1',
    config: JobConfig.parse({ name: 'j', model: { kind: 'logreg', rounds: 3 }, data: { dataset: 'd' }, dp }),
    status: 'running',
    createdAt: '',
    updatedAt: '',
    round: 0,
    participants: [],
    declined: []
  }
}

/** n updates of norm <= C, weighted by w_i (samples) or 1 (uniform), summed. */
function honestSum(updates: number[][], weights: number[]): Float64Array {
  const s = new Float64Array(updates[0]!.length)
  updates.forEach((u, i) => {
    for (let j = 0; j < u.length; j++) s[j]! += weights[i]! * u[j]!
  })
  return s
}

const clipTo = (u: number[], c: number) => {
  const n = Math.sqrt(u.reduce((a, b) => a + b * b, 0))
  return n <= c ? u : u.map((x) => (x * c) / n)
}

describe('sum-norm sanity check', () => {
  it('never trips on honest clipped updates (sample weighting, no noise)', () => {
    const check = createSumNormCheck({ maxUpdateNorm: 1 })
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 4, maxLength: 4 }), {
          minLength: 3,
          maxLength: 12
        }),
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 12, maxLength: 12 }),
        (raw, w) => {
          const updates = raw.map((u) => clipTo(u, 1))
          const weights = w.slice(0, updates.length)
          const sum = honestSum(updates, weights)
          const weight = weights.reduce((a, b) => a + b, 0)
          const participants = updates.map((_, i) => `p${i}`)
          expect(check({ round: 1, sum, weight, participants, job: job('none') })).toBeUndefined()
        }
      ),
      { numRuns: 200 }
    )
  })

  it('trips on a scaled-up update, with a stable code and the figures', () => {
    const results: SumNormCheckResult[] = []
    const check = createSumNormCheck({ maxUpdateNorm: 1, onCheck: (r) => results.push(r) })
    const honest = [
      [0.6, 0.8, 0],
      [0, 0.5, 0.5],
      [0.1, 0.1, 0.1]
    ]
    const weights = [100, 100, 100]
    const bad = honestSum([...honest.slice(0, 2), honest[2]!.map((x) => x * 100)], weights)
    const v = check({ round: 3, sum: bad, weight: 300, participants: ['a', 'b', 'c'], job: job('none') })
    expect(v).toMatchObject({ code: SUM_NORM_CODE })
    expect(v!.reason).toMatch(/round 3/)
    expect(results).toEqual([
      { round: 3, meanNorm: expect.any(Number), bound: expect.closeTo(1, 5), tripped: true }
    ])
    expect(results[0]!.meanNorm).toBeGreaterThan(5)
  })

  it('divides by the number of survivors under DP (uniform weighting), by the weight otherwise', () => {
    const check = createSumNormCheck({ maxUpdateNorm: 1 })
    // Three updates of norm 1 (uniform weight 1): ||sum|| = 3 <= 1 * 3 survivors.
    const sum = new Float64Array([3, 0])
    const dp = job({ mode: 'record', epsilon: 1, clipNorm: 1 })
    expect(check({ round: 1, sum, weight: 3, participants: ['a', 'b', 'c'], job: dp })).toBeUndefined()
    // The same sum with a noisy weight coordinate of 1.2 must not matter under DP ...
    expect(check({ round: 1, sum, weight: 1.2, participants: ['a', 'b', 'c'], job: dp })).toBeUndefined()
    // ... while without DP the weight is the divisor.
    expect(
      check({ round: 1, sum, weight: 1.2, participants: ['a', 'b', 'c'], job: job('none') })
    ).toBeDefined()
  })

  it('has no noise allowance without update-level DP, and leaves k-means alone', () => {
    expect(fitNoiseStd(job('none'), 5)).toBe(0)
    expect(fitNoiseStd(job({ mode: 'record', epsilon: 1, clipNorm: 1 }), 5)).toBe(0)
    const km = job('none')
    km.config = JobConfig.parse({ name: 'k', model: { kind: 'kmeans', k: 3 }, data: { dataset: 'd' } })
    const check = createSumNormCheck({ maxUpdateNorm: 1 })
    expect(
      check({ round: 1, sum: new Float64Array([1e9]), weight: 1, participants: ['a'], job: km })
    ).toBeUndefined()
  })
})
