/**
 * Where a scenario's rows come from (a CSV and its spec, or synthetic data) and how they are split
 * into parties: the `dataset:` and `partition:` blocks of a scenario (configs/scenario.ts).
 */
import { z } from 'zod'

/** A party's name in a scenario (partition groups, faults, per-party policy). */
export const PartyName = z.string().min(1).max(100)
const Path = z.string().min(1).max(4096)
const PartyCount = z.number().int().min(1).max(1000)

/**
 * Synthetic data (simulations/data/synthetic.ts): clusterable segments and a logistic risk label.
 * @example
 * SyntheticConfig.parse({ rows: 200_000, segments: 4 })
 */
export const SyntheticConfig = z
  .object({
    rows: z.number().int().min(10).max(10_000_000).default(10_000),
    /** Customer segments (Gaussian clusters) the features are drawn from. */
    segments: z.number().int().min(1).max(32).default(4),
    /** Numeric features (a categorical `channel` column is added). */
    features: z.number().int().min(2).max(64).default(8),
    /** Share of rows with label 1 (the intercept is solved for it). */
    positiveRate: z.number().gt(0).lt(1).default(0.2),
    /** Distance between segment centres in units of the within-segment standard deviation. */
    separation: z.number().positive().max(100).default(4),
    /** Seed of the data; defaults to the scenario's seed. */
    seed: z.number().int().nonnegative().optional()
  })
  .strict()
/** @example const c: SyntheticConfig = SyntheticConfig.parse({}) */
export type SyntheticConfig = z.infer<typeof SyntheticConfig>

/**
 * Where a scenario's rows come from: a CSV and its spec, or generated synthetic data.
 * @example
 * DatasetSource.parse({ csv: 'data.csv', spec: 'spec.json' })
 */
export const DatasetSource = z.union([
  z
    .object({
      csv: Path,
      spec: Path,
      /** Dataset name on the nodes. @default the spec's `dataset`, else the CSV's folder name */
      name: z.string().min(1).max(64).optional()
    })
    .strict(),
  z.object({ synthetic: SyntheticConfig, name: z.string().min(1).max(64).optional() }).strict()
])
/** @example const d: DatasetSource = { synthetic: SyntheticConfig.parse({}) } */
export type DatasetSource = z.infer<typeof DatasetSource>

/**
 * How rows are split into parties.
 * @example
 * PartitionConfig.parse({ kind: 'dirichlet', parties: 5, alpha: 0.5 })
 */
export const PartitionConfig = z.union([
  z
    .object({
      /** `{party: [row, ...]}` (datasets/<name>/partitions/horizontal_*.json) or a vertical column split. */
      file: Path,
      /** Vertical partitions: the rows (ids) each party holds. */
      overlap: Path.optional()
    })
    .strict(),
  z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('iid'), parties: PartyCount }).strict(),
    z
      .object({
        /** Label skew: per label value, party shares ~ Dirichlet(alpha) (Hsu et al. 2019). */
        kind: z.literal('dirichlet'),
        parties: PartyCount,
        alpha: z.number().positive().max(1e6),
        /** Column whose values are skewed. @default the dataset's target */
        column: z.string().min(1).optional(),
        /** Redraw until every party has this many rows. @default 10 */
        minRows: z.number().int().min(1).optional()
      })
      .strict(),
    z
      .object({
        /** Quantity skew: party sizes ~ Dirichlet(alpha), rows IID. */
        kind: z.literal('quantity'),
        parties: PartyCount,
        alpha: z.number().positive().max(1e6).default(1),
        minRows: z.number().int().min(1).optional()
      })
      .strict(),
    z
      .object({
        /** One party per value of a raw column (natural split); missing values form their own party. */
        kind: z.literal('column'),
        column: z.string().min(1)
      })
      .strict(),
    z
      .object({
        /** Vertical split by column groups (needs the vertical-learning runner). */
        kind: z.literal('vertical'),
        groups: z.record(PartyName, z.array(z.string().min(1)).min(1))
      })
      .strict()
  ])
])
/** @example const p: PartitionConfig = { kind: 'iid', parties: 10 } */
export type PartitionConfig = z.infer<typeof PartitionConfig>
