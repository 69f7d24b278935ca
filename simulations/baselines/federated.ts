import { createRdpAccountant } from '../../crypto/dp/accountants/rdp.ts'
import { composedEvent } from '../../crypto/dp/events.ts'
import { createDenseTrainer } from '../../node/training/dense-trainer.ts'
import { createKMeansTrainer } from '../../node/training/kmeans-trainer.ts'
import { createFedAvg } from '../../protocols/strategies/fedavg.ts'
import { createFedKMeans, finalizeKMeans } from '../../protocols/strategies/fed-kmeans.ts'
import { createFedProx } from '../../protocols/strategies/fedprox.ts'
import type { Metrics } from '../../protocols/strategies/strategy.ts'
import { planRecordLevel } from '../../protocols/training/dp-plan.ts'
import type { FitConfig } from '../../protocols/training/instructions.ts'
import { kmeansSpec, modelSpec } from '../../protocols/training/model-spec.ts'
import type { ModelDescriptor, NamedParams } from '../../protocols/training/model-spec.ts'
import { publicSeedSource, seedBytes } from '../../protocols/training/public-seed.ts'
import { DEFAULT_CLASSIFIER_FIT } from './centralized.ts'
import { runInProcess } from './in-process.ts'
import type { RoundRecord, SimParty } from './in-process.ts'

/**
 * Federated runs in one process (plain sums instead of secure aggregation): FedAvg / FedProx for the
 * classifiers, with optional record-level DP calibrated per party, and federated k-means. Seeded.
 */

/**
 * Options of {@link federatedClassifier}.
 * @example
 * const o: FederatedClassifierOptions = { model: { kind: 'logreg', features: 26 }, rounds: 20 }
 */
export interface FederatedClassifierOptions {
  model: Extract<ModelDescriptor, { kind: 'logreg' | 'mlp' }>
  /** @default 20 */
  rounds?: number
  /** @default DEFAULT_CLASSIFIER_FIT */
  fit?: FitConfig
  /** FedProx μ (FedAvg when unset). */
  mu?: number
  /**
   * Record-level DP-SGD with a per-party target: each party calibrates its own noise multiplier for
   * its own sampling rate and the job's total steps (crypto/dp calibrate).
   */
  dp?: { epsilon: number; delta: number; clipNorm: number }
  /** @default 'cohort-federated' */
  seed?: string
  onRound?: (r: RoundRecord) => void
}

/**
 * Trains a classifier federatedly and evaluates it federatedly (histogram AUC/KS over the parties'
 * test rows) after every 5th and the last round.
 *
 * @example
 * const r = await federatedClassifier(ds.parties('horizontal_natural'), { model: { kind: 'logreg', features: 26 } })
 * r.test.auc // ~0.837 on credit_data
 */
export async function federatedClassifier(
  parties: readonly SimParty[],
  o: FederatedClassifierOptions
): Promise<{
  global: NamedParams
  rounds: RoundRecord[]
  test: Metrics
  privacy: Record<string, { epsilon: number; delta: number; noiseMultiplier: number }>
}> {
  const seed = o.seed ?? 'cohort-federated'
  const rounds = o.rounds ?? 20
  const spec = modelSpec(o.model)
  const trainer = createDenseTrainer(spec)
  const base = o.fit ?? DEFAULT_CLASSIFIER_FIT
  const dp = o.dp
  const fit: FitConfig =
    dp === undefined
      ? base
      : { ...base, dp: { kind: 'record-level', clipNorm: dp.clipNorm, noiseMultiplier: 1 } }
  const init = { spec, fit, rng: publicSeedSource(seedBytes(`${seed}/select`)) }
  const strategy = o.mu === undefined ? createFedAvg(init) : createFedProx({ ...init, mu: o.mu })
  const z = new Map<string, number>()
  const configFor =
    dp === undefined
      ? undefined
      : (party: string, c: FitConfig): FitConfig => {
          if (!z.has(party)) {
            const n = parties.find((p) => p.name === party)!.train.rows
            const plan = planRecordLevel({
              epsilon: dp.epsilon,
              delta: dp.delta,
              n,
              batchSize: c.batchSize,
              epochs: c.epochs,
              rounds
            })
            z.set(party, plan.noiseMultiplier)
          }
          return { ...c, dp: { kind: 'record-level', clipNorm: dp.clipNorm, noiseMultiplier: z.get(party)! } }
        }
  const res = await runInProcess({
    strategy,
    trainer,
    parties,
    rounds,
    global: spec.init(seedBytes(`${seed}/init`)),
    evalEvery: 5,
    rngFor: (party, round) => publicSeedSource(seedBytes(`${seed}/${party}/${round}`)),
    ...(configFor === undefined ? {} : { configFor }),
    ...(o.onRound === undefined ? {} : { onRound: o.onRound })
  })
  const privacy: Record<string, { epsilon: number; delta: number; noiseMultiplier: number }> = {}
  if (dp !== undefined) {
    for (const [party, events] of res.events) {
      const epsilon = createRdpAccountant().compose(composedEvent(events)).epsilon(dp.delta)
      privacy[party] = { epsilon, delta: dp.delta, noiseMultiplier: z.get(party)! }
    }
  }
  return { global: res.global, rounds: res.rounds, test: res.rounds.at(-1)!.evaluation!, privacy }
}

/**
 * Federated k-means (sufficient statistics summed in the clear) with `candidates` initialisations;
 * returns the finalised centroids and the federated training inertia of the last round.
 *
 * @example
 * const km = await federatedKMeans(ds.parties('horizontal_natural'), { k: 4, features: 26 })
 */
export async function federatedKMeans(
  parties: readonly SimParty[],
  o: { k: number; features: number; candidates?: number; rounds?: number; seed?: string }
): Promise<{ centroids: Float64Array; rounds: RoundRecord[]; best: number }> {
  const seed = o.seed ?? 'cohort-baseline'
  const spec = kmeansSpec({ k: o.k, features: o.features, candidates: o.candidates ?? 10 })
  const strategy = createFedKMeans({ spec, rng: publicSeedSource(seedBytes(`${seed}/reseed`)) })
  const res = await runInProcess({
    strategy,
    trainer: createKMeansTrainer(spec),
    parties,
    rounds: o.rounds ?? 30,
    global: spec.init(seedBytes(`${seed}/init`)),
    evalEvery: Number.MAX_SAFE_INTEGER
  })
  const best = res.rounds.at(-1)!.fit.best!
  return { centroids: finalizeKMeans(spec, res.global, best).params.centroids!, rounds: res.rounds, best }
}
