import { describe, expect, it } from 'vitest'
import type { VerticalLrOptions } from '../../protocols/vertical/lr/index.ts'
import { loadVerticalData } from '../helpers/vertical-data.ts'
import { labelOnlyAuc } from '../helpers/vertical-label-only.ts'
import { runLrSession } from '../helpers/vertical-lr-session.ts'

// Issue 7, acceptance 3 for wa_churn (1 label + 2 feature parties, 40 columns) and lending_club
// (1 + 1, 119 columns): ~40 s and ~35-60 s on 2 cores.

function baseline(b: Record<string, unknown>, key: string): number {
  const lr = b.logistic_regression as { vertical_overlap: Record<string, { test_auc: number }> }
  return lr.vertical_overlap[key]!.test_auc
}

describe('vertical LR on wa_churn and lending_club', () => {
  it.each([
    // wa_churn: on these test rows the label party alone (all its 4,803 training rows) scores 0.832 and
    // exact LR on the intersection 0.834, so the feature parties add almost nothing: vertical LR can
    // only tie the label party here (anchored: 0.832 at 40 epochs, 0.833-0.834 converged; Taylor at
    // 0 stays at 0.824-0.827). 40 epochs: at 20 the full-batch Adam run is still oscillating.
    { name: 'wa_churn', options: { epochs: 40, batchSize: 4096, learningRate: 0.05 }, vsAlone: -0.005 },
    { name: 'lending_club', options: { epochs: 20, batchSize: 2048, learningRate: 0.05 }, vsAlone: 0.01 }
  ])(
    '$name reaches the intersection baseline AUC',
    async ({ name, options, vsAlone }) => {
      const data = await loadVerticalData(name)
      const nTrain = data.testRows.reduce((n, f) => n + (f === 0 ? 1 : 0), 0)
      const opts: VerticalLrOptions = { ...options, l2: 1 / nTrain, seed: `${name}-1` }
      const run = await runLrSession(data, opts, { timeoutMs: 180_000 })
      const target = baseline(data.baselines, 'intersection_train__intersection_test')
      const alone = await labelOnlyAuc(data)
      const { test } = run.label
      console.log(
        `${name}: AUC ${test.auc.toFixed(4)} (intersection ${target.toFixed(4)}, label only on the same test rows ${alone.auc.toFixed(4)}), ${(run.ms / 1000).toFixed(1)} s for ${opts.epochs} epochs incl. setup`
      )
      expect(test.auc).toBeGreaterThan(target - 0.01)
      expect(test.auc).toBeGreaterThan(alone.auc + vsAlone)
    },
    1_200_000
  )
})
