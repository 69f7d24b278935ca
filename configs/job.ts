import { z } from 'zod'

/**
 * The model part of a job (and of a simulation scenario: both use this exact shape, so a scenario's
 * `model:` block can be submitted as a job unchanged).
 */
export const ModelConfig = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('logreg'),
      rounds: z.number().int().min(1).max(10_000).default(20),
      localEpochs: z.number().int().min(1).max(1000).default(1),
      batchSize: z.number().int().min(1).max(1_000_000).default(64),
      learningRate: z.number().positive().max(100).default(0.1),
      /** FedProx proximal term μ; 0 = FedAvg. */
      mu: z.number().nonnegative().default(0),
      l2: z.number().nonnegative().default(0)
    })
    .strict(),
  z
    .object({
      kind: z.literal('mlp'),
      hidden: z.array(z.number().int().min(1).max(4096)).min(1).max(4).default([32]),
      rounds: z.number().int().min(1).max(10_000).default(20),
      localEpochs: z.number().int().min(1).max(1000).default(1),
      batchSize: z.number().int().min(1).max(1_000_000).default(64),
      learningRate: z.number().positive().max(100).default(0.05),
      mu: z.number().nonnegative().default(0),
      l2: z.number().nonnegative().default(0)
    })
    .strict(),
  z
    .object({
      kind: z.literal('kmeans'),
      k: z.number().int().min(2).max(256),
      rounds: z.number().int().min(1).max(1000).default(10),
      /**
       * Initialisations trained side by side, the best kept (scikit-learn's n_init). Each multiplies
       * the vector length and, under DP, the sensitivity by sqrt(candidates).
       * @default 10 without DP, 1 with DP
       */
      candidates: z.number().int().min(1).max(64).optional(),
      /** Standard deviation of the random initial centroids in the standardised space. @default 1 */
      initScale: z.number().positive().max(100).optional()
    })
    .strict()
])
export type ModelConfig = z.infer<typeof ModelConfig>

/** Differential privacy of a job: `none`, or a target epsilon / an explicit noise multiplier. */
export const DpConfig = z.union([
  z.literal('none'),
  z
    .object({
      /** `record`: DP-SGD per example at each node; `update`: distributed noise on clipped updates. */
      mode: z.enum(['record', 'update']).default('record'),
      epsilon: z.number().positive().optional(),
      noiseMultiplier: z.number().positive().optional(),
      delta: z.number().positive().lt(1).default(1e-5),
      clipNorm: z.number().positive().default(1)
    })
    .strict()
    .refine((d) => (d.epsilon === undefined) !== (d.noiseMultiplier === undefined), {
      message: 'give exactly one of epsilon or noiseMultiplier'
    })
])
export type DpConfig = z.infer<typeof DpConfig>

export const SecureAggregation = z.enum(['secagg+', 'he', 'none'])
export type SecureAggregation = z.infer<typeof SecureAggregation>

/** What one node contributes: its dataset and, optionally, a subset of features. */
export const NodeDataConfig = z
  .object({
    dataset: z.string().min(1),
    /** Encoded feature names to use; omitted = every feature of the dataset's schema. */
    features: z.array(z.string()).optional()
  })
  .strict()

/**
 * Vertical learning (docs/vertical.md): the parties hold different columns of the same customers.
 * Rows are aligned by PSI among the nodes (the result stays on each node); the model is trained
 * peer-to-peer, each party keeping its own slice of it. Per-node datasets and feature columns come
 * from `data` / `nodes.<org>`; `model` is `logreg` (rounds = epochs over the aligned training rows)
 * or `kmeans` (rounds = Lloyd iterations, candidates = initialisations).
 */
export const VerticalConfig = z
  .object({
    /** The org that holds the label (logreg) or leads the session (k-means); it owns the split rule. */
    label: z.string().min(1),
    /** Id column of every party's dataset (the PSI join key). @default each dataset's id column */
    idColumn: z.string().min(1).optional(),
    psi: z
      .object({
        /** What every party learns from the PSI: the aligned intersection itself (nothing else works). */
        reveal: z.literal('intersection').default('intersection'),
        normalisation: z.enum(['nfkc-casefold-trim', 'exact']).default('nfkc-casefold-trim')
      })
      .strict()
      .default({ reveal: 'intersection', normalisation: 'nfkc-casefold-trim' }),
    /** Logistic regression optimiser. @default adam */
    optimizer: z.enum(['adam', 'sgd']).optional(),
    /** k-means: stop when no centroid moves more than this (standardised units). */
    tolerance: z.number().positive().max(100).optional()
  })
  .strict()
export type VerticalConfig = z.infer<typeof VerticalConfig>

/**
 * A training job file (`cohort job submit FILE`). Every node checks it against its own policy
 * before taking part.
 */
export const JobConfig = z
  .object({
    name: z.string().min(1).max(100),
    model: ModelConfig,
    /** Default data selection for every node. */
    data: NodeDataConfig,
    /** Per-org overrides of `data`. */
    nodes: z.record(z.string(), NodeDataConfig).default({}),
    /** Orgs that take part; omitted = every `node` member of the federation. */
    participants: z.array(z.string()).optional(),
    secureAggregation: SecureAggregation.default('secagg+'),
    /**
     * Homomorphic aggregation (`secureAggregation: he`): the key-holder's public-key fingerprint the
     * job pins (nodes refuse any other key), and optionally which key-holder org to use (default:
     * the manifest's only `keyholder`). Relies on the coordinator and the key-holder not colluding
     * (protocols/he-agg/README.md).
     */
    he: z
      .object({
        keyFingerprint: z.string().regex(/^[0-9a-f]{16,128}$/, 'a hex key fingerprint'),
        keyholder: z.string().min(1).optional()
      })
      .strict()
      .optional(),
    dp: DpConfig.default('none'),
    minParticipants: z.number().int().min(2).default(3),
    secagg: z
      .object({
        /** Fraction of the round's parties that must survive (threshold t = ceil(fraction * n)). */
        threshold: z.number().gt(0.5).max(1).default(0.67),
        /** Neighbours per party; 'full' = complete graph. */
        neighbours: z.union([z.literal('full'), z.number().int().min(2)]).default('full'),
        /**
         * Ring bits of the fixed-point sums. Training vectors hold sample-weighted updates, counts
         * and sums of squares, so the runner needs 62 bits for 2^-24 precision over ±2^27
         * (protocols/training/quantisation.ts); smaller rings are refused at job start.
         */
        ringBits: z.number().int().min(16).max(62).default(62)
      })
      .strict()
      .default({ threshold: 0.67, neighbours: 'full', ringBits: 62 }),
    /**
     * Federated feature statistics (count, mean, std per numeric column, level counts per category),
     * computed by secure aggregation before round 1; every node standardises with them.
     */
    statistics: z
      .object({
        /**
         * Public value range per numeric column, `[low, high]`. With DP every numeric column needs
         * one (a row's contribution must be bounded); values are clamped to it before summing.
         */
        ranges: z.record(z.string(), z.tuple([z.number(), z.number()])).default({}),
        /** Noise of the statistics release under DP, as a multiple of its sensitivity. */
        noiseMultiplier: z.number().positive().max(1000).default(10)
      })
      .strict()
      .default({ ranges: {}, noiseMultiplier: 10 }),
    evaluation: z
      .object({
        /** Score-histogram bins of the federated AUC / KS. */
        bins: z
          .number()
          .int()
          .min(10)
          .max(1 << 16)
          .default(1000)
      })
      .strict()
      .default({ bins: 1000 }),
    deadlines: z
      .object({
        phaseMs: z.number().int().min(100).default(60_000),
        trainMs: z.number().int().min(100).default(600_000)
      })
      .strict()
      .default({ phaseMs: 60_000, trainMs: 600_000 }),
    seed: z.number().int().nonnegative().optional(),
    /** A vertical job (see {@link VerticalConfig}); absent = horizontal federated learning. */
    vertical: VerticalConfig.optional()
  })
  .strict()
export type JobConfig = z.infer<typeof JobConfig>
