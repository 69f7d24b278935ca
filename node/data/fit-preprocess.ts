import type { NodeStore } from '../../platform/storage/db.ts'
import { getManifest, readManifestRows } from './dataset-store.ts'
import { DatasetNotFoundError, PreprocessError } from './errors.ts'
import { MIN_STD, encodeFeatures, referenceStats } from './preprocess.ts'
import type { PreprocessStats } from './preprocess.ts'
import { featureLayout } from './schema.ts'
import type { DatasetSchema } from './schema.ts'

/**
 * Local fitting of the preprocessing statistics, and the check against a spec's verification values.
 * For checks and single-party baselines only: federated training aggregates these statistics instead.
 */

async function manifestOf(store: NodeStore, name: string) {
  const m = await getManifest(store, name)
  if (m === undefined) throw new DatasetNotFoundError(`no dataset named "${name}"`)
  return m
}

function neededColumns(schema: DatasetSchema): string[] {
  const cols = schema.columns.filter((c) => c.role === 'feature').map((c) => c.name)
  if (schema.split !== undefined) cols.push(schema.split.column)
  if (schema.target !== undefined) cols.push(schema.target.column)
  return cols
}

function isTrain(schema: DatasetSchema, index: Float64Array | undefined, r: number): boolean {
  const s = schema.split
  return s === undefined || index === undefined || index[r]! % s.modulus !== s.testRemainder
}

/**
 * Fits imputation values (median of non-missing training values for numbers, numpy's mean of the two
 * middle values for an even count; most frequent training level for categories, ties to the earlier
 * level) and then training mean / population std per encoded feature, as spec.json describes. The
 * training split is the spec's split rule (all rows without one). Two passes over the rows; memory:
 * 8 bytes per training value of every numeric feature column (for the medians).
 *
 * @example
 * const stats = await fitPreprocessing(store, 'credit_data')
 */
export async function fitPreprocessing(store: NodeStore, name: string): Promise<Required<PreprocessStats>> {
  const m = await manifestOf(store, name)
  const schema = m.schema
  const columns = neededColumns(schema)
  const features = schema.columns.filter((c) => c.role === 'feature')
  const values = features.map(() => ({ data: new Float64Array(1024), n: 0 }))
  const counts = features.map((c) => (c.kind === 'category' ? new Float64Array(c.levels.length) : undefined))
  for await (const chunk of readManifestRows(store, m, { columns })) {
    const index = indexValues(schema, chunk.columns)
    features.forEach((col, k) => {
      const data = chunk.columns.find((c) => c.name === col.name)!
      if (data.kind === 'number') {
        const acc = values[k]!
        for (let r = 0; r < chunk.length; r++) {
          const v = data.values[r]!
          if (Number.isNaN(v) || !isTrain(schema, index, r)) continue
          if (acc.n === acc.data.length) {
            const bigger = new Float64Array(acc.data.length * 2)
            bigger.set(acc.data)
            acc.data = bigger
          }
          acc.data[acc.n++] = v
        }
      } else if (data.kind === 'category') {
        const cnt = counts[k]!
        for (let r = 0; r < chunk.length; r++) {
          if (data.codes[r] !== data.missing && isTrain(schema, index, r)) cnt[data.codes[r]!]!++
        }
      }
    })
  }
  const impute: Record<string, number | string> = {}
  features.forEach((col, k) => {
    if (col.kind === 'number') {
      const { data, n } = values[k]!
      if (n === 0) throw new PreprocessError(`column ${col.name} has no training values to take a median of`)
      const v = data.subarray(0, n).sort()
      impute[col.name] = n % 2 === 1 ? v[(n - 1) / 2]! : (v[n / 2 - 1]! + v[n / 2]!) / 2
    } else if (col.kind === 'category') {
      const cnt = counts[k]!
      let best = 0
      for (let i = 1; i < cnt.length; i++) if (cnt[i]! > cnt[best]!) best = i
      impute[col.name] = col.levels[best]!
    }
  })
  values.length = 0
  // Pass 2: training mean and population std of each encoded feature (Welford).
  const nf = featureLayout(schema).length
  const mean = new Float64Array(nf)
  const m2 = new Float64Array(nf)
  let count = 0
  for await (const chunk of readManifestRows(store, m, { columns })) {
    const enc = encodeFeatures(schema, chunk, { impute })
    for (let r = 0; r < enc.rows; r++) {
      if (enc.test !== null && enc.test[r] === 1) continue
      count++
      const base = r * nf
      for (let j = 0; j < nf; j++) {
        const x = enc.x[base + j]!
        const d = x - mean[j]!
        mean[j]! += d / count
        m2[j]! += d * (x - mean[j]!)
      }
    }
  }
  const std = new Float64Array(nf)
  for (let j = 0; j < nf; j++) {
    const s = Math.sqrt(m2[j]! / count)
    std[j] = s < MIN_STD ? 1 : s
  }
  return { impute, mean, std }
}

function indexValues(
  schema: DatasetSchema,
  columns: readonly { name: string; kind: string }[]
): Float64Array | undefined {
  const s = schema.split
  if (s === undefined) return undefined
  const c = columns.find((x) => x.name === s.column) as { kind: string; values?: Float64Array } | undefined
  return c?.kind === 'number' ? c.values : undefined
}

/** Result of `checkReference`. */
export interface ReferenceCheck {
  /** Largest |z - spec| over the spec's rows 0 and 1. */
  maxRowDiff: number
  sumZTrain: number
  sumZTest: number
  sumAbsZAll: number
  /** Whether rows 0/1 agree to `tolerance` and the sums as check_spec.mjs requires. */
  ok: boolean
}

/**
 * Standardises every row of a dataset imported with a full spec.json and compares with its
 * verification values (rows 0 and 1 absolutely; Σ|z| relatively; Σz per split to 1e-6, since
 * those are ~0 by construction).
 *
 * @example
 * const r = await checkReference(store, 'credit_data') // r.ok, r.maxRowDiff < 1e-9
 */
export async function checkReference(
  store: NodeStore,
  name: string,
  stats?: PreprocessStats,
  tolerance = 1e-9
): Promise<ReferenceCheck> {
  const m = await manifestOf(store, name)
  const v = m.schema.reference?.verification
  if (v === undefined) throw new PreprocessError(`dataset ${name} was imported without verification values`)
  const s = stats ?? referenceStats(m.schema)
  let maxRowDiff = 0
  let sumZTrain = 0
  let sumZTest = 0
  let sumAbsZAll = 0
  for await (const chunk of readManifestRows(store, m, { columns: neededColumns(m.schema) })) {
    const enc = encodeFeatures(m.schema, chunk, s)
    const nf = enc.features
    for (let r = 0; r < enc.rows; r++) {
      const row = chunk.start + r
      const want = row === 0 ? v.zRow0 : row === 1 ? v.zRow1 : undefined
      let sum = 0
      for (let j = 0; j < nf; j++) {
        const z = enc.x[r * nf + j]!
        sum += z
        sumAbsZAll += Math.abs(z)
        if (want !== undefined) maxRowDiff = Math.max(maxRowDiff, Math.abs(z - want[j]!))
      }
      if (enc.test !== null && enc.test[r] === 1) sumZTest += sum
      else sumZTrain += sum
    }
  }
  const rel = Math.abs(sumAbsZAll - v.sumAbsZAll) / Math.max(1, Math.abs(v.sumAbsZAll))
  const ok =
    maxRowDiff <= tolerance &&
    rel <= tolerance &&
    Math.abs(sumZTrain - v.sumZTrain) <= 1e-6 &&
    Math.abs(sumZTest - v.sumZTest) <= 1e-6
  return { maxRowDiff, sumZTrain, sumZTest, sumAbsZAll, ok }
}
