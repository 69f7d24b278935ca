import { z } from 'zod'

/**
 * The job as a node sees it: what the coordinator offers in `/cohort/train/1.0.0` and repeats in
 * every request, so a node can check each request against its policy without keeping job state
 * (a node that restarted mid-job still knows what it agreed to). It mirrors the job file
 * (configs/job.ts) with the data selection resolved for the receiving node; protocols/ cannot import
 * configs/, so the shape is declared here and the coordinator maps one onto the other.
 */

const positive = z.number().positive().finite()

/**
 * zod schema of the model part of a {@link JobSummary}.
 * @example
 * JobModelSchema.parse({ kind: 'logreg', rounds: 20 })
 */
export const JobModelSchema = z.strictObject({
  kind: z.enum(['logreg', 'mlp', 'kmeans']),
  rounds: z.int().min(1).max(10_000),
  localEpochs: z.int().min(1).max(1000).optional(),
  batchSize: z
    .int()
    .min(1)
    .max(1 << 20)
    .optional(),
  learningRate: positive.max(100).optional(),
  mu: z.number().min(0).finite().optional(),
  l2: z.number().min(0).finite().optional(),
  hidden: z.array(z.int().min(1).max(4096)).min(1).max(4).optional(),
  k: z.int().min(2).max(256).optional(),
  candidates: z.int().min(1).max(64).optional(),
  initScale: positive.max(100).optional()
})

/**
 * zod schema of a job's differential privacy (null = none).
 * @example
 * JobDpSchema.parse({ mode: 'record', epsilon: 1, delta: 1e-5, clipNorm: 1 })
 */
export const JobDpSchema = z
  .strictObject({
    mode: z.enum(['record', 'update']),
    epsilon: positive.optional(),
    noiseMultiplier: positive.optional(),
    delta: positive.lt(1),
    clipNorm: positive
  })
  .refine((d) => (d.epsilon === undefined) !== (d.noiseMultiplier === undefined), {
    message: 'give exactly one of epsilon or noiseMultiplier'
  })
  .nullable()

/**
 * zod schema of a {@link JobSummary}.
 * @example
 * JobSummarySchema.parse(summary)
 */
export const JobSummarySchema = z.strictObject({
  name: z.string().min(1).max(100),
  model: JobModelSchema,
  /** The receiving node's dataset. */
  dataset: z.string().min(1).max(64),
  /** Encoded feature names, in model order; omitted = every feature of the node's dataset. */
  features: z.array(z.string().min(1).max(200)).min(1).max(4096).optional(),
  secureAggregation: z.enum(['secagg+', 'he', 'none']),
  /** Homomorphic aggregation: the key fingerprint the job pins. */
  he: z.strictObject({ keyFingerprint: z.string().regex(/^[0-9a-f]{16,128}$/) }).optional(),
  /** Ring bits of the secure sums (fixes the quantisation scales, protocols/training/quantisation.ts). */
  ringBits: z.int().min(16).max(62),
  dp: JobDpSchema,
  minParticipants: z.int().min(2).max(100_000),
  statistics: z.strictObject({
    ranges: z.record(z.string().max(200), z.tuple([z.number().finite(), z.number().finite()])),
    noiseMultiplier: positive.max(1000)
  }),
  evaluation: z.strictObject({
    bins: z
      .int()
      .min(2)
      .max(1 << 16)
  }),
  /** How many nodes the job was offered to. */
  offered: z.int().min(1).max(100_000)
})

/**
 * The job as offered to one node.
 * @example
 * const s: JobSummary = { name: 'risk', model: { kind: 'logreg', rounds: 20 }, dataset: 'credit_data', ... }
 */
export type JobSummary = z.infer<typeof JobSummarySchema>
/**
 * A job's DP settings (null = none).
 * @example
 * const dp: JobDp = { mode: 'update', noiseMultiplier: 1, delta: 1e-5, clipNorm: 1 }
 */
export type JobDp = z.infer<typeof JobDpSchema>

/** Defaults of the local-training settings a summary may leave out (configs/job.ts defaults). */
const DEFAULTS = { localEpochs: 1, batchSize: 64, learningRate: 0.1, mu: 0, l2: 0 } as const

/**
 * The summary's local-training settings with defaults filled in.
 *
 * @example
 * trainingSettings(summary).batchSize // 64
 */
export function trainingSettings(s: JobSummary): {
  localEpochs: number
  batchSize: number
  learningRate: number
  mu: number
  l2: number
} {
  const m = s.model
  return {
    localEpochs: m.localEpochs ?? DEFAULTS.localEpochs,
    batchSize: m.batchSize ?? DEFAULTS.batchSize,
    learningRate: m.learningRate ?? DEFAULTS.learningRate,
    mu: m.mu ?? DEFAULTS.mu,
    l2: m.l2 ?? DEFAULTS.l2
  }
}

/**
 * Number of k-means initialisations of a job: the summary's value, else 10 without DP and 1 with it
 * (each candidate multiplies the sensitivity by sqrt(candidates)).
 *
 * @example
 * kmeansCandidates(summary) // 10
 */
export function kmeansCandidates(s: Pick<JobSummary, 'model' | 'dp'>): number {
  return s.model.candidates ?? (s.dp === null ? 10 : 1)
}
