import { describe, expect, it } from 'vitest'
import { exactAuc } from '../../protocols/evaluation/exact-metrics.ts'
import type { VerticalLrOptions } from '../../protocols/vertical/lr/index.ts'
import { loadVerticalData } from '../helpers/vertical-data.ts'
import { runLrSession, scoreTestRows } from '../helpers/vertical-lr-session.ts'

interface Baseline {
  test_auc: number
}
function baseline(b: Record<string, unknown>, key: string): number {
  const lr = b.logistic_regression as { vertical_overlap: Record<string, Baseline> }
  return lr.vertical_overlap[key]!.test_auc
}

describe('vertical LR on credit_data (loopback, 1 label + 2 feature parties)', () => {
  it('reaches the intersection baseline AUC and beats the label party alone; scoring matches', async () => {
    const data = await loadVerticalData('credit_data')
    const nTrain = data.testRows.reduce((n, f) => n + (f === 0 ? 1 : 0), 0)
    const options: VerticalLrOptions = {
      epochs: 20,
      batchSize: 4096,
      learningRate: 0.05,
      l2: 1 / nTrain,
      seed: 'credit-1'
    }
    const run = await runLrSession(data, options)
    const { test, history, model } = run.label
    const target = baseline(data.baselines, 'intersection_train__intersection_test')
    const alone = baseline(data.baselines, 'label_party_only__full_test')
    console.log(
      `credit_data: AUC ${test.auc.toFixed(4)} (intersection baseline ${target.toFixed(4)}, label only ${alone.toFixed(4)}), KS ${test.ks.toFixed(3)}, log-loss ${test.logLoss.toFixed(3)}, accuracy ${test.accuracy.toFixed(3)}, ${run.ms.toFixed(0)} ms for ${options.epochs} epochs incl. setup`
    )
    expect(test.n).toBe(data.testRows.reduce((n, f) => n + f, 0))
    expect(test.auc).toBeGreaterThan(target - 0.01)
    expect(test.auc).toBeGreaterThan(alone + 0.05)
    expect(history).toHaveLength(options.epochs)
    expect(history.every((h) => typeof h.trainLoss === 'number')).toBe(true)
    expect(history.at(-1)!.trainLoss!).toBeLessThan(history[0]!.trainLoss!)
    expect(model.weights).toHaveLength(data.parties[0]!.slice.cols)
    expect(run.features.map((f) => f.model.weights.length)).toEqual(
      data.parties.slice(1).map((p) => p.slice.cols)
    )
    expect(run.sent[0]).toBe('plan')
    expect(run.sent.at(-1)).toBe('done')

    // federated scoring of the test rows reproduces the evaluation
    const { probs, labels } = await scoreTestRows(data, run)
    expect(exactAuc(probs, labels)).toBeCloseTo(test.auc, 10)
  }, 240_000)
})
