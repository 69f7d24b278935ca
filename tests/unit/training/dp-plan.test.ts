import { describe, expect, it } from 'vitest'
import { createRdpAccountant } from '../../../crypto/dp/accountants/rdp.ts'
import { makeDistributedDiscreteGaussian } from '../../../crypto/dp/mechanisms/distributed-discrete-gaussian.ts'
import { kmeansRowSensitivity } from '../../../protocols/training/kmeans-stats.ts'
import { kmeansSpec, logregSpec } from '../../../protocols/training/model-spec.ts'
import {
  dpSgdSchedule,
  fitEvent,
  planRecordLevel,
  quantisedSensitivity,
  recordLevelEpsilon,
  recordLevelEvent,
  updateLevelEvent
} from '../../../protocols/training/dp-plan.ts'
import { resolveEvalConfig, resolveFitConfig } from '../../../protocols/training/instructions.ts'

const CONFIG = expect.objectContaining({ code: 'COHORT_TRAINING_CONFIG' })

describe('fit and eval configs', () => {
  it('fill defaults; DP switches the default weighting to uniform', () => {
    const c = resolveFitConfig({ epochs: 2, batchSize: 32, learningRate: 0.1 })
    expect(c).toEqual({
      epochs: 2,
      batchSize: 32,
      learningRate: 0.1,
      optimizer: 'sgd',
      momentum: 0,
      l2: 0,
      proximalMu: 0,
      weighting: 'samples',
      dp: { kind: 'none' }
    })
    const dp = resolveFitConfig({
      epochs: 1,
      batchSize: 32,
      learningRate: 0.1,
      dp: { kind: 'record-level', clipNorm: 1, noiseMultiplier: 2 }
    })
    expect(dp.weighting).toBe('uniform')
    expect(resolveEvalConfig()).toEqual({ bins: 1000, threshold: 0.5 })
  })

  it('refuse bad values with a typed error', () => {
    expect(() => resolveFitConfig({ epochs: 0, batchSize: 32, learningRate: 0.1 })).toThrow(CONFIG)
    expect(() => resolveFitConfig({ epochs: 1, batchSize: 32, learningRate: -1 })).toThrow(CONFIG)
    expect(() =>
      resolveFitConfig({ epochs: 1, batchSize: 32, learningRate: 0.1, extra: 1 } as never)
    ).toThrow(CONFIG)
    expect(() =>
      resolveFitConfig({
        epochs: 1,
        batchSize: 32,
        learningRate: 0.1,
        dp: { kind: 'update-level', clipNorm: 1, noiseMultiplier: 1, minParticipants: 3, scale: 1000 }
      })
    ).toThrow(CONFIG)
    expect(() => resolveEvalConfig({ bins: 1 })).toThrow(CONFIG)
  })
})

describe('DP planning', () => {
  it('DP-SGD schedule: q = B/n, epochs·ceil(n/B) steps', () => {
    expect(dpSgdSchedule({ n: 2248, batchSize: 64, epochs: 1 })).toEqual({ q: 64 / 2248, steps: 36 })
    expect(dpSgdSchedule({ n: 10, batchSize: 64, epochs: 2 })).toEqual({ q: 1, steps: 2 })
    expect(() => dpSgdSchedule({ n: 0, batchSize: 1, epochs: 1 })).toThrow(CONFIG)
  })

  it('planRecordLevel meets the target epsilon over all rounds, and not with much less noise', () => {
    const p = { epsilon: 1, delta: 1e-5, n: 808, batchSize: 64, epochs: 1, rounds: 20 }
    const plan = planRecordLevel(p)
    expect(plan.stepsPerRound).toBe(13)
    expect(plan.epsilon).toBeLessThanOrEqual(1)
    expect(recordLevelEpsilon({ ...p, noiseMultiplier: plan.noiseMultiplier })).toBeCloseTo(plan.epsilon, 10)
    expect(recordLevelEpsilon({ ...p, noiseMultiplier: plan.noiseMultiplier * 0.95 })).toBeGreaterThan(1)
    // The per-round event, composed over the rounds, is what the ledger would charge.
    const ev = recordLevelEvent({
      q: plan.q,
      noiseMultiplier: plan.noiseMultiplier,
      steps: plan.stepsPerRound
    })
    expect(createRdpAccountant().compose(ev, 20).epsilon(1e-5)).toBeCloseTo(plan.epsilon, 10)
  })

  it('the update-level event is the one the runner’s noise mechanism carries', () => {
    const dp = {
      kind: 'update-level',
      clipNorm: 0.5,
      noiseMultiplier: 1.2,
      minParticipants: 3,
      scale: 2 ** 12
    } as const
    const dimension = 28
    const sensitivity = quantisedSensitivity({ realSensitivity: 1, scale: dp.scale, dimension })
    expect(sensitivity).toBeCloseTo(4096 + Math.sqrt(28) / 2, 10)
    const event = updateLevelEvent(dp, { realSensitivity: 1, dimension })
    const mech = makeDistributedDiscreteGaussian({
      sigmaTotal: dp.noiseMultiplier * sensitivity,
      sensitivity,
      dimension,
      minParticipants: 3
    })
    expect(event).toEqual(mech.event)
  })

  it('fitEvent gives the event before training, for every model kind and DP mode', () => {
    const lr = logregSpec({ features: 26 })
    const km = kmeansSpec({ k: 4, features: 26, candidates: 2 })
    const base = { epochs: 2, batchSize: 64, learningRate: 0.1 }
    const update = {
      kind: 'update-level',
      clipNorm: 1,
      noiseMultiplier: 1,
      minParticipants: 3,
      scale: 2 ** 16
    } as const
    expect(fitEvent(lr, base, 1000)).toEqual({ kind: 'non-private' })
    expect(
      fitEvent(lr, { ...base, dp: { kind: 'record-level', clipNorm: 1, noiseMultiplier: 2 } }, 1000)
    ).toEqual(recordLevelEvent({ q: 0.064, noiseMultiplier: 2, steps: 32 }))
    expect(fitEvent(lr, { ...base, dp: update }, 1000)).toEqual(
      updateLevelEvent(update, { realSensitivity: 2, dimension: 28 })
    )
    expect(fitEvent(km, { ...base, dp: update }, 1000)).toEqual(
      updateLevelEvent(update, { realSensitivity: kmeansRowSensitivity(1, 2), dimension: 2 * 4 * 28 + 1 })
    )
    expect(() =>
      fitEvent(km, { ...base, dp: { kind: 'record-level', clipNorm: 1, noiseMultiplier: 2 } }, 10)
    ).toThrow(CONFIG)
  })
})
