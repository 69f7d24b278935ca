import { z } from 'zod'
import type { PeerRef } from '../transport.ts'
import { TrainingConfigError } from './errors.ts'

/**
 * What a strategy asks of a node for one round: the local-training configuration (`FitConfig`) and
 * the evaluation configuration (`EvalConfig`). The runner wraps them in its wire message (job id,
 * model version, secure-aggregation and quantisation parameters); everything here is JSON-able and
 * has a zod schema, so a node validates it before use.
 */

/**
 * Differential privacy of one local fit.
 * - `none`: the update is released as is (its event is `non-private`).
 * - `record-level`: DP-SGD (Abadi et al. 2016): Poisson sampling at rate q = batchSize / n, each
 *   example's gradient clipped to `clipNorm`, N(0, (noiseMultiplier · clipNorm)^2) added to the sum.
 *   The privacy unit is one record of the node's dataset; the event is
 *   self-composed(poisson-sampled(q, gaussian(z)), steps).
 * - `update-level`: the trainer clips its released vector (LR/MLP: the model delta; k-means: each
 *   row's contribution) to `clipNorm`, and the runner adds a distributed discrete Gaussian share after
 *   quantising with `scale` (sigma_total = noiseMultiplier × the quantised sensitivity, summed over at
 *   least `minParticipants` parties). The privacy unit is the node's whole update for LR/MLP (one
 *   record for k-means, whose rows are clipped one by one).
 *
 * @example
 * const dp: DpConfig = { kind: 'record-level', clipNorm: 1, noiseMultiplier: 1.1 }
 */
export type DpConfig =
  | { readonly kind: 'none' }
  | { readonly kind: 'record-level'; readonly clipNorm: number; readonly noiseMultiplier: number }
  | {
      readonly kind: 'update-level'
      readonly clipNorm: number
      readonly noiseMultiplier: number
      readonly minParticipants: number
      /** Fixed-point scale 2^f of the secure-aggregation quantiser. */
      readonly scale: number
    }

/**
 * Local-training configuration of one round.
 * @example
 * const cfg: FitConfig = { epochs: 1, batchSize: 64, learningRate: 0.1 }
 */
export interface FitConfig {
  /** Passes over the local training rows (LR/MLP). k-means always does one Lloyd step. */
  readonly epochs: number
  /** Mini-batch size; with record-level DP the expected Poisson batch size. */
  readonly batchSize: number
  readonly learningRate: number
  /** @default 'sgd' */
  readonly optimizer?: 'sgd' | 'adam'
  /** Heavy-ball momentum of 'sgd' (state reset every round). @default 0 */
  readonly momentum?: number
  /** L2 penalty (λ/2)·||kernels||^2 per example-averaged loss; biases are not penalised. @default 0 */
  readonly l2?: number
  /** FedProx proximal weight μ: adds (μ/2)·||w - w_global||^2 to the local objective. @default 0 */
  readonly proximalMu?: number
  /**
   * How the update is weighted in FedAvg: 'samples' releases n·delta with weight n (the counts are
   * summed inside the secure aggregate); 'uniform' releases delta with weight 1. @default 'samples'
   * without DP, 'uniform' with DP (a record-count is not private, and n·delta would scale the
   * sensitivity by n).
   */
  readonly weighting?: 'samples' | 'uniform'
  /** @default { kind: 'none' } */
  readonly dp?: DpConfig
}

/**
 * Federated evaluation configuration.
 * @example
 * const e: EvalConfig = { bins: 1000 }
 */
export interface EvalConfig {
  /** Score-histogram bins for AUC / KS (>= 1000 for the issue's resolution). @default 1000 */
  readonly bins?: number
  /** Classification threshold on the probability. @default 0.5 */
  readonly threshold?: number
}

/**
 * What the strategy knows about the fleet when it configures a round.
 * @example
 * const fleet: FleetView = { available: ['peer-a', 'peer-b', 'peer-c'] }
 */
export interface FleetView {
  /** Connected nodes that accepted the job, in a stable order. */
  readonly available: readonly PeerRef[]
}

/**
 * A fit request for one selected node.
 * @example
 * const i: FitInstruction = { peer: 'peer-a', round: 3, config }
 */
export interface FitInstruction {
  readonly peer: PeerRef
  readonly round: number
  readonly config: FitConfig
}

/**
 * An evaluation request for one selected node.
 * @example
 * const i: EvalInstruction = { peer: 'peer-a', round: 3, config: { bins: 1000 } }
 */
export interface EvalInstruction {
  readonly peer: PeerRef
  readonly round: number
  readonly config: EvalConfig
}

const positive = z.number().positive().finite()

/** zod schema of {@link DpConfig}. @example DpConfigSchema.parse({ kind: 'none' }) */
export const DpConfigSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }).strict(),
  z.object({ kind: z.literal('record-level'), clipNorm: positive, noiseMultiplier: positive }).strict(),
  z
    .object({
      kind: z.literal('update-level'),
      clipNorm: positive,
      noiseMultiplier: positive,
      minParticipants: z.int().min(1).max(100_000),
      scale: positive.refine((s) => Number.isInteger(Math.log2(s)), 'scale must be a power of two')
    })
    .strict()
])

/** zod schema of {@link FitConfig}. @example FitConfigSchema.parse({ epochs: 1, batchSize: 32, learningRate: 0.1 }) */
export const FitConfigSchema = z
  .object({
    epochs: z.int().min(1).max(1000),
    batchSize: z
      .int()
      .min(1)
      .max(1 << 20),
    learningRate: positive.max(100),
    optimizer: z.enum(['sgd', 'adam']).optional(),
    momentum: z.number().min(0).lt(1).optional(),
    l2: z.number().min(0).finite().optional(),
    proximalMu: z.number().min(0).finite().optional(),
    weighting: z.enum(['samples', 'uniform']).optional(),
    dp: DpConfigSchema.optional()
  })
  .strict()

/** zod schema of {@link EvalConfig}. @example EvalConfigSchema.parse({ bins: 2000 }) */
export const EvalConfigSchema = z
  .object({
    bins: z
      .int()
      .min(2)
      .max(1 << 20)
      .optional(),
    threshold: z.number().gt(0).lt(1).optional()
  })
  .strict()

/**
 * A FitConfig with every default filled in.
 * @example
 * resolveFitConfig({ epochs: 1, batchSize: 32, learningRate: 0.1 }).weighting // 'samples'
 */
export type ResolvedFitConfig = Required<FitConfig>

/**
 * Validates a FitConfig (zod) and fills its defaults.
 *
 * @throws TrainingConfigError naming the first problem
 * @example
 * const cfg = resolveFitConfig(instruction.config)
 */
export function resolveFitConfig(cfg: FitConfig): ResolvedFitConfig {
  const r = FitConfigSchema.safeParse(cfg)
  if (!r.success) {
    const i = r.error.issues[0]!
    throw new TrainingConfigError(`fit config: ${i.path.join('.') || '(root)'}: ${i.message}`)
  }
  const c = r.data
  const dp: DpConfig = c.dp ?? { kind: 'none' }
  return Object.freeze({
    epochs: c.epochs,
    batchSize: c.batchSize,
    learningRate: c.learningRate,
    optimizer: c.optimizer ?? 'sgd',
    momentum: c.momentum ?? 0,
    l2: c.l2 ?? 0,
    proximalMu: c.proximalMu ?? 0,
    weighting: c.weighting ?? (dp.kind === 'none' ? 'samples' : 'uniform'),
    dp
  })
}

/** Default number of score-histogram bins. @example DEFAULT_EVAL_BINS // 1000 */
export const DEFAULT_EVAL_BINS = 1000

/**
 * Validates an EvalConfig and fills its defaults.
 * @example
 * resolveEvalConfig({}) // { bins: 1000, threshold: 0.5 }
 */
export function resolveEvalConfig(cfg: EvalConfig = {}): Required<EvalConfig> {
  const r = EvalConfigSchema.safeParse(cfg)
  if (!r.success) {
    const i = r.error.issues[0]!
    throw new TrainingConfigError(`eval config: ${i.path.join('.') || '(root)'}: ${i.message}`)
  }
  return Object.freeze({ bins: r.data.bins ?? DEFAULT_EVAL_BINS, threshold: r.data.threshold ?? 0.5 })
}
