import { describe, expect, it } from 'vitest'
import { createRdpAccountant } from '../../crypto/dp/accountants/rdp.ts'
import { composeAll } from '../../crypto/dp/budget.ts'
import type { DpEvent } from '../../crypto/dp/events.ts'
import { gaussianEvent } from '../../crypto/dp/events.ts'
import { exactAuc, exactLogLoss } from '../../protocols/evaluation/exact-metrics.ts'
import type { VerticalLrOptions } from '../../protocols/vertical/lr/index.ts'
import { loadVerticalData } from '../helpers/vertical-data.ts'
import { runLrSession, scoreTestRows } from '../helpers/vertical-lr-session.ts'

// Under label DP every batch releases |F| + 1 noisy gradients (each feature party's and the label
// party's own, which sets the next batches' residuals): the run is epochs × (|F| + 1) Gaussian
// mechanisms, charged epoch by epoch as exactly that; the noiseless training loss is not reported.
// ~10 s on 2 cores.

describe('vertical LR on credit_data with label DP (loopback)', () => {
  it('with label DP (ε = 1, δ = 1e-5): charges epochs × (|F| + 1) Gaussian mechanisms before the releases; a useful AUC', async () => {
    const data = await loadVerticalData('credit_data')
    const featureParties = data.parties.length - 1
    const charges: Array<{ epsilon: number; delta: number; event: DpEvent; updatesBefore: number }> = []
    const sent: string[] = []
    const options: VerticalLrOptions = {
      epochs: 8,
      batchSize: 4096,
      learningRate: 0.05,
      seed: 'credit-dp',
      dp: { epsilon: 1, delta: 1e-5, clipNorm: 4 }
    }
    const cpu0 = process.cpuUsage()
    const run = await runLrSession(data, options, {
      sent,
      charge: async (c) => {
        charges.push({
          epsilon: c.epsilon,
          delta: c.delta,
          event: c.event,
          updatesBefore: sent.filter((p) => p === 'update').length
        })
      }
    })
    const cpu = process.cpuUsage(cpu0)
    const { test, epsilon, history, model } = run.label
    console.log(
      `credit_data DP ε=${epsilon?.toFixed(3)}: AUC ${test.auc.toFixed(4)}, log-loss ${test.logLoss.toFixed(3)}, ${run.ms.toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU`
    )
    expect(epsilon).toBeLessThanOrEqual(1)
    expect(epsilon).toBeGreaterThan(0.9)
    expect(charges).toHaveLength(options.epochs)
    // one full batch per epoch, two feature parties: epoch e's charge comes before its 2 releases
    expect(featureParties).toBe(2)
    expect(charges.map((c) => c.updatesBefore)).toEqual(charges.map((_, e) => 2 * e))
    expect(charges.reduce((s, c) => s + c.epsilon, 0)).toBeCloseTo(epsilon!, 6)
    expect(charges.reduce((s, c) => s + c.delta, 0)).toBeCloseTo(1e-5, 12)

    // every epoch books |F| + 1 Gaussian mechanisms of one multiplier z
    const first = charges[0]!.event
    expect(first.kind).toBe('self-composed')
    if (first.kind !== 'self-composed' || first.event.kind !== 'gaussian') throw new Error('not Gaussian')
    const z = first.event.noiseMultiplier
    expect(first.count).toBe(featureParties + 1)
    for (const c of charges) expect(c.event).toEqual(first)
    // the reported, charged and booked ε are all the RDP ε of epochs × (|F| + 1) mechanisms
    const runEpsilon = createRdpAccountant()
      .compose(gaussianEvent(z), options.epochs * (featureParties + 1))
      .epsilon(1e-5)
    expect(epsilon).toBeCloseTo(runEpsilon, 9)
    expect(composeAll(charges.map((c) => c.event)).epsilon(1e-5)).toBeCloseTo(runEpsilon, 9)
    // counting only the feature parties' releases, the same z would have claimed less
    const featuresOnly = createRdpAccountant()
      .compose(gaussianEvent(z), options.epochs * featureParties)
      .epsilon(1e-5)
    expect(featuresOnly).toBeLessThan(0.9 * runEpsilon)

    // the noiseless training loss is not reported under DP
    expect(history.map((h) => h.epoch)).toEqual([...Array(options.epochs).keys()].map((e) => e + 1))
    expect(history.every((h) => h.trainLoss === undefined && !('trainLoss' in h))).toBe(true)

    // the label party's model keeps C: scoring clips its rows [x | 1] as training and evaluation did
    expect(model.clipNorm).toBe(4)
    expect(run.features.every((f) => f.model.clipNorm === 4)).toBe(true)
    const { probs, labels } = await scoreTestRows(data, run)
    expect(exactAuc(probs, labels)).toBeCloseTo(test.auc, 10)
    expect(exactLogLoss(probs, labels)).toBeCloseTo(test.logLoss, 10)

    expect(test.auc).toBeGreaterThan(0.75)
  }, 240_000)
})
