import type { RandomSource } from '../../crypto/dp/random.ts'
import { createDenseTrainer } from '../../node/training/dense-trainer.ts'
import { createKMeansTrainer } from '../../node/training/kmeans-trainer.ts'
import type { LocalDataset } from '../../node/training/matrix.ts'
import type { Metrics } from '../../node/training/trainer.ts'
import { exactInertia, assignClusters, silhouette } from '../../protocols/evaluation/kmeans-metrics.ts'
import { createFedKMeans, finalizeKMeans } from '../../protocols/strategies/fed-kmeans.ts'
import type { FitConfig } from '../../protocols/training/instructions.ts'
import { kmeansSpec, modelSpec } from '../../protocols/training/model-spec.ts'
import type { ModelDescriptor, NamedParams } from '../../protocols/training/model-spec.ts'
import { publicSeedSource, seedBytes } from '../../protocols/training/public-seed.ts'
import { runInProcess } from './in-process.ts'

/**
 * Centralized baselines with the project's own trainers (the same code the nodes run), on pooled
 * training rows: what a federated model is compared with in reports. Non-federated loops; seeded,
 * so a report is reproducible.
 */

/**
 * Local-training defaults of the LR / MLP baselines (and of the federated simulations): plain SGD,
 * step 0.1, batches of 64 (20 epochs centralized, 1 epoch per round federated).
 * @example
 * trainClassifier(train, test, { model, fit: DEFAULT_CLASSIFIER_FIT })
 */
export const DEFAULT_CLASSIFIER_FIT: FitConfig = Object.freeze({
  epochs: 1,
  batchSize: 64,
  learningRate: 0.1
})

/**
 * Options of {@link trainClassifier}.
 * @example
 * const o: ClassifierOptions = { model: { kind: 'logreg', features: 26 }, epochs: 20 }
 */
export interface ClassifierOptions {
  model: Extract<ModelDescriptor, { kind: 'logreg' | 'mlp' }>
  /** Passes over the rows. @default 20 */
  epochs?: number
  /** Everything but `epochs`. @default DEFAULT_CLASSIFIER_FIT */
  fit?: Omit<FitConfig, 'epochs'>
  /** @default 'cohort-baseline' */
  seed?: string
}

/**
 * Trains a classifier on `train` alone and reports exact metrics on `test` (and on `train`).
 *
 * @example
 * const { test } = await trainClassifier(ds.train, ds.test, { model: { kind: 'logreg', features: 26 } })
 * test.auc // ~0.837 on credit_data
 */
export async function trainClassifier(
  train: LocalDataset,
  test: LocalDataset,
  o: ClassifierOptions
): Promise<{ params: NamedParams; test: Metrics; train: Metrics; ms: number }> {
  const started = performance.now()
  const seed = o.seed ?? 'cohort-baseline'
  const spec = modelSpec(o.model)
  const trainer = createDenseTrainer(spec)
  const global = spec.init(seedBytes(`${seed}/init`))
  const rng: RandomSource = publicSeedSource(seedBytes(`${seed}/batches`))
  const fit = { ...DEFAULT_CLASSIFIER_FIT, ...o.fit, epochs: o.epochs ?? 20 }
  const update = await trainer.fit(global, train, fit, { rng })
  const g = spec.flatten(global)
  const params = spec.unflatten(g.map((v, i) => v + update.vector[i]! / update.weight))
  return {
    params,
    test: await trainer.evaluate(params, test),
    train: await trainer.evaluate(params, train),
    ms: performance.now() - started
  }
}

/**
 * Options of {@link trainKMeans}.
 * @example
 * const o: KMeansOptions = { k: 4, candidates: 10 }
 */
export interface KMeansOptions {
  k: number
  /** Random initialisations run side by side (kmeansSpec). @default 10 */
  candidates?: number
  /** Lloyd iterations. @default 30 */
  rounds?: number
  /** @default 'cohort-baseline' */
  seed?: string
  /** Rows of the exact-silhouette sample (0 = skip). @default 2000 */
  silhouetteRows?: number
}

/**
 * k-means on `train` alone with the project's trainer and strategy (random initialisation from the
 * standardised feature distribution, best of `candidates`), with train/test inertia and the exact
 * silhouette on a seeded sample of training rows.
 *
 * @example
 * const km = await trainKMeans(ds.train, ds.test, { k: 4 }) // km.inertiaTrain within ~0.3 % of sklearn
 */
export async function trainKMeans(
  train: LocalDataset,
  test: LocalDataset,
  o: KMeansOptions
): Promise<{
  centroids: Float64Array
  inertiaTrain: number
  inertiaTest: number
  silhouette: number
  ms: number
}> {
  const started = performance.now()
  const seed = o.seed ?? 'cohort-baseline'
  const d = train.features
  const spec = kmeansSpec({ k: o.k, features: d, candidates: o.candidates ?? 10 })
  const strategy = createFedKMeans({ spec, rng: publicSeedSource(seedBytes(`${seed}/reseed`)) })
  const res = await runInProcess({
    strategy,
    trainer: createKMeansTrainer(spec),
    parties: [{ name: 'pooled', train, test }],
    rounds: o.rounds ?? 30,
    global: spec.init(seedBytes(`${seed}/init`)),
    evalEvery: Number.MAX_SAFE_INTEGER
  })
  // The last round's training inertia per candidate picks the model (never the test rows).
  const best = res.rounds.at(-1)!.fit.best!
  const centroids = finalizeKMeans(spec, res.global, best).params.centroids!
  const rows = o.silhouetteRows ?? 2000
  let sil = Number.NaN
  if (rows > 0) {
    const labels = assignClusters(train.x, d, centroids, o.k)
    sil = silhouette(
      train.x,
      d,
      labels,
      o.k,
      sampleRows(train.rows, rows, publicSeedSource(seedBytes(`${seed}/silhouette`)))
    )
  }
  return {
    centroids,
    inertiaTrain: exactInertia(train.x, d, centroids, o.k),
    inertiaTest: exactInertia(test.x, d, centroids, o.k),
    silhouette: sil,
    ms: performance.now() - started
  }
}

function sampleRows(n: number, m: number, rng: RandomSource): Int32Array {
  if (m >= n) return Int32Array.from({ length: n }, (_, i) => i)
  const idx = Int32Array.from({ length: n }, (_, i) => i)
  for (let i = 0; i < m; i++) {
    const j = i + rng.uniformInt(n - i)
    const t = idx[i]!
    idx[i] = idx[j]!
    idx[j] = t
  }
  return idx.slice(0, m).sort()
}
