import type { AbortOptions } from '../../protocols/transport.ts'
import type { FeaturePrep, StatsColumn } from '../../protocols/training/feature-stats.ts'
import { rangeWidth, statsLength, statsOffsets } from '../../protocols/training/feature-stats.ts'
import type { NodeStore } from '../../platform/storage/db.ts'
import { readManifestRows } from '../data/dataset-store.ts'
import type { DatasetManifest } from '../data/dataset-store.ts'
import { encodeFeatures } from '../data/preprocess.ts'
import type { PreprocessStats } from '../data/preprocess.ts'
import { featureLayout } from '../data/schema.ts'
import type { DatasetSchema } from '../data/schema.ts'
import { makeDataset } from '../training/matrix.ts'
import type { LocalDataset } from '../training/matrix.ts'
import { JobDataError } from './errors.ts'

/**
 * A node's rows as a job sees them: the job's features only, imputed and standardised with the
 * federated statistics (`FeaturePrep`), split by the dataset's split rule. Also the node's
 * statistics summand, computed from the raw training rows.
 */

function isTest(schema: DatasetSchema, index: number): boolean {
  const s = schema.split
  return s !== undefined && index % s.modulus === s.testRemainder
}

/** The preprocessing statistics of every feature column, the job's from `prep`, the others neutral. */
function preprocessStats(
  schema: DatasetSchema,
  prep: FeaturePrep
): { stats: PreprocessStats; pick: number[] } {
  const layout = featureLayout(schema)
  const at = new Map(layout.map((f, i) => [f.name, i]))
  const mean = new Float64Array(layout.length)
  const std = new Float64Array(layout.length).fill(1)
  const pick = prep.features.map((f, j) => {
    const i = at.get(f)
    if (i === undefined) throw new JobDataError(`the dataset has no feature ${f}`)
    mean[i] = prep.mean[j]!
    std[i] = prep.std[j]!
    return i
  })
  const used = new Set(pick.map((i) => layout[i]!.column))
  const impute: Record<string, number | string> = {}
  for (const c of schema.columns) {
    if (c.role !== 'feature') continue
    const v = prep.impute[c.name]
    if (used.has(c.name) && v === undefined)
      throw new JobDataError(`no imputation value for column ${c.name}`)
    // Unused columns are encoded and dropped; any valid fill does.
    if (c.kind === 'number') impute[c.name] = typeof v === 'number' ? v : 0
    else if (c.kind === 'category') {
      if (v !== undefined && (typeof v !== 'string' || !c.levels.includes(v)))
        throw new JobDataError(`imputation value of column ${c.name} is not one of its levels`)
      impute[c.name] = typeof v === 'string' ? v : c.levels[0]!
    }
  }
  return { stats: { impute, mean, std }, pick }
}

function readColumns(schema: DatasetSchema, ids: boolean): string[] {
  const cols = schema.columns.filter((c) => c.role === 'feature').map((c) => c.name)
  if (schema.target !== undefined) cols.push(schema.target.column)
  if (schema.index !== undefined) cols.push(schema.index)
  if (schema.split !== undefined && !cols.includes(schema.split.column)) cols.push(schema.split.column)
  if (ids) cols.push(schema.id)
  return cols
}

class Rows {
  x: number[] = []
  y: number[] = []
  index: number[] = []
  ids: string[] = []
}

async function collect(
  store: NodeStore,
  m: DatasetManifest,
  prep: FeaturePrep,
  withIds: boolean,
  route: (index: number) => Rows | undefined,
  options: AbortOptions
): Promise<void> {
  const { schema } = m
  const { stats, pick } = preprocessStats(schema, prep)
  for await (const chunk of readManifestRows(store, m, {
    columns: readColumns(schema, withIds),
    ...(options.signal === undefined ? {} : { signal: options.signal })
  })) {
    const enc = encodeFeatures(schema, chunk, stats)
    const idx = schema.index === undefined ? undefined : chunk.columns.find((c) => c.name === schema.index)
    for (let r = 0; r < enc.rows; r++) {
      const index = idx?.kind === 'number' ? idx.values[r]! : chunk.start + r
      const part = route(index)
      if (part === undefined) continue
      for (const i of pick) part.x.push(enc.x[r * enc.features + i]!)
      part.y.push(enc.y === null ? Number.NaN : enc.y[r]!)
      part.index.push(index)
      if (withIds) part.ids.push(enc.ids![r]!)
    }
  }
}

function finish(rows: Rows, prep: FeaturePrep, labelled: boolean): LocalDataset {
  return makeDataset({
    x: Float64Array.from(rows.x),
    y: labelled ? Float64Array.from(rows.y) : null,
    features: prep.features.length,
    index: Float64Array.from(rows.index),
    featureNames: prep.features
  })
}

/**
 * The job's training and test rows (test = the dataset's split rule; without one every row trains
 * and the test set is empty).
 *
 * @example
 * const { train, test } = await loadJobData(store, manifest, prep)
 */
export async function loadJobData(
  store: NodeStore,
  m: DatasetManifest,
  prep: FeaturePrep,
  options: AbortOptions = {}
): Promise<{ train: LocalDataset; test: LocalDataset }> {
  const train = new Rows()
  const test = new Rows()
  await collect(store, m, prep, false, (i) => (isTest(m.schema, i) ? test : train), options)
  const labelled = m.schema.target !== undefined
  return { train: finish(train, prep, labelled), test: finish(test, prep, labelled) }
}

/**
 * Every row of the dataset (both splits) with its id, for local scoring.
 *
 * @example
 * const { data, ids } = await loadScoringData(store, manifest, prep)
 */
export async function loadScoringData(
  store: NodeStore,
  m: DatasetManifest,
  prep: FeaturePrep,
  options: AbortOptions = {}
): Promise<{ data: LocalDataset; ids: string[] }> {
  const all = new Rows()
  await collect(store, m, prep, true, () => all, options)
  return { data: finish(all, prep, m.schema.target !== undefined), ids: all.ids }
}

/**
 * Training rows of the dataset (the split rule's train part).
 * @example
 * trainRows(manifest) // 2248
 */
export function trainRows(m: DatasetManifest): number {
  return m.summary.split?.train ?? m.rows
}

/**
 * This node's summand of the federated feature statistics over its training rows
 * (protocols/training/feature-stats.ts): [rows, per column (count, sum, sumSq) | (level counts, missing)].
 * Numeric values of a column with a range are clamped and mapped to [0, 1].
 *
 * @example
 * const v = await statsVector(store, manifest, columns, job.statistics.ranges)
 */
export async function statsVector(
  store: NodeStore,
  m: DatasetManifest,
  columns: readonly StatsColumn[],
  ranges: Readonly<Record<string, readonly [number, number]>>,
  options: AbortOptions = {}
): Promise<Float64Array> {
  const { schema } = m
  const out = new Float64Array(statsLength(columns))
  const offsets = statsOffsets(columns)
  const names = columns.map((c) => c.name)
  const read = [...names]
  const indexCol = schema.split?.column ?? schema.index
  if (indexCol !== undefined && !read.includes(indexCol)) read.push(indexCol)
  const map = columns.map((c) => {
    const r = c.kind === 'number' ? ranges[c.name] : undefined
    return r === undefined ? undefined : { lo: r[0], hi: r[1], w: rangeWidth(c.name, r) }
  })
  for await (const chunk of readManifestRows(store, m, {
    columns: read,
    ...(options.signal === undefined ? {} : { signal: options.signal })
  })) {
    const idx = indexCol === undefined ? undefined : chunk.columns.find((c) => c.name === indexCol)
    const train = new Uint8Array(chunk.length)
    let n = 0
    for (let r = 0; r < chunk.length; r++) {
      const index = idx?.kind === 'number' ? idx.values[r]! : chunk.start + r
      if (!isTest(schema, index)) {
        train[r] = 1
        n++
      }
    }
    out[0]! += n
    columns.forEach((c, k) => {
      const data = chunk.columns.find((x) => x.name === c.name)
      const o = offsets[k]!
      if (c.kind === 'number' && data?.kind === 'number') {
        const range = map[k]
        for (let r = 0; r < chunk.length; r++) {
          let v = data.values[r]!
          if (train[r] !== 1 || Number.isNaN(v)) continue
          if (range !== undefined) v = (Math.min(range.hi, Math.max(range.lo, v)) - range.lo) / range.w
          out[o]!++
          out[o + 1]! += v
          out[o + 2]! += v * v
        }
      } else if (c.kind === 'category' && data?.kind === 'category') {
        const missingSlot = o + c.levels.length
        for (let r = 0; r < chunk.length; r++) {
          if (train[r] !== 1) continue
          const code = data.codes[r]!
          out[code === data.missing ? missingSlot : o + code]!++
        }
      } else {
        throw new JobDataError(
          `column ${c.name} is stored as ${data?.kind ?? 'nothing'}, the job says ${c.kind}`
        )
      }
    })
  }
  return out
}
