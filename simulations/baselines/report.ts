import type { Metrics } from '../../node/training/trainer.ts'
import type { ModelDescriptor } from '../../protocols/training/model-spec.ts'
import { trainClassifier, trainKMeans } from './centralized.ts'
import type { ClassifierOptions } from './centralized.ts'
import { loadSharedDataset } from './load-dataset.ts'
import { localOnlyClassifiers } from './local-only.ts'

/**
 * The `baselines` block of a simulation report (design.md "Output contracts"): centralized and
 * local-only metrics computed by the project's own trainers, plus scikit-learn's reference numbers
 * from baselines.json for comparison.
 */

/**
 * Report-shaped baselines.
 * @example
 * const b = await baselineReport('credit_data', { model: 'logreg' }) // b.centralized.auc
 */
export interface BaselineReport {
  dataset: string
  centralized: Metrics
  localOnly: Record<string, Metrics>
  reference: { centralized: Metrics; localOnly: Record<string, Metrics> }
}

/**
 * Centralized + local-only baselines of a shared dataset: a classifier (`logreg` or `mlp`) scored
 * on the common test set, or k-means (inertia on train and test, silhouette on a 2000-row sample).
 *
 * @example
 * await baselineReport('credit_data', { model: 'kmeans', k: 4 })
 */
export async function baselineReport(
  dataset: string,
  o: {
    model: 'logreg' | 'mlp' | 'kmeans'
    hidden?: number[]
    k?: number
    partition?: 'horizontal_natural' | 'horizontal_dirichlet'
    epochs?: number
    fit?: ClassifierOptions['fit']
  }
): Promise<BaselineReport> {
  const ds = await loadSharedDataset(dataset)
  const d = ds.train.features
  const partition = o.partition ?? 'horizontal_natural'
  const parties = ds.parties(partition)
  if (o.model === 'kmeans') {
    const k = o.k ?? 4
    const centralized = await trainKMeans(ds.train, ds.test, { k })
    const localOnly: Record<string, Metrics> = {}
    for (const p of parties) {
      const r = await trainKMeans(p.train, ds.test, { k, silhouetteRows: 0 })
      localOnly[p.name] = { inertiaTest: r.inertiaTest, nTrain: p.train.rows }
    }
    const ref = ds.baselines.kmeans[String(k)]
    return {
      dataset,
      centralized: {
        inertia: centralized.inertiaTrain,
        inertiaTest: centralized.inertiaTest,
        silhouette: centralized.silhouette
      },
      localOnly,
      reference: {
        centralized:
          ref === undefined
            ? {}
            : {
                inertia: ref.inertia_train,
                inertiaTest: ref.inertia_test,
                silhouette: ref.silhouette_train_sample
              },
        localOnly: {}
      }
    }
  }
  const model: Extract<ModelDescriptor, { kind: 'logreg' | 'mlp' }> =
    o.model === 'mlp'
      ? { kind: 'mlp', features: d, hidden: o.hidden ?? [32] }
      : { kind: 'logreg', features: d }
  const opts: ClassifierOptions = {
    model,
    ...(o.epochs === undefined ? {} : { epochs: o.epochs }),
    ...(o.fit === undefined ? {} : { fit: o.fit })
  }
  const central = await trainClassifier(ds.train, ds.test, opts)
  const local = await localOnlyClassifiers(parties, ds.test, opts)
  const lr = ds.baselines.logistic_regression
  const refLocal = lr.local_only[partition]?.parties ?? {}
  return {
    dataset,
    centralized: central.test,
    localOnly: Object.fromEntries(
      local.map((l) => [l.party, { ...l.test, nTrain: l.nTrain, ownTestAuc: l.ownTest.auc! }])
    ),
    reference: {
      centralized: {
        auc: lr.centralized.test_auc,
        accuracy: lr.centralized.test_accuracy,
        logloss: lr.centralized.test_log_loss
      },
      localOnly: Object.fromEntries(
        Object.entries(refLocal).map(([p, v]) => [p, { auc: v.test_auc, nTrain: v.n_train }])
      )
    }
  }
}
