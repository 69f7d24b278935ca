import { z } from 'zod'

/** Data-owner policy defaults; per-dataset policy extends this in the training work. */
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
  allowPlaintext: z.boolean().default(false)
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
