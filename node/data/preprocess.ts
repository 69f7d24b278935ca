import type { ChunkColumn, RowChunk } from './chunk-codec.ts'
import { PreprocessError } from './errors.ts'
import { featureLayout } from './schema.ts'
import type { DatasetSchema } from './schema.ts'

/**
 * The spec's deterministic preprocessing (datasets/README.md, spec.json "preprocessing.steps"):
 *   1. impute missing values (numbers: a value, categories: a level);
 *   2. encode in column order: number -> value, one-hot -> one 0/1 feature per level in level order,
 *      ordinal -> 0-based level position;
 *   3. standardise every feature: z = (x - mean) / std, a std below 1e-12 counting as 1.
 * The statistics are a parameter: in training they come from federated aggregation; the spec's own
 * values (`referenceStats`) or ones fitted on the local train split (`fitPreprocessing`) serve checks.
 */

/** Imputation values per feature column, and (optionally) mean/std per encoded feature. */
export interface PreprocessStats {
  /** Column name -> value used for a missing entry (a number, or a level of a category column). */
  impute: Record<string, number | string>
  /** Per encoded feature (featureLayout order). Without mean and std the features are not standardised. */
  mean?: ArrayLike<number>
  std?: ArrayLike<number>
}

/** A block of encoded rows. */
export interface EncodedRows {
  rows: number
  features: number
  /** Row-major `rows × features`. */
  x: Float64Array
  /** Label per row (category target: 1 when the value is the positive level), or null without a target. */
  y: Float64Array | null
  /** 1 for rows of the split rule's test part, or null without a split rule / index column read. */
  test: Uint8Array | null
  /** Ids, when the id column was read. */
  ids: string[] | null
}

/**
 * Std values below this count as 1 (constant feature), as in the spec.
 *
 * @example
 * const sd = std < MIN_STD ? 1 : std
 */
export const MIN_STD = 1e-12

/**
 * The spec's own imputation values and training means/stds (full spec.json only).
 *
 * @example
 * const enc = encodeFeatures(schema, chunk, referenceStats(schema))
 */
export function referenceStats(schema: DatasetSchema): Required<PreprocessStats> {
  const features = schema.reference?.features
  if (features === undefined)
    throw new PreprocessError('the spec carries no reference means/stds (a minimal spec?)')
  const impute: Record<string, number | string> = {}
  for (const c of schema.columns) {
    if (c.role !== 'feature') continue
    if (c.impute === undefined)
      throw new PreprocessError(`the spec gives no imputation value for column ${c.name}`)
    impute[c.name] = c.impute
  }
  return { impute, mean: features.map((f) => f.mean), std: features.map((f) => f.std) }
}

function find(chunk: RowChunk, name: string): ChunkColumn | undefined {
  return chunk.columns.find((c) => c.name === name)
}

/**
 * Imputes, encodes and (when `stats` has mean and std) standardises a chunk's rows. The chunk must
 * hold every feature column; `y`, `test` and `ids` are filled when the target, the split's index
 * column and the id column were read.
 *
 * @example
 * for await (const chunk of readRows(store, 'credit_data')) {
 *   const { x, y, test } = encodeFeatures(schema, chunk, stats)
 * }
 */
export function encodeFeatures(schema: DatasetSchema, chunk: RowChunk, stats: PreprocessStats): EncodedRows {
  const layout = featureLayout(schema)
  const nf = layout.length
  const n = chunk.length
  const standardize = stats.mean !== undefined && stats.std !== undefined
  if (standardize && (stats.mean!.length !== nf || stats.std!.length !== nf)) {
    throw new PreprocessError(
      `stats have ${stats.mean!.length} means / ${stats.std!.length} stds for ${nf} features`
    )
  }
  const x = new Float64Array(n * nf)
  let f = 0
  for (const col of schema.columns) {
    if (col.role !== 'feature') continue
    const data = find(chunk, col.name)
    if (data === undefined)
      throw new PreprocessError(`column ${col.name} was not read; include it in readRows({ columns })`)
    const fill = stats.impute[col.name]
    if (col.kind === 'number' && data.kind === 'number') {
      const values = data.values
      for (let r = 0; r < n; r++) {
        let v = values[r]!
        if (Number.isNaN(v)) {
          if (typeof fill !== 'number')
            throw new PreprocessError(`no numeric imputation value for column ${col.name}`)
          v = fill
        }
        x[r * nf + f] = v
      }
      f++
    } else if (col.kind === 'category' && data.kind === 'category') {
      const fillCode = typeof fill === 'string' ? col.levels.indexOf(fill) : -1
      const { codes, missing } = data
      const onehot = col.encoding === 'onehot'
      for (let r = 0; r < n; r++) {
        let code = codes[r]!
        if (code === missing) {
          if (fillCode < 0) throw new PreprocessError(`no imputation level for column ${col.name}`)
          code = fillCode
        }
        if (onehot) x[r * nf + f + code] = 1
        else x[r * nf + f] = code
      }
      f += onehot ? col.levels.length : 1
    } else {
      throw new PreprocessError(`column ${col.name} is stored as ${data.kind}, the schema says ${col.kind}`)
    }
  }
  if (standardize) {
    const mean = stats.mean!
    const std = stats.std!
    for (let j = 0; j < nf; j++) {
      const m = mean[j]!
      const s = std[j]! < MIN_STD ? 1 : std[j]!
      for (let i = j; i < x.length; i += nf) x[i] = (x[i]! - m) / s
    }
  }
  return {
    rows: n,
    features: nf,
    x,
    y: labels(schema, chunk),
    test: testMask(schema, chunk),
    ids: idsOf(schema, chunk)
  }
}

function labels(schema: DatasetSchema, chunk: RowChunk): Float64Array | null {
  const t = schema.target
  if (t === undefined) return null
  const data = find(chunk, t.column)
  if (data === undefined) return null
  const y = new Float64Array(chunk.length)
  if (data.kind === 'number') y.set(data.values)
  else if (data.kind === 'category') {
    const positive = data.levels.indexOf(t.positive!)
    for (let r = 0; r < chunk.length; r++) y[r] = data.codes[r] === positive ? 1 : 0
  }
  return y
}

function testMask(schema: DatasetSchema, chunk: RowChunk): Uint8Array | null {
  const s = schema.split
  if (s === undefined) return null
  const data = find(chunk, s.column)
  if (data?.kind !== 'number') return null
  const test = new Uint8Array(chunk.length)
  for (let r = 0; r < chunk.length; r++) test[r] = data.values[r]! % s.modulus === s.testRemainder ? 1 : 0
  return test
}

function idsOf(schema: DatasetSchema, chunk: RowChunk): string[] | null {
  const data = find(chunk, schema.id)
  return data?.kind === 'id' ? data.values : null
}
