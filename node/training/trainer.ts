import type { DpEvent } from '../../crypto/dp/events.ts'
import type { RandomSource } from '../../crypto/dp/random.ts'
import type { EvalConfig, FitConfig } from '../../protocols/training/instructions.ts'
import type { ModelSpec } from '../../protocols/training/model-spec.ts'
import type { AbortOptions } from '../../protocols/transport.ts'
import type { LocalDataset } from './matrix.ts'

/**
 * Named numbers about a fit or an evaluation. A trainer's metrics describe the node's own data and
 * stay on the node (its log, its API); only the `vector` of an update or an evaluation vector is
 * released, and only through secure aggregation.
 *
 * @example
 * const m: Metrics = { rows: 2248, loss: 0.47 }
 */
export type Metrics = Record<string, number>

/**
 * What one local fit releases (style.md C2). `vector` and `weight` are summed as they are by secure
 * aggregation (see protocols/strategies/strategy.ts `toSummand`):
 * - logreg / mlp: vector = w·Δ with Δ = local − global (clipped to L2 <= C under update-level DP),
 *   w = rows under 'samples' weighting, 1 under 'uniform';
 * - kmeans: vector = per-candidate [sums ‖ counts ‖ sse] sufficient statistics, weight = rows
 *   (1 under DP).
 * `event` describes the release's privacy cost for the node's ledger.
 *
 * @example
 * const { vector, weight, event } = await trainer.fit(global, train, cfg)
 */
export interface LocalUpdate {
  readonly vector: Float64Array
  readonly weight: number
  readonly event: DpEvent
  readonly metrics: Metrics
}

/**
 * Per-call options of a trainer.
 * @example
 * await trainer.fit(global, train, cfg, { rng: seededRandom(1), signal })
 */
export interface TrainOptions extends AbortOptions {
  /**
   * Randomness for batching, Poisson sampling and DP noise. Production leaves it unset
   * (crypto.getRandomValues); tests and simulations pass a seeded source for reproducibility.
   */
  rng?: RandomSource
}

/**
 * Local training and evaluation of one model kind.
 * @example
 * const trainer = createTrainer(spec)
 * const update = await trainer.fit(global, train, cfg)
 */
export interface Trainer<P> {
  readonly spec: ModelSpec<P>
  /** Trains from `global` on `data` and returns the update to aggregate. */
  fit(global: P, data: LocalDataset, cfg: FitConfig, options?: TrainOptions): Promise<LocalUpdate>
  /** Exact metrics of `global` on the node's own rows (local report; never released as is). */
  evaluate(global: P, data: LocalDataset, options?: TrainOptions): Promise<Metrics>
  /** The evaluation vector this node contributes to a federated evaluation (summed securely). */
  evaluationVector(
    global: P,
    data: LocalDataset,
    cfg?: EvalConfig,
    options?: TrainOptions
  ): Promise<Float64Array>
  /** Per-row output: positive-class probability (logreg, mlp) or cluster index (kmeans). */
  predict(global: P, data: LocalDataset, options?: TrainOptions): Promise<Float64Array>
}
