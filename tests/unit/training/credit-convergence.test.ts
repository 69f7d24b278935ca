import { beforeAll, describe, expect, it } from 'vitest'
import { createDenseTrainer } from '../../../node/training/dense-trainer.ts'
import { initTf } from '../../../node/training/tf-backend.ts'
import {
  binaryEvalLength,
  histogramAucError,
  histogramKsError,
  splitEvalVector
} from '../../../protocols/evaluation/binary-metrics.ts'
import { exactInertia } from '../../../protocols/evaluation/kmeans-metrics.ts'
import { logregSpec } from '../../../protocols/training/model-spec.ts'
import { trainClassifier, trainKMeans } from '../../../simulations/baselines/centralized.ts'
import { federatedClassifier, federatedKMeans } from '../../../simulations/baselines/federated.ts'
import { loadSharedDataset } from '../../../simulations/baselines/load-dataset.ts'
import type { SharedDataset } from '../../../simulations/baselines/load-dataset.ts'
import { localOnlyClassifiers } from '../../../simulations/baselines/local-only.ts'

/**
 * End-to-end math of the trainers + strategies on credit_data, in process (plain sums in place of
 * secure aggregation), against the scikit-learn numbers in datasets/credit_data/baselines.json.
 */

let ds: SharedDataset
const model = { kind: 'logreg', features: 26 } as const

beforeAll(async () => {
  await initTf()
  ds = await loadSharedDataset('credit_data')
})

describe('credit_data: logistic regression', () => {
  let centralAuc = 0

  it('centralized training reaches scikit-learn’s test AUC (0.838) within 0.01', async () => {
    const c = await trainClassifier(ds.train, ds.test, { model })
    centralAuc = c.test.auc!
    expect(Math.abs(centralAuc - ds.baselines.logistic_regression.centralized.test_auc)).toBeLessThan(0.01)
    expect(
      Math.abs(c.test.logloss! - ds.baselines.logistic_regression.centralized.test_log_loss)
    ).toBeLessThan(0.01)
  })

  it('3-party FedAvg (natural split, 20 rounds) matches centralized and beats every local-only model', async () => {
    const parties = ds.parties('horizontal_natural')
    const fed = await federatedClassifier(parties, { model, rounds: 20 })
    expect(fed.test.n).toBe(891)
    expect(Math.abs(fed.test.auc! - centralAuc)).toBeLessThan(0.01)
    expect(Math.abs(fed.test.auc! - ds.baselines.logistic_regression.centralized.test_auc)).toBeLessThan(0.01)
    const local = await localOnlyClassifiers(parties, ds.test, { model })
    const sk = ds.baselines.logistic_regression.local_only.horizontal_natural!.parties
    for (const l of local) {
      expect(fed.test.auc!).toBeGreaterThan(l.test.auc!)
      expect(fed.test.auc!).toBeGreaterThan(sk[l.party]!.test_auc)
    }

    // Acceptance 6: federated (histogram) AUC and KS equal the pooled exact ones within the resolution.
    const trainer = createDenseTrainer(logregSpec({ features: 26 }))
    const pooled = await trainer.evaluate(fed.global, ds.test)
    const sum = new Float64Array(binaryEvalLength(1000))
    for (const p of parties) {
      const v = await trainer.evaluationVector(fed.global, p.test, { bins: 1000 })
      for (let i = 0; i < v.length; i++) sum[i]! += v[i]!
    }
    const { pos, neg } = splitEvalVector(sum, 1000)
    expect(Math.abs(fed.test.auc! - pooled.auc!)).toBeLessThanOrEqual(histogramAucError(pos, neg))
    expect(Math.abs(fed.test.ks! - pooled.ks!)).toBeLessThanOrEqual(histogramKsError(pos, neg))
    expect(histogramAucError(pos, neg)).toBeLessThan(0.002)
    expect(fed.test.accuracy).toBe(pooled.accuracy)
  })

  it('FedProx (μ = 0.01) converges as well', async () => {
    const fed = await federatedClassifier(ds.parties('horizontal_natural'), { model, rounds: 20, mu: 0.01 })
    expect(Math.abs(fed.test.auc! - ds.baselines.logistic_regression.centralized.test_auc)).toBeLessThan(0.01)
  })

  it('record-level DP-SGD at ε = 1, δ = 1e-5 per party reaches test AUC >= 0.80', async () => {
    const fed = await federatedClassifier(ds.parties('horizontal_natural'), {
      model,
      rounds: 20,
      fit: { epochs: 1, batchSize: 64, learningRate: 0.5 },
      dp: { epsilon: 1, delta: 1e-5, clipNorm: 1 }
    })
    expect(fed.test.auc!).toBeGreaterThanOrEqual(0.8)
    for (const p of Object.values(fed.privacy)) {
      expect(p.epsilon).toBeLessThanOrEqual(1)
      expect(p.epsilon).toBeGreaterThan(0.99)
    }
  })
})

describe('credit_data: k-means (k = 4)', () => {
  it('centralized and 3-party federated training inertia within 2% of scikit-learn', async () => {
    const target = ds.baselines.kmeans['4']!.inertia_train
    const central = await trainKMeans(ds.train, ds.test, { k: 4, rounds: 25, silhouetteRows: 0 })
    expect(Math.abs(central.inertiaTrain / target - 1)).toBeLessThan(0.02)
    const fed = await federatedKMeans(ds.parties('horizontal_natural'), { k: 4, features: 26, rounds: 25 })
    const inertia = exactInertia(ds.train.x, 26, fed.centroids, 4)
    expect(Math.abs(inertia / target - 1)).toBeLessThan(0.02)
    // Sums of sufficient statistics are exact: federated = centralized from the same initialisation.
    expect(inertia).toBeCloseTo(central.inertiaTrain, 4)
    // The last round's federated inertia (sum of the parties' sse) is the inertia of its input centroids.
    expect(fed.rounds.at(-1)!.fit.inertia).toBeCloseTo(inertia, 2)
  })
})
