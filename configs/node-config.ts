import { z } from 'zod'

/**
 * Policy of one dataset: every field is optional and, when set, replaces the node-wide value of the
 * same name for that dataset (so a dataset can be stricter, or looser, than the node's default).
 */
export const DatasetPolicy = z
  .object({
    /** Federations that may use this dataset. */
    federations: z.array(z.string()).optional(),
    /** Coordinators (org names or peer ids) that may use it; omitted = any manifest coordinator. */
    coordinators: z.array(z.string()).optional(),
    /**
     * Features a job may use: column names (every encoded feature of the column) or encoded names
     * (`Home=owner`); omitted = every feature.
     */
    allowedFeatures: z.array(z.string()).optional(),
    epsilonCap: z.number().positive().optional(),
    delta: z.number().positive().lt(1).optional(),
    minNoiseMultiplier: z.number().nonnegative().optional(),
    minParticipants: z.number().int().min(2).optional(),
    allowPlaintext: z.boolean().optional()
  })
  .strict()
export type DatasetPolicy = z.infer<typeof DatasetPolicy>

/** Data-owner policy: node-wide defaults, and per-dataset overrides under `datasets`. */
export const NodePolicy = z.object({
  /** Datasets may be used only by these federations (empty = none yet). */
  federations: z.array(z.string()).default([]),
  /** Largest total epsilon any dataset may spend. */
  epsilonCap: z.number().positive().default(1),
  delta: z.number().positive().lt(1).default(1e-5),
  /** Smallest noise multiplier a job may use. */
  minNoiseMultiplier: z.number().nonnegative().default(0.5),
  /** Fewest parties an aggregate may cover. */
  minParticipants: z.number().int().min(2).default(3),
  /** Whether a job may aggregate without secure aggregation. */
  allowPlaintext: z.boolean().default(false),
  /** Per-dataset overrides, by dataset name. */
  datasets: z.record(z.string(), DatasetPolicy).default({})
})
export type NodePolicy = z.infer<typeof NodePolicy>

/** `<dir>/node.json`: what `cohort node init` writes and `cohort node start` reads. */
export const NodeConfig = z.object({
  version: z.literal(1).default(1),
  name: z.string().min(1).max(100),
  listen: z.array(z.string().startsWith('/')).default(['/ip4/127.0.0.1/tcp/0']),
  api: z
    .object({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(0),
      /** SHA-256 (hex) of the admin bearer token; the token itself is never stored. */
      tokenSha256: z.string().regex(/^[0-9a-f]{64}$/),
      maxBodyBytes: z
        .number()
        .int()
        .positive()
        .default(64 * 1024 * 1024)
    })
    .strict(),
  /** Path of the federation manifest, relative to the node directory. */
  federation: z.string().default('federation.json'),
  policy: NodePolicy.default(NodePolicy.parse({}))
})
export type NodeConfig = z.infer<typeof NodeConfig>
