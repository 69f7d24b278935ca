import type { ScenarioConfig } from '../../configs/scenario.ts'
import { subsetRows } from '../../node/training/matrix.ts'
import type { LocalDataset } from '../../node/training/matrix.ts'
import type { Metrics } from '../../node/training/trainer.ts'
import { trainClassifier, trainKMeans } from '../baselines/centralized.ts'
import { localOnlyClassifiers } from '../baselines/local-only.ts'
import type { PooledData } from '../data/pooled.ts'
import { selectFeatures } from '../data/pooled.ts'
import type { Partition } from '../partition/partitioners.ts'

/**
 * The report's baselines for any scenario (its own partition, its own data): the project's trainers
 * (simulations/baselines) on the pooled training rows (centralized) and on each party's training
 * rows alone (local-only), all scored on the dataset's common test split. Classifiers train for as
 * many epochs as the federated model saw in total (rounds × localEpochs) with the same batch size
 * and learning rate; k-means runs as many Lloyd steps as the job has rounds.
 */

/**
 * Report-shaped baselines (same metric keys as the federated model's `metrics.test`).
 * @example
 * b.centralized.auc; b.localOnly['lender_a'].auc
 */
export interface ScenarioBaselines {
  centralized: Metrics | null
  localOnly: Record<string, Metrics>
}

/**
 * Keys a classifier's report carries, in display order.
 * @example
 * CLASSIFIER_METRICS[0] // 'auc'
 */
export const CLASSIFIER_METRICS = ['auc', 'accuracy', 'logloss', 'ks'] as const
/**
 * Keys a k-means report carries, in display order.
 * @example
 * KMEANS_METRICS // ['inertia', 'silhouette']
 */
export const KMEANS_METRICS = ['inertia', 'silhouette'] as const

function pick(m: Metrics, keys: readonly string[], extra: Metrics = {}): Metrics {
  const out: Metrics = {}
  for (const k of keys) if (Number.isFinite(m[k])) out[k] = m[k]!
  for (const [k, v] of Object.entries(extra)) if (Number.isFinite(v)) out[k] = v
  return out
}

/**
 * Computes the scenario's baselines.
 *
 * @example
 * const b = await scenarioBaselines(scenario.config, pooled, parties)
 */
export async function scenarioBaselines(
  s: ScenarioConfig,
  pooled: PooledData,
  parties: Partition,
  options: { onStep?: (what: string) => void } = {}
): Promise<ScenarioBaselines> {
  const wantCentral = s.baselines.centralized
  const wantLocal = s.baselines.localOnly
  if (!wantCentral && !wantLocal) return { centralized: null, localOnly: {} }
  let { train, test } = pooled.baseline
  if (s.features !== undefined) {
    train = selectFeatures(train, s.features)
    test = selectFeatures(test, s.features)
  }
  const own = Object.entries(parties).map(([name, rows]) => {
    const mine = new Set(rows)
    return { name, train: subsetRows(train, (i) => mine.has(i)), test: subsetRows(test, (i) => mine.has(i)) }
  })
  const seed = `sim-${s.seed}/baseline`
  const m = s.model
  if (m.kind === 'kmeans') {
    const k = m.k
    const candidates = m.candidates ?? (s.dp === 'none' ? 10 : 1)
    let centralized: Metrics | null = null
    if (wantCentral) {
      options.onStep?.('centralized k-means')
      const c = await trainKMeans(train, test, { k, candidates, rounds: m.rounds, seed })
      centralized = pick({ inertia: c.inertiaTest, silhouette: c.silhouette, trainInertia: c.inertiaTrain }, [
        'inertia',
        'silhouette',
        'trainInertia'
      ])
    }
    const localOnly: Record<string, Metrics> = {}
    if (wantLocal) {
      for (const p of own) {
        if (p.train.rows < k) continue
        options.onStep?.(`local-only k-means: ${p.name}`)
        const r = await trainKMeans(p.train, test, {
          k,
          candidates,
          rounds: m.rounds,
          seed: `${seed}/${p.name}`,
          silhouetteRows: 0
        })
        localOnly[p.name] = pick({ inertia: r.inertiaTest, nTrain: p.train.rows }, ['inertia', 'nTrain'])
      }
    }
    return { centralized, localOnly }
  }
  const model =
    m.kind === 'mlp'
      ? { kind: 'mlp' as const, features: train.features, hidden: m.hidden }
      : { kind: 'logreg' as const, features: train.features }
  const fit = { batchSize: m.batchSize, learningRate: m.learningRate, ...(m.l2 > 0 ? { l2: m.l2 } : {}) }
  const opts = { model, epochs: m.rounds * m.localEpochs, fit, seed }
  let centralized: Metrics | null = null
  if (wantCentral) {
    options.onStep?.('centralized classifier')
    centralized = pick((await trainClassifier(train, test, opts)).test, CLASSIFIER_METRICS)
  }
  const localOnly: Record<string, Metrics> = {}
  if (wantLocal) {
    options.onStep?.('local-only classifiers')
    const usable = own.filter((p) => hasBothLabels(p.train))
    for (const r of await localOnlyClassifiers(usable, test, opts))
      localOnly[r.party] = pick(r.test, CLASSIFIER_METRICS, { nTrain: r.nTrain })
  }
  return { centralized, localOnly }
}

/** A party whose training rows hold one label only cannot train a classifier alone. */
function hasBothLabels(ds: LocalDataset): boolean {
  if (ds.y === null || ds.rows === 0) return false
  let pos = 0
  for (let i = 0; i < ds.y.length; i++) pos += ds.y[i]!
  return pos > 0 && pos < ds.rows
}
