import type { AbortOptions } from '@libp2p/interface'
import { getManifest, readManifestRows } from '../data/dataset-store.ts'
import { DatasetNotFoundError } from '../data/errors.ts'
import { encodeFeatures } from '../data/preprocess.ts'
import type { PreprocessStats } from '../data/preprocess.ts'
import { featureLayout } from '../data/schema.ts'
import type { NodeStore } from '../../platform/storage/db.ts'
import { TrainingDataError } from './errors.ts'

/**
 * A node's rows as a dense design matrix: what trainers take. Row-major Float64 (the preprocessing's
 * precision); trainers that run on tfjs make a Float32 copy once per dataset ({@link float32Of}).
 *
 * @example
 * const { train, test } = await loadDesignMatrix(store, 'credit_data', stats)
 * train.rows // 3563
 */
export interface LocalDataset {
  readonly rows: number
  readonly features: number
  /** rows × features, row-major, preprocessed (imputed, encoded, standardised). */
  readonly x: Float64Array
  /** 0/1 labels (or the numeric target), or null without a target. */
  readonly y: Float64Array | null
  /** The dataset's row index of each row (the split column, else the 0-based import position). */
  readonly index: Float64Array
  readonly featureNames: readonly string[]
}

/**
 * Options of {@link loadDesignMatrix}.
 * @example
 * await loadDesignMatrix(store, 'credit_data', stats, { keep: (i) => mine.has(i) })
 */
export interface LoadMatrixOptions extends AbortOptions {
  /** Keep only rows whose index passes (a partition). @default every row */
  keep?: (index: number) => boolean
}

/**
 * Reads a stored dataset, preprocesses it with `stats` (node/data/preprocess.ts: the spec's
 * imputation, encoding and standardisation, statistics as a parameter) and splits it by the
 * dataset's split rule (spec: test = row_index % 5 == 0). Without a split rule every row trains.
 *
 * @example
 * const { train, test } = await loadDesignMatrix(store, 'credit_data', referenceStats(schema))
 */
export async function loadDesignMatrix(
  store: NodeStore,
  name: string,
  stats: PreprocessStats,
  options: LoadMatrixOptions = {}
): Promise<{ train: LocalDataset; test: LocalDataset }> {
  const m = await getManifest(store, name)
  if (m === undefined) throw new DatasetNotFoundError(`no dataset named "${name}"`)
  const schema = m.schema
  const columns = schema.columns.filter((c) => c.role === 'feature').map((c) => c.name)
  if (schema.target !== undefined) columns.push(schema.target.column)
  if (schema.index !== undefined) columns.push(schema.index)
  if (schema.split !== undefined && schema.split.column !== schema.index) columns.push(schema.split.column)
  const names = featureLayout(schema).map((f) => f.name)
  const d = names.length
  const parts = {
    train: new Builder(d, schema.target !== undefined),
    test: new Builder(d, schema.target !== undefined)
  }
  for await (const chunk of readManifestRows(store, m, {
    columns,
    ...(options.signal ? { signal: options.signal } : {})
  })) {
    const enc = encodeFeatures(schema, chunk, stats)
    const idxCol = schema.index === undefined ? undefined : chunk.columns.find((c) => c.name === schema.index)
    for (let r = 0; r < enc.rows; r++) {
      const index = idxCol?.kind === 'number' ? idxCol.values[r]! : chunk.start + r
      if (options.keep !== undefined && !options.keep(index)) continue
      const part = enc.test !== null && enc.test[r] === 1 ? parts.test : parts.train
      part.push(enc.x.subarray(r * d, (r + 1) * d), enc.y === null ? Number.NaN : enc.y[r]!, index)
    }
  }
  return { train: parts.train.finish(names), test: parts.test.finish(names) }
}

function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2)
  b.set(a)
  return b
}

class Builder {
  private x: Float64Array
  private y: Float64Array
  private index: Float64Array
  private n = 0
  private readonly d: number
  private readonly labelled: boolean
  constructor(d: number, labelled: boolean) {
    this.d = d
    this.labelled = labelled
    this.x = new Float64Array(1024 * d)
    this.y = new Float64Array(1024)
    this.index = new Float64Array(1024)
  }
  push(row: Float64Array, y: number, index: number): void {
    if (this.n === this.y.length) {
      this.x = grow(this.x)
      this.y = grow(this.y)
      this.index = grow(this.index)
    }
    this.x.set(row, this.n * this.d)
    this.y[this.n] = y
    this.index[this.n] = index
    this.n++
  }
  finish(names: readonly string[]): LocalDataset {
    return makeDataset({
      x: this.x.slice(0, this.n * this.d),
      y: this.labelled ? this.y.slice(0, this.n) : null,
      features: this.d,
      index: this.index.slice(0, this.n),
      featureNames: names
    })
  }
}

/**
 * Builds a LocalDataset from arrays (checks shapes and finiteness).
 *
 * @throws TrainingDataError
 * @example
 * const ds = makeDataset({ x: new Float64Array([1, 2, 3, 4]), y: new Float64Array([0, 1]), features: 2 })
 */
export function makeDataset(p: {
  x: Float64Array
  y: Float64Array | null
  features: number
  index?: Float64Array
  featureNames?: readonly string[]
}): LocalDataset {
  const { x, y, features: d } = p
  if (!(Number.isSafeInteger(d) && d >= 1))
    throw new TrainingDataError(`features must be an integer >= 1, got ${d}`)
  if (!(x instanceof Float64Array) || x.length % d !== 0)
    throw new TrainingDataError(`x must be a Float64Array of rows × ${d} values`)
  const rows = x.length / d
  if (y !== null && (!(y instanceof Float64Array) || y.length !== rows))
    throw new TrainingDataError(`y must have ${rows} values`)
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) throw new TrainingDataError(`x[${i}] is not finite`)
  }
  const index = p.index ?? Float64Array.from({ length: rows }, (_, i) => i)
  if (index.length !== rows) throw new TrainingDataError(`index must have ${rows} values`)
  const featureNames = p.featureNames ?? Array.from({ length: d }, (_, i) => `x${i}`)
  if (featureNames.length !== d) throw new TrainingDataError(`featureNames must have ${d} names`)
  return Object.freeze({ rows, features: d, x, y, index, featureNames: Object.freeze([...featureNames]) })
}

/**
 * The rows of `ds` whose index passes `keep`, in order.
 *
 * @example
 * const mine = subsetRows(pooled.train, (i) => partition.has(i))
 */
export function subsetRows(ds: LocalDataset, keep: (index: number) => boolean): LocalDataset {
  const d = ds.features
  const pick: number[] = []
  for (let r = 0; r < ds.rows; r++) if (keep(ds.index[r]!)) pick.push(r)
  const x = new Float64Array(pick.length * d)
  const y = ds.y === null ? null : new Float64Array(pick.length)
  const index = new Float64Array(pick.length)
  pick.forEach((r, i) => {
    x.set(ds.x.subarray(r * d, (r + 1) * d), i * d)
    if (y !== null) y[i] = ds.y![r]!
    index[i] = ds.index[r]!
  })
  return Object.freeze({ rows: pick.length, features: d, x, y, index, featureNames: ds.featureNames })
}

const f32 = new WeakMap<LocalDataset, { x: Float32Array; y: Float32Array | null }>()

/**
 * Float32 copies of x and y for tfjs, made once per dataset object.
 *
 * @example
 * const { x } = float32Of(train) // Float32Array(rows × features)
 */
export function float32Of(ds: LocalDataset): { x: Float32Array; y: Float32Array | null } {
  let c = f32.get(ds)
  if (c === undefined) {
    c = { x: Float32Array.from(ds.x), y: ds.y === null ? null : Float32Array.from(ds.y) }
    f32.set(ds, c)
  }
  return c
}

/**
 * Throws unless the dataset has 0/1 labels (what the classifiers train on).
 *
 * @example
 * requireBinaryLabels(train)
 */
export function requireBinaryLabels(ds: LocalDataset): Float64Array {
  if (ds.y === null) throw new TrainingDataError('the dataset has no target; a classifier needs 0/1 labels')
  for (let i = 0; i < ds.y.length; i++) {
    const v = ds.y[i]
    if (v !== 0 && v !== 1)
      throw new TrainingDataError(`label of row ${i} is ${v}; a classifier needs 0/1 labels`)
  }
  return ds.y
}
