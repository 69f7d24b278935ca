import { MemoryLevel } from 'memory-level'
import { fitPreprocessing } from '../../node/data/fit-preprocess.ts'
import { importDataset } from '../../node/data/import.ts'
import { referenceStats } from '../../node/data/preprocess.ts'
import type { PreprocessStats } from '../../node/data/preprocess.ts'
import { featureLayout } from '../../node/data/schema.ts'
import { loadDesignMatrix, makeDataset } from '../../node/training/matrix.ts'
import type { LocalDataset } from '../../node/training/matrix.ts'
import { createAuditLog } from '../../platform/audit/audit-log.ts'
import { storeOn } from '../../platform/storage/db.ts'
import type { NodeStore, RootDb } from '../../platform/storage/db.ts'
import { seededIdentity } from '../harness/sim-federation.ts'
import type { SimTable } from './sim-table.ts'

/**
 * Every row of a scenario's dataset in one in-memory store, imported through the node's import: what
 * the centralized baseline trains on and what the simulation uses to score the published model
 * exactly. Only the simulation may hold this; no node ever sees another's rows.
 */

/**
 * The pooled data.
 * @example
 * const pooled = await openPooled(table); const { train, test } = pooled.baseline
 */
export interface PooledData {
  /** Design matrices under the baseline preprocessing (the spec's reference statistics, else fitted on the pooled training split). */
  readonly baseline: { train: LocalDataset; test: LocalDataset }
  /** Design matrices under given statistics (a job's federated ones), restricted to `names`. */
  design(prep: {
    names: readonly string[]
    mean: readonly number[]
    std: readonly number[]
    impute: Record<string, number | string>
  }): Promise<{ train: LocalDataset; test: LocalDataset }>
  close(): Promise<void>
}

/**
 * Keeps the named feature columns of a dataset, in the order given.
 *
 * @example
 * const sub = selectFeatures(train, ['Age', 'Income'])
 */
export function selectFeatures(ds: LocalDataset, names: readonly string[]): LocalDataset {
  if (names.length === ds.features && names.every((n, i) => ds.featureNames[i] === n)) return ds
  const cols = names.map((n) => {
    const j = ds.featureNames.indexOf(n)
    if (j < 0) throw new Error(`no feature ${n}`)
    return j
  })
  const d = ds.features
  const x = new Float64Array(ds.rows * cols.length)
  for (let r = 0; r < ds.rows; r++)
    for (let c = 0; c < cols.length; c++) x[r * cols.length + c] = ds.x[r * d + cols[c]!]!
  return makeDataset({ x, y: ds.y, features: cols.length, index: ds.index, featureNames: names })
}

/**
 * Imports the whole table and prepares the baseline matrices.
 *
 * @example
 * const pooled = await openPooled(table)
 */
export async function openPooled(table: SimTable): Promise<PooledData> {
  const root = new MemoryLevel<string, Uint8Array>({
    keyEncoding: 'utf8',
    valueEncoding: 'view'
  }) as unknown as RootDb
  await root.open()
  const store: NodeStore = storeOn(root)
  const id = await seededIdentity('pooled', 'pooled')
  const audit = createAuditLog(store, { peerId: id.peerId, sign: (d) => id.privateKey.sign(d) })
  const all = Array.from({ length: table.rows }, (_, i) => i)
  async function* bytes() {
    yield table.csvOf(all)
  }
  await importDataset(
    { store, audit },
    { name: table.name, schema: table.schema, csv: bytes(), actor: 'simulation' }
  )
  let stats: PreprocessStats
  try {
    stats = referenceStats(table.schema)
  } catch {
    stats = await fitPreprocessing(store, table.name)
  }
  const baseline = await loadDesignMatrix(store, table.name, stats)
  const layout = featureLayout(table.schema).map((f) => f.name)
  return {
    baseline,
    async design(prep) {
      const mean = layout.map((n) => {
        const i = prep.names.indexOf(n)
        return i < 0 ? 0 : prep.mean[i]!
      })
      const std = layout.map((n) => {
        const i = prep.names.indexOf(n)
        return i < 0 ? 1 : prep.std[i]!
      })
      const impute = { ...(stats.impute ?? {}), ...prep.impute }
      const m = await loadDesignMatrix(store, table.name, { impute, mean, std })
      return { train: selectFeatures(m.train, prep.names), test: selectFeatures(m.test, prep.names) }
    },
    close: () => store.close()
  }
}
