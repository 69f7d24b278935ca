import { z } from 'zod'
import { TrainingConfigError } from './errors.ts'

/**
 * Federated feature statistics: what every node standardises with, computed from securely summed
 * per-node counts, sums and sums of squares (numbers) and level counts (categories) over the nodes'
 * training rows, so no node uses another node's or a pooled statistic it could not have computed.
 *
 * Stats vector of one node (summed coordinate-wise across nodes):
 *   [rows, per column in order: number -> (count, sum, sumSq) | category -> (count per level.., missing)]
 * where count/sum/sumSq are over the column's non-missing training values. With a public range
 * [low, high] for a numeric column each value is first clamped and mapped to (x − low)/(high − low)
 * in [0, 1] (what bounds a row's contribution under DP; the coordinator maps back).
 *
 * Imputation rule (spec.json imputes numbers with the training median, which cannot be summed):
 * - number: the global mean of the non-missing training values. Imputed entries then sit exactly at
 *   the mean, so the encoded feature's mean is that mean and its population variance is
 *   (Σx² − c·mean²) / rows — one round of sums suffices, no second pass;
 * - category: the globally most frequent training level (ties: the earlier level), as the spec.
 * Standardisation: z = (x − mean) / std with population std (ddof = 0); std < 1e-12 counts as 1.
 */

/**
 * A feature column as the statistics see it.
 * @example
 * const c: StatsColumn = { name: 'Home', kind: 'category', levels: ['owner', 'rent'], encoding: 'onehot' }
 */
export type StatsColumn =
  | { readonly name: string; readonly kind: 'number' }
  | {
      readonly name: string
      readonly kind: 'category'
      readonly levels: readonly string[]
      readonly encoding: 'onehot' | 'ordinal'
    }

/** zod schema of {@link StatsColumn}. @example StatsColumnSchema.parse({ name: 'Age', kind: 'number' }) */
export const StatsColumnSchema = z.discriminatedUnion('kind', [
  z.strictObject({ name: z.string().min(1).max(200), kind: z.literal('number') }),
  z.strictObject({
    name: z.string().min(1).max(200),
    kind: z.literal('category'),
    levels: z.array(z.string().max(200)).min(1).max(65_534),
    encoding: z.enum(['onehot', 'ordinal'])
  })
])

/**
 * Global statistics of the encoded features (what a fit instruction carries as `prep`).
 * @example
 * const p: FeaturePrep = { features: ['Age'], mean: [37.1], std: [10.9], impute: { Age: 37.1 } }
 */
export interface FeaturePrep {
  /** Encoded feature names, in model order. */
  readonly features: readonly string[]
  readonly mean: readonly number[]
  readonly std: readonly number[]
  /** Imputation value per feature column. */
  readonly impute: Readonly<Record<string, number | string>>
}

/** zod schema of {@link FeaturePrep}. @example FeaturePrepSchema.parse(prep) */
export const FeaturePrepSchema = z
  .strictObject({
    features: z.array(z.string().min(1).max(200)).min(1).max(4096),
    mean: z.array(z.number().finite()).max(4096),
    std: z.array(z.number().finite().positive()).max(4096),
    impute: z.record(z.string().max(200), z.union([z.number().finite(), z.string().max(200)]))
  })
  .refine((p) => p.mean.length === p.features.length && p.std.length === p.features.length, {
    message: 'features, mean and std must have the same length'
  })

/** Std values below this count as 1 (a constant feature), as in the dataset specs. */
const MIN_STD = 1e-12

/**
 * Values one column contributes to the stats vector.
 * @example
 * columnWidth({ name: 'Age', kind: 'number' }) // 3
 */
export function columnWidth(c: StatsColumn): number {
  return c.kind === 'number' ? 3 : c.levels.length + 1
}

/**
 * Length of the stats vector of `columns` (1 for the row count, then each column's width).
 * @example
 * statsLength([{ name: 'Age', kind: 'number' }]) // 4
 */
export function statsLength(columns: readonly StatsColumn[]): number {
  return columns.reduce((a, c) => a + columnWidth(c), 1)
}

/**
 * Offset of each column's block in the stats vector.
 * @example
 * statsOffsets(columns)[0] // 1
 */
export function statsOffsets(columns: readonly StatsColumn[]): number[] {
  const out: number[] = []
  let at = 1
  for (const c of columns) {
    out.push(at)
    at += columnWidth(c)
  }
  return out
}

/**
 * The encoded feature names of columns, in order (the same naming as node/data/schema.ts
 * `featureLayout`: a number or ordinal column is one feature, a one-hot column `name=level` each).
 *
 * @example
 * encodedFeatures([{ name: 'Home', kind: 'category', levels: ['a', 'b'], encoding: 'onehot' }]) // ['Home=a', 'Home=b']
 */
export function encodedFeatures(columns: readonly StatsColumn[]): string[] {
  const out: string[] = []
  for (const c of columns) {
    if (c.kind === 'category' && c.encoding === 'onehot') for (const l of c.levels) out.push(`${c.name}=${l}`)
    else out.push(c.name)
  }
  return out
}

/**
 * Real-valued L2 sensitivity of the stats vector to adding or removing one row, every numeric
 * column having a range (values in [0, 1]): the row count moves by 1, each numeric column's count,
 * sum and sum of squares by at most 1 each, and one slot of each category column by 1.
 *
 * @throws TrainingConfigError when a numeric column has no range (the sensitivity is unbounded)
 * @example
 * statsSensitivity(columns, { Age: [18, 90] }) // sqrt(1 + 3)
 */
export function statsSensitivity(
  columns: readonly StatsColumn[],
  ranges: Readonly<Record<string, readonly [number, number]>>
): number {
  let s = 1
  for (const c of columns) {
    if (c.kind === 'number') {
      if (ranges[c.name] === undefined)
        throw new TrainingConfigError(
          `statistics.ranges has no [low, high] for numeric column ${c.name}; differentially private statistics need one per numeric column`
        )
      s += 3
    } else s += 1
  }
  return Math.sqrt(s)
}

/**
 * Checks a range and returns its width.
 * @throws TrainingConfigError for high <= low
 * @example
 * rangeWidth('Age', [18, 90]) // 72
 */
export function rangeWidth(name: string, r: readonly [number, number]): number {
  const w = r[1] - r[0]
  if (!(Number.isFinite(w) && w > 0))
    throw new TrainingConfigError(`statistics.ranges.${name} must be [low, high] with low < high`)
  return w
}

/**
 * Global imputation values, means and stds of the encoded features from the summed stats vector.
 *
 * Noisy (DP) sums are made consistent first: counts clamped to >= 0, a mean inside its range,
 * variances at most (range/2)^2. With `noiseSigma` (the standard deviation of the noise on each
 * summed coordinate, in value units) a variance is also floored at 3·sigma/rows, the size of the
 * noise on it, and a one-hot level's frequency at 3·sigma/rows for its std: a rare level, or a
 * feature whose spread is below the noise, would otherwise get a near-zero (or, clamped, a
 * one-raw-unit) std and blow its standardised values up. Standardisation only has to be sensible,
 * not exact, for training (the model absorbs any affine change of a feature); what it must never
 * do is make a feature huge.
 *
 * @example
 * const { prep, rows } = globalFeatureStats(columns, decodedSum, job.statistics.ranges)
 */
export function globalFeatureStats(
  columns: readonly StatsColumn[],
  sum: Float64Array,
  ranges: Readonly<Record<string, readonly [number, number]>>,
  noiseSigma = 0
): { prep: FeaturePrep; rows: number } {
  if (sum.length !== statsLength(columns))
    throw new TrainingConfigError(`stats sum has ${sum.length} values, expected ${statsLength(columns)}`)
  const rows = Math.max(sum[0]!, 1)
  const floor = Math.min(0.25, (3 * noiseSigma) / rows)
  const offsets = statsOffsets(columns)
  const mean: number[] = []
  const std: number[] = []
  const impute: Record<string, number | string> = {}
  columns.forEach((c, i) => {
    const o = offsets[i]!
    if (c.kind === 'number') {
      const range = ranges[c.name]
      const count = Math.min(Math.max(sum[o]!, 0), rows)
      let m = count >= 1 ? sum[o + 1]! / count : range === undefined ? 0 : 0.5
      if (range !== undefined) m = Math.min(1, Math.max(0, m))
      let v = Math.max(floor, (sum[o + 2]! - count * m * m) / rows)
      if (range !== undefined) v = Math.min(v, 0.25)
      const w = range === undefined ? 1 : rangeWidth(c.name, range)
      const mu = range === undefined ? m : range[0] + w * m
      mean.push(mu)
      std.push(stdOrOne(w * Math.sqrt(v)))
      impute[c.name] = mu
      return
    }
    const counts = c.levels.map((_, j) => Math.max(sum[o + j]!, 0))
    let mode = 0
    for (let j = 1; j < counts.length; j++) if (counts[j]! > counts[mode]!) mode = j
    counts[mode]! += Math.max(sum[o + c.levels.length]!, 0)
    const n = Math.max(
      counts.reduce((a, b) => a + b, 0),
      1
    )
    impute[c.name] = c.levels[mode]!
    if (c.encoding === 'onehot') {
      for (const cnt of counts) {
        const p = Math.min(1, cnt / n)
        const q = Math.min(1 - floor, Math.max(floor, p))
        mean.push(p)
        std.push(stdOrOne(Math.sqrt(q * (1 - q))))
      }
    } else {
      let s = 0
      let s2 = 0
      counts.forEach((cnt, j) => {
        s += j * cnt
        s2 += j * j * cnt
      })
      const m = s / n
      mean.push(m)
      const top = (c.levels.length - 1) ** 2
      std.push(stdOrOne(Math.sqrt(Math.max(floor * top, s2 / n - m * m))))
    }
  })
  return { prep: { features: encodedFeatures(columns), mean, std, impute }, rows: sum[0]! }
}

function stdOrOne(s: number): number {
  return s < MIN_STD || !Number.isFinite(s) ? 1 : s
}

/**
 * The statistics of `features` (a subset of `prep.features`, in the order given).
 *
 * @throws TrainingConfigError naming a feature the statistics do not cover
 * @example
 * const jobPrep = selectPrep(prep, ['Age', 'Home=owner'])
 */
export function selectPrep(prep: FeaturePrep, features: readonly string[]): FeaturePrep {
  const at = new Map(prep.features.map((f, i) => [f, i]))
  const idx = features.map((f) => {
    const i = at.get(f)
    if (i === undefined) throw new TrainingConfigError(`feature ${f} is not among the computed statistics`)
    return i
  })
  return {
    features: [...features],
    mean: idx.map((i) => prep.mean[i]!),
    std: idx.map((i) => prep.std[i]!),
    impute: { ...prep.impute }
  }
}
