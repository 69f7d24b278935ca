/**
 * TEST HELPER: a vendored dataset (datasets/<name>) split vertically as the partition files say,
 * on the intersection of the parties' customer ids (vertical_overlap.json, computed here by set
 * intersection — PSI itself is tested elsewhere), aligned in ascending uid order. Each party
 * standardizes its own columns with the statistics of its own training rows (test = row_index % 5 == 0).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DATASETS_DIR, loadSharedDataset } from '../../simulations/baselines/load-dataset.ts'
import type { VerticalSlice } from '../../protocols/vertical/types.ts'

/** One party of the split. */
export interface VerticalTestParty {
  readonly name: string
  readonly role: 'label' | 'feature'
  readonly slice: VerticalSlice
}

/** A dataset split vertically on the intersection. */
export interface VerticalTestData {
  readonly name: string
  /** Label party first, then the feature parties in partition-file order. */
  readonly parties: readonly VerticalTestParty[]
  readonly rows: number
  /** Dataset row index of each aligned row. */
  readonly rowIndex: Uint32Array
  /** 1 = test row (row_index % 5 == 0). */
  readonly testRows: Uint8Array
  /** All parties' columns side by side (same per-party standardization), for centralized comparison. */
  readonly pooled: {
    readonly x: Float64Array
    readonly cols: number
    readonly featureNames: string[]
    readonly y: Uint8Array
  }
  /** baselines.json of the dataset. */
  readonly baselines: Record<string, unknown>
}

function sourceColumn(feature: string): string {
  const eq = feature.indexOf('=')
  return eq < 0 ? feature : feature.slice(0, eq)
}

/**
 * Loads and splits datasets/<name>.
 *
 * @example
 * const data = await loadVerticalData('credit_data')
 * data.parties[0].slice.y // labels at the label party
 */
export async function loadVerticalData(name: string): Promise<VerticalTestData> {
  const ds = await loadSharedDataset(name)
  const folder = join(DATASETS_DIR, name)
  const columns = JSON.parse(readFileSync(join(folder, 'partitions', 'vertical.json'), 'utf8')) as Record<
    string,
    string[]
  >
  const overlap = JSON.parse(
    readFileSync(join(folder, 'partitions', 'vertical_overlap.json'), 'utf8')
  ) as Record<string, string[]>
  const baselines = JSON.parse(readFileSync(join(folder, 'baselines.json'), 'utf8')) as Record<
    string,
    unknown
  >
  const spec = JSON.parse(readFileSync(join(folder, 'spec.json'), 'utf8')) as { target: { column: string } }
  const target = spec.target.column

  let common: Set<string> | undefined
  for (const ids of Object.values(overlap))
    common = common === undefined ? new Set(ids) : new Set(ids.filter((u) => common!.has(u)))
  const uids = [...common!].sort()
  const rowIndex = Uint32Array.from(uids.map((u) => Number(u.slice(1))))
  const rows = rowIndex.length
  const testRows = Uint8Array.from(rowIndex, (i) => (i % 5 === 0 ? 1 : 0))

  // dataset row index -> (matrix, row) of the spec-preprocessed design matrices
  const where = new Map<number, { x: Float64Array; y: Float64Array; r: number }>()
  for (const part of [ds.train, ds.test])
    for (let r = 0; r < part.rows; r++) where.set(part.index[r]!, { x: part.x, y: part.y!, r })
  const names = ds.train.featureNames
  const d = ds.train.features
  const y = Uint8Array.from(rowIndex, (i) => where.get(i)!.y[where.get(i)!.r]!)

  const partyNames = Object.keys(columns)
  const labelName = partyNames.find((p) => columns[p]!.includes(target))!
  const ordered = [labelName, ...partyNames.filter((p) => p !== labelName)]
  const parties: VerticalTestParty[] = ordered.map((party) => {
    const own = new Set(columns[party])
    const cols = names.map((f, j) => ({ f, j })).filter(({ f }) => own.has(sourceColumn(f)))
    const x = new Float64Array(rows * cols.length)
    for (let k = 0; k < rows; k++) {
      const src = where.get(rowIndex[k]!)!
      cols.forEach(({ j }, c) => {
        x[k * cols.length + c] = src.x[src.r * d + j]!
      })
    }
    standardizeOnTrain(x, rows, cols.length, testRows)
    const slice: VerticalSlice = {
      rows,
      cols: cols.length,
      x,
      featureNames: cols.map(({ f }) => f),
      ...(party === labelName ? { y } : {})
    }
    return { name: party, role: party === labelName ? 'label' : 'feature', slice }
  })
  const pooledCols = parties.reduce((n, p) => n + p.slice.cols, 0)
  const pooled = new Float64Array(rows * pooledCols)
  for (let k = 0; k < rows; k++) {
    let off = 0
    for (const p of parties) {
      pooled.set(p.slice.x.subarray(k * p.slice.cols, (k + 1) * p.slice.cols), k * pooledCols + off)
      off += p.slice.cols
    }
  }
  return {
    name,
    parties,
    rows,
    rowIndex,
    testRows,
    pooled: {
      x: pooled,
      cols: pooledCols,
      featureNames: parties.flatMap((p) => [...p.slice.featureNames]),
      y
    },
    baselines
  }
}

/** In place: z = (x − mean) / std over the training rows (population std; std < 1e-12 → 1). */
function standardizeOnTrain(x: Float64Array, rows: number, cols: number, testRows: Uint8Array): void {
  for (let j = 0; j < cols; j++) {
    let n = 0
    let s = 0
    for (let k = 0; k < rows; k++)
      if (testRows[k] === 0) {
        s += x[k * cols + j]!
        n++
      }
    const mean = s / n
    let v = 0
    for (let k = 0; k < rows; k++) if (testRows[k] === 0) v += (x[k * cols + j]! - mean) ** 2
    let std = Math.sqrt(v / n)
    if (std < 1e-12) std = 1
    for (let k = 0; k < rows; k++) x[k * cols + j] = (x[k * cols + j]! - mean) / std
  }
}
