import { describe, expect, it } from 'vitest'
import { secaggShape } from '../../../coordinator/jobs/secure-sum.ts'
import { createRdpAccountant } from '../../../crypto/dp/accountants/rdp.ts'
import { maxParties } from '../../../crypto/quantize.ts'
import { createInputStash } from '../../../node/jobs/input-stash.ts'
import type { StatsColumn } from '../../../protocols/training/feature-stats.ts'
import { fitConfigFor, jobModelDescriptor, planJobPrivacy } from '../../../protocols/training/job-privacy.ts'
import type { JobSummary } from '../../../protocols/training/job-summary.ts'
import { MAX_SUMMED_PARTIES, noiseReserve, quantFor } from '../../../protocols/training/quantisation.ts'

const columns: StatsColumn[] = [
  { name: 'Age', kind: 'number' },
  { name: 'Home', kind: 'category', levels: ['own', 'rent'], encoding: 'onehot' }
]
const base: JobSummary = {
  name: 'risk',
  model: { kind: 'logreg', rounds: 20, batchSize: 64 },
  dataset: 'credit',
  secureAggregation: 'secagg+',
  ringBits: 62,
  dp: { mode: 'record', epsilon: 1, delta: 1e-5, clipNorm: 1 },
  minParticipants: 3,
  statistics: { ranges: { Age: [18, 90] }, noiseMultiplier: 10 },
  evaluation: { bins: 1000 },
  offered: 3
}
const plan = (s: JobSummary, rows: number) => planJobPrivacy(s, { columns, features: 3, rows, delta: 1e-5 })

describe('job privacy plan', () => {
  it('record-level: each node calibrates z for its own n; statistics + rounds meet the target', () => {
    const small = plan(base, 500)
    const large = plan(base, 2000)
    for (const p of [small, large]) {
      expect(p.epsilon).toBeLessThanOrEqual(1)
      expect(p.epsilon).toBeGreaterThan(0.995)
      const total = createRdpAccountant().compose(p.statsEvent!).compose(p.roundEvent!, 20).epsilon(1e-5)
      expect(total).toBeCloseTo(p.epsilon, 12)
    }
    // A larger node samples a smaller fraction per step, so it needs less noise.
    expect(large.noiseMultiplier!).toBeLessThan(small.noiseMultiplier!)
    expect(plan({ ...base, dp: { ...base.dp!, epsilon: 2 } }, 500).noiseMultiplier!).toBeLessThan(
      small.noiseMultiplier!
    )
  })

  it('update-level: one z for every node, whatever its rows; the fit event is the distributed Gaussian', () => {
    const s: JobSummary = { ...base, dp: { mode: 'update', epsilon: 1, delta: 1e-5, clipNorm: 1 } }
    const a = plan(s, 500)
    expect(plan(s, 5000).noiseMultiplier).toBe(a.noiseMultiplier)
    expect(a.roundEvent).toMatchObject({ kind: 'distributed-discrete-gaussian', parties: 3, dimension: 5 })
    expect(fitConfigFor(s, a.noiseMultiplier).dp).toMatchObject({
      kind: 'update-level',
      scale: 2 ** 24,
      minParticipants: 3
    })
  })

  it('an explicit noise multiplier is taken as is; without DP nothing is private and nothing charged', () => {
    const z = plan({ ...base, dp: { mode: 'record', noiseMultiplier: 2, delta: 1e-5, clipNorm: 1 } }, 800)
    expect(z.noiseMultiplier).toBe(2)
    const none = plan({ ...base, dp: null }, 800)
    expect(none).toMatchObject({
      noiseMultiplier: null,
      statsEvent: null,
      roundEvent: null,
      epsilon: Number.POSITIVE_INFINITY
    })
    expect(fitConfigFor({ ...base, dp: null, model: { kind: 'logreg', rounds: 3, mu: 0.01 } }, null)).toEqual(
      {
        epochs: 1,
        batchSize: 64,
        learningRate: 0.1,
        dp: { kind: 'none' },
        proximalMu: 0.01
      }
    )
  })

  it('model descriptors: k-means defaults to 10 candidates without DP and 1 with it', () => {
    expect(jobModelDescriptor({ model: { kind: 'kmeans', rounds: 5, k: 4 }, dp: null }, 26)).toEqual({
      kind: 'kmeans',
      features: 26,
      k: 4,
      candidates: 10
    })
    expect(jobModelDescriptor({ model: { kind: 'kmeans', rounds: 5, k: 4 }, dp: base.dp }, 26)).toMatchObject(
      { candidates: 1 }
    )
    expect(jobModelDescriptor({ model: { kind: 'mlp', rounds: 5 }, dp: null }, 26)).toEqual({
      kind: 'mlp',
      features: 26,
      hidden: [32]
    })
  })
})

describe('quantisation and SecAgg shape', () => {
  it('62-bit rings give 2^-24 precision for fits and leave room for 512 parties plus noise', () => {
    const q = quantFor('fit', 62)
    expect(q).toEqual({ k: 62, clip: 2 ** 27, scale: 2 ** 24 })
    expect(quantFor('stats', 62)).toEqual({ k: 62, clip: 2 ** 40, scale: 2 ** 11 })
    expect(maxParties(62, q.clip, q.scale, noiseReserve(1e9, 62))).toBeGreaterThanOrEqual(MAX_SUMMED_PARTIES)
    expect(() => quantFor('fit', 32)).toThrow(expect.objectContaining({ code: 'COHORT_TRAINING_CONFIG' }))
    expect(noiseReserve(0, 62)).toBe(0)
  })

  it('threshold t never lets a sum cover fewer than minParticipants', () => {
    expect(secaggShape(3, { threshold: 0.6, neighbours: 'full' }, 2)).toEqual({ k: 2, t: 2 })
    expect(secaggShape(3, { threshold: 0.67, neighbours: 'full' }, 2)).toEqual({ k: 2, t: 3 })
    expect(secaggShape(10, { threshold: 0.6, neighbours: 4 }, 3)).toEqual({ k: 4, t: 3 })
    expect(secaggShape(10, { threshold: 0.9, neighbours: 'full' }, 3)).toEqual({ k: 9, t: 9 })
    expect(() => secaggShape(2, { threshold: 0.6, neighbours: 'full' }, 2)).toThrow(
      expect.objectContaining({ code: 'COHORT_NOT_ENOUGH_PARTICIPANTS' })
    )
    expect(() => secaggShape(4, { threshold: 0.6, neighbours: 2 }, 4)).toThrow(
      expect.objectContaining({ code: 'COHORT_NOT_ENOUGH_PARTICIPANTS' })
    )
  })
})

describe('input stash', () => {
  it('hands each summand to SecAgg once, per (secagg id, round), and forgets a job on request', async () => {
    const stash = createInputStash()
    stash.put('job-1/fit/a', 3, new Uint32Array([1, 2]))
    stash.put('job-1/eval/b', 3, new Uint32Array([3]))
    stash.put('job-2/fit/c', 1, new Uint32Array([4]))
    expect(await stash.inputProvider('job-1/fit/a', 3)).toEqual(new Uint32Array([1, 2]))
    await expect(stash.inputProvider('job-1/fit/a', 3)).rejects.toMatchObject({
      code: 'COHORT_INPUT_NOT_READY'
    })
    expect(() => stash.take('job-1/eval/b', 4)).toThrow(
      expect.objectContaining({ code: 'COHORT_INPUT_NOT_READY' })
    )
    stash.dropJob('job-1')
    expect(stash.has('job-1/eval/b', 3)).toBe(false)
    expect(stash.has('job-2/fit/c', 1)).toBe(true)
  })

  it('expires entries and keeps at most maxEntries', async () => {
    const stash = createInputStash({ ttlMs: 20, maxEntries: 2 })
    stash.put('a/x', 1, new Uint32Array(1))
    stash.put('b/x', 1, new Uint32Array(1))
    stash.put('c/x', 1, new Uint32Array(1))
    expect(stash.has('a/x', 1)).toBe(false)
    expect(stash.size()).toBe(2)
    await new Promise((r) => setTimeout(r, 40))
    expect(stash.size()).toBe(0)
  })
})
