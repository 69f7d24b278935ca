/**
 * The one internal description of a dataset, whichever spec format it came from (see spec.ts).
 * Stored columns are kept in spec order: feature columns in that order define the encoded features.
 */

/** A numeric column. Missing values are stored as NaN. */
export interface NumberColumn {
  name: string
  kind: 'number'
  /** `index` = the 0-based row number column the split rule reads (must be a non-negative integer). */
  role: 'feature' | 'target' | 'index'
  /** Imputation value for missing entries, when the spec fixes one. */
  impute?: number
}

/** A categorical column with a fixed list of levels; values are stored as level codes. */
export interface CategoryColumn {
  name: string
  kind: 'category'
  role: 'feature' | 'target'
  levels: string[]
  /** How a feature is encoded: one 0/1 feature per level, or the level's 0-based position. */
  encoding: 'onehot' | 'ordinal'
  /** Imputation level for missing entries, when the spec fixes one. */
  impute?: string
}

/** The identifier column (join key for PSI): non-empty and unique. */
export interface IdColumn {
  name: string
  kind: 'id'
  role: 'id'
}

/** Any column that is stored (features, target, index, id). */
export type StoredColumn = NumberColumn | CategoryColumn | IdColumn

/** Rows with `column % modulus == testRemainder` form the test split; the rest train. */
export interface SplitRule {
  column: string
  modulus: number
  testRemainder: number
}

/** Values a full spec.json publishes so an implementation can check itself. */
export interface ReferenceValues {
  rows?: number
  /** Encoded features with their training mean and population std, in feature order. */
  features?: Array<{ name: string; mean: number; std: number }>
  verification?: {
    zRow0: number[]
    zRow1: number[]
    sumZTrain: number
    sumZTest: number
    sumAbsZAll: number
  }
}

/** Normalised dataset schema: what import validates against and what the manifest stores. */
export interface DatasetSchema {
  version: 1
  /** Which spec format it was read from. */
  format: 'spec-json' | 'minimal'
  /** Every stored column, in spec order. */
  columns: StoredColumn[]
  /** CSV columns that are read past but not stored. */
  ignored: string[]
  /** Name of the id column. */
  id: string
  /** Name of the row-number column, if any. */
  index?: string
  /** The label: a category column (y = 1 when value == positive) or a number column (y = value). */
  target?: { column: string; positive?: string }
  split?: SplitRule
  reference?: ReferenceValues
}

/** One encoded feature. */
export interface FeatureInfo {
  name: string
  column: string
  encoding: 'numeric' | 'onehot' | 'ordinal'
  level?: string
}

/**
 * The encoded features of a schema in order: a number column gives one feature, a one-hot column
 * one per level (`col=level`), an ordinal column one.
 *
 * @example
 * featureLayout(schema).map((f) => f.name) // ['Seniority', 'Home=ignore', 'Home=other', ...]
 */
export function featureLayout(schema: DatasetSchema): FeatureInfo[] {
  const out: FeatureInfo[] = []
  for (const c of schema.columns) {
    if (c.role !== 'feature') continue
    if (c.kind === 'number') out.push({ name: c.name, column: c.name, encoding: 'numeric' })
    else if (c.kind === 'category') {
      if (c.encoding === 'ordinal') out.push({ name: c.name, column: c.name, encoding: 'ordinal' })
      else
        for (const l of c.levels)
          out.push({ name: `${c.name}=${l}`, column: c.name, encoding: 'onehot', level: l })
    }
  }
  return out
}

/**
 * The stored column called `name`, if any.
 *
 * @example
 * const target = columnByName(schema, schema.target!.column)
 */
export function columnByName(schema: DatasetSchema, name: string): StoredColumn | undefined {
  return schema.columns.find((c) => c.name === name)
}

/**
 * Code width of a category column in stored chunks: 1 byte up to 255 levels, else 2. The all-ones
 * code (255 / 65535) means missing, so at most 65534 levels.
 *
 * @example
 * categoryCodeBytes(['a', 'b']) // 1
 */
export function categoryCodeBytes(levels: readonly string[]): 1 | 2 {
  return levels.length < 255 ? 1 : 2
}

/**
 * Largest number of levels a category column may have.
 *
 * @example
 * if (levels.length > MAX_LEVELS) throw new DatasetSpecError('too many levels')
 */
export const MAX_LEVELS = 65534
