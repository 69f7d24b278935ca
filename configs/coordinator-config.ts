import { z } from 'zod'

/**
 * `<dir>/coordinator.json`: what `cohort coordinator init` writes and `cohort coordinator start`
 * reads. The same shape as a node's `node.json` where they overlap (listen, api, federation).
 *
 * @example
 * const config = CoordinatorConfig.parse({ name: 'coordinator', api: { tokenSha256: hashToken(token) } })
 */
export const CoordinatorConfig = z.object({
  version: z.literal(1).default(1),
  name: z.string().min(1).max(100),
  listen: z.array(z.string().startsWith('/')).default(['/ip4/127.0.0.1/tcp/0']),
  api: z
    .object({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(0),
      /** SHA-256 (hex) of the API bearer token; the token itself is never stored. */
      tokenSha256: z.string().regex(/^[0-9a-f]{64}$/),
      /** Job files are small; 1 MiB is plenty. */
      maxBodyBytes: z
        .number()
        .int()
        .positive()
        .default(1024 * 1024)
    })
    .strict(),
  /** Path of the federation manifest, relative to the coordinator directory. */
  federation: z.string().default('federation.json'),
  jobs: z
    .object({
      /** Jobs that run at once; further submissions wait as `pending`. */
      maxConcurrent: z.number().int().min(1).max(16).default(1)
    })
    .strict()
    .default({ maxConcurrent: 1 })
})
export type CoordinatorConfig = z.infer<typeof CoordinatorConfig>
