import type { DatasetSchema } from './schema.ts'

/**
 * Per-column summary statistics, accumulated in one streaming pass over the validated rows and
 * stored in the manifest (what `cohort data describe` shows). Means and variances use Welford's
 * update (Knuth, TAOCP vol. 2, 4.2.2), so a million rows lose no precision to cancellation; std is
 * the population std (ddof = 0), matching the spec's standardisation.
 */

/** Statistics of a number column (std is the population std; null when every value is missing). */
export interface NumberSummary {
  name: string
  kind: 'number'
  role: 'feature' | 'target' | 'index'
  /** Non-missing values. */
  count: number
  missing: number
  /** null when every value is missing. */
  mean: number | null
  std: number | null
  min: number | null
  max: number | null
}

/** Level counts of a category column. */
export interface CategorySummary {
  name: string
  kind: 'category'
  role: 'feature' | 'target'
  count: number
  missing: number
  /** Rows per level, in level order. */
  levels: Record<string, number>
}

/** The id column: every row has a distinct id. */
export interface IdSummary {
  name: string
  kind: 'id'
  role: 'id'
  /** Every id is present and distinct, so this is also the number of distinct ids. */
  count: number
}

/** Statistics of one stored column, as `describe` shows them. */
export type ColumnSummary = NumberSummary | CategorySummary | IdSummary

/** Row counts of the split rule's train / test parts. */
export interface SplitSummary {
  train: number
  test: number
}

/** Column arrays of a run of rows: what ChunkBuilder holds and decoded chunks provide. */
export interface ColumnArrays {
  numbers: ReadonlyArray<Float64Array | undefined>
  codes: ReadonlyArray<Uint8Array | Uint16Array | undefined>
  length: number
}

/**
 * Streaming accumulator of `ColumnSummary` per stored column.
 *
 * @example
 * const acc = new SummaryAccumulator(schema)
 * acc.add(builder) // per chunk, before builder.encode()
 * const { columns, split } = acc.finish()
 */
export class SummaryAccumulator {
  private readonly schema: DatasetSchema
  private readonly n: Float64Array
  private readonly mean: Float64Array
  private readonly m2: Float64Array
  private readonly min: Float64Array
  private readonly max: Float64Array
  private readonly levelCounts: Array<Float64Array | undefined>
  private readonly splitColumn: number
  private rows = 0
  private test = 0

  constructor(schema: DatasetSchema) {
    this.schema = schema
    const k = schema.columns.length
    this.n = new Float64Array(k)
    this.mean = new Float64Array(k)
    this.m2 = new Float64Array(k)
    this.min = new Float64Array(k).fill(Number.POSITIVE_INFINITY)
    this.max = new Float64Array(k).fill(Number.NEGATIVE_INFINITY)
    this.levelCounts = schema.columns.map((c) =>
      c.kind === 'category' ? new Float64Array(c.levels.length + 1) : undefined
    )
    const split = schema.split
    this.splitColumn = split === undefined ? -1 : schema.columns.findIndex((c) => c.name === split.column)
  }

  /** Adds the first `length` rows of the column arrays. */
  add(arrays: ColumnArrays): void {
    const rows = arrays.length
    this.rows += rows
    for (let c = 0; c < this.schema.columns.length; c++) {
      const values = arrays.numbers[c]
      if (values !== undefined) {
        let n = this.n[c]!
        let mean = this.mean[c]!
        let m2 = this.m2[c]!
        let min = this.min[c]!
        let max = this.max[c]!
        for (let r = 0; r < rows; r++) {
          const x = values[r]!
          if (Number.isNaN(x)) continue // NaN = missing
          n++
          const d = x - mean
          mean += d / n
          m2 += d * (x - mean)
          if (x < min) min = x
          if (x > max) max = x
        }
        this.n[c] = n
        this.mean[c] = mean
        this.m2[c] = m2
        this.min[c] = min
        this.max[c] = max
      }
      const codes = arrays.codes[c]
      const counts = this.levelCounts[c]
      if (codes !== undefined && counts !== undefined) {
        const missingSlot = counts.length - 1
        for (let r = 0; r < rows; r++) {
          const code = codes[r]!
          counts[Math.min(code, missingSlot)]!++
        }
      }
    }
    if (this.splitColumn >= 0) {
      const { modulus, testRemainder } = this.schema.split!
      const idx = arrays.numbers[this.splitColumn]!
      for (let r = 0; r < rows; r++) if (idx[r]! % modulus === testRemainder) this.test++
    }
  }

  /** The summaries so far. */
  finish(): { rows: number; columns: ColumnSummary[]; split?: SplitSummary } {
    const columns = this.schema.columns.map((col, c): ColumnSummary => {
      if (col.kind === 'id') return { name: col.name, kind: 'id', role: 'id', count: this.rows }
      if (col.kind === 'category') {
        const counts = this.levelCounts[c]!
        const levels: Record<string, number> = {}
        col.levels.forEach((l, i) => {
          levels[l] = counts[i]!
        })
        const missing = counts[col.levels.length]!
        return {
          name: col.name,
          kind: 'category',
          role: col.role,
          count: this.rows - missing,
          missing,
          levels
        }
      }
      const n = this.n[c]!
      const some = n > 0
      return {
        name: col.name,
        kind: 'number',
        role: col.role,
        count: n,
        missing: this.rows - n,
        mean: some ? this.mean[c]! : null,
        std: some ? Math.sqrt(this.m2[c]! / n) : null,
        min: some ? this.min[c]! : null,
        max: some ? this.max[c]! : null
      }
    })
    const out: { rows: number; columns: ColumnSummary[]; split?: SplitSummary } = { rows: this.rows, columns }
    if (this.splitColumn >= 0) out.split = { train: this.rows - this.test, test: this.test }
    return out
  }
}
