import { describe, expect, it } from 'vitest'
import type { VerticalLrOptions } from '../../protocols/vertical/lr/index.ts'
import { loadVerticalData } from '../helpers/vertical-data.ts'
import { runLrSession } from '../helpers/vertical-lr-session.ts'

describe('vertical LR on credit_data with label DP (loopback)', () => {
  it('with label DP (ε = 1, δ = 1e-5): charges before each epoch’s releases, reports ε and a useful AUC', async () => {
    const data = await loadVerticalData('credit_data')
    const charges: Array<{ epsilon: number; delta: number; updatesBefore: number }> = []
    const sent: string[] = []
    const options: VerticalLrOptions = {
      epochs: 8,
      batchSize: 4096,
      learningRate: 0.05,
      seed: 'credit-dp',
      dp: { epsilon: 1, delta: 1e-5, clipNorm: 4 }
    }
    const run = await runLrSession(data, options, {
      sent,
      charge: async (c) => {
        charges.push({
          epsilon: c.epsilon,
          delta: c.delta,
          updatesBefore: sent.filter((p) => p === 'update').length
        })
      }
    })
    const { test, epsilon } = run.label
    console.log(
      `credit_data DP ε=${epsilon?.toFixed(3)}: AUC ${test.auc.toFixed(4)}, log-loss ${test.logLoss.toFixed(3)}, ${run.ms.toFixed(0)} ms`
    )
    expect(epsilon).toBeLessThanOrEqual(1)
    expect(epsilon).toBeGreaterThan(0.9)
    expect(charges).toHaveLength(options.epochs)
    // one full batch per epoch, two feature parties: epoch e's charge comes before its 2 releases
    expect(charges.map((c) => c.updatesBefore)).toEqual(charges.map((_, e) => 2 * e))
    expect(charges.reduce((s, c) => s + c.epsilon, 0)).toBeCloseTo(epsilon!, 6)
    expect(charges.reduce((s, c) => s + c.delta, 0)).toBeCloseTo(1e-5, 12)
    expect(test.auc).toBeGreaterThan(0.6)
  }, 240_000)
})
