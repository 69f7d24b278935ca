import { describe, expect, it } from 'vitest'
import type { VerticalLrOptions } from '../../protocols/vertical/lr/index.ts'
import { loadVerticalData } from '../helpers/vertical-data.ts'
import { runLrSession } from '../helpers/vertical-lr-session.ts'

// Issue 7, acceptance 3 for wa_churn (1 label + 2 feature parties, 40 columns) and lending_club
// (1 + 1, 119 columns): ~20 s and ~35-60 s on 2 cores.

function baseline(b: Record<string, unknown>, key: string): number {
  const lr = b.logistic_regression as { vertical_overlap: Record<string, { test_auc: number }> }
  return lr.vertical_overlap[key]!.test_auc
}

describe('vertical LR on wa_churn and lending_club', () => {
  it.each([
    // wa_churn: even exact LR on the intersection (0.834) is barely above the label party alone (0.831)
    { name: 'wa_churn', options: { epochs: 20, batchSize: 4096, learningRate: 0.05 }, margin: -0.02 },
    { name: 'lending_club', options: { epochs: 20, batchSize: 2048, learningRate: 0.05 }, margin: 0.01 }
  ])(
    '$name reaches the intersection baseline AUC',
    async ({ name, options, margin }) => {
      const data = await loadVerticalData(name)
      const nTrain = data.testRows.reduce((n, f) => n + (f === 0 ? 1 : 0), 0)
      const opts: VerticalLrOptions = { ...options, l2: 1 / nTrain, seed: `${name}-1` }
      const run = await runLrSession(data, opts, { timeoutMs: 180_000 })
      const target = baseline(data.baselines, 'intersection_train__intersection_test')
      const alone = baseline(data.baselines, 'label_party_only__full_test')
      const { test } = run.label
      console.log(
        `${name}: AUC ${test.auc.toFixed(4)} (intersection ${target.toFixed(4)}, label only ${alone.toFixed(4)}), ${(run.ms / 1000).toFixed(1)} s for ${opts.epochs} epochs incl. setup`
      )
      expect(test.auc).toBeGreaterThan(target - 0.01)
      expect(test.auc).toBeGreaterThan(alone + margin)
    },
    1_200_000
  )
})
