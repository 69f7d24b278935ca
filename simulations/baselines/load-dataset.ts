import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { MemoryLevel } from 'memory-level'
import { createAuditLog } from '../../platform/audit/audit-log.ts'
import type { AuditSigner } from '../../platform/audit/audit-log.ts'
import { importDataset } from '../../node/data/import.ts'
import { referenceStats } from '../../node/data/preprocess.ts'
import type { PreprocessStats } from '../../node/data/preprocess.ts'
import type { DatasetSchema } from '../../node/data/schema.ts'
import { loadDatasetSpec } from '../../node/data/spec.ts'
import { storeOn } from '../../platform/storage/db.ts'
import type { RootDb } from '../../platform/storage/db.ts'
import { loadDesignMatrix, subsetRows } from '../../node/training/matrix.ts'
import type { LocalDataset } from '../../node/training/matrix.ts'

/**
 * The vendored shared datasets (datasets/<name>) as design matrices, for baselines, simulations,
 * tests and benches: the CSV goes through the node's own import (validation, columnar storage) into
 * an in-memory store, then through the spec's preprocessing with the spec's training-split
 * statistics, which equal what the federated feature statistics compute from securely summed
 * counts, sums and sums of squares (and the spec's imputation values).
 */

/**
 * The repository's datasets/ folder.
 * @example
 * loadSharedDataset('credit_data', DATASETS_DIR)
 */
export const DATASETS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../datasets')

/**
 * A dataset split by the spec rule, with its partitions and scikit-learn baselines.
 * @example
 * const ds = await loadSharedDataset('credit_data'); ds.train.rows // 3563
 */
export interface SharedDataset {
  readonly name: string
  readonly schema: DatasetSchema
  readonly stats: PreprocessStats
  readonly train: LocalDataset
  readonly test: LocalDataset
  /** datasets/<name>/baselines.json. */
  readonly baselines: Baselines
  /** Party -> its training and test rows, by a horizontal partition file. */
  parties(
    kind: 'horizontal_natural' | 'horizontal_dirichlet'
  ): Array<{ name: string; train: LocalDataset; test: LocalDataset }>
}

/**
 * The parts of baselines.json the baselines compare with.
 * @example
 * ds.baselines.logistic_regression.centralized.test_auc // 0.838
 */
export interface Baselines {
  logistic_regression: {
    centralized: { test_auc: number; test_accuracy: number; test_log_loss: number; objective: number }
    local_only: Record<string, { parties: Record<string, { test_auc: number; n_train: number }> }>
  }
  kmeans: Record<string, { inertia_train: number; inertia_test: number; silhouette_train_sample: number }>
}

const cache = new Map<string, Promise<SharedDataset>>()

/**
 * Loads datasets/<name> (cached per process).
 *
 * @example
 * const { train, test } = await loadSharedDataset('credit_data')
 */
export function loadSharedDataset(name: string, dir = DATASETS_DIR): Promise<SharedDataset> {
  const key = join(dir, name)
  let p = cache.get(key)
  if (p === undefined) {
    p = load(name, dir)
    cache.set(key, p)
  }
  return p
}

async function load(name: string, dir: string): Promise<SharedDataset> {
  const folder = join(dir, name)
  const schema = loadDatasetSpec(join(folder, 'spec.json'))
  const root = new MemoryLevel<string, Uint8Array>({
    keyEncoding: 'utf8',
    valueEncoding: 'view'
  }) as unknown as RootDb
  await root.open()
  const store = storeOn(root)
  const key = await generateKeyPair('Ed25519')
  const signer: AuditSigner = { peerId: peerIdFromPrivateKey(key).toString(), sign: (d) => key.sign(d) }
  try {
    await importDataset(
      { store, audit: createAuditLog(store, signer) },
      { name, schema, csv: join(folder, 'data.csv') }
    )
    const stats = referenceStats(schema)
    const { train, test } = await loadDesignMatrix(store, name, stats)
    const baselines = JSON.parse(readFileSync(join(folder, 'baselines.json'), 'utf8')) as Baselines
    const partitions = new Map<string, Record<string, number[]>>()
    const parties = (kind: string) => {
      let part = partitions.get(kind)
      if (part === undefined) {
        part = JSON.parse(readFileSync(join(folder, 'partitions', `${kind}.json`), 'utf8')) as Record<
          string,
          number[]
        >
        partitions.set(kind, part)
      }
      return Object.entries(part).map(([party, rows]) => {
        const mine = new Set(rows)
        return {
          name: party,
          train: subsetRows(train, (i) => mine.has(i)),
          test: subsetRows(test, (i) => mine.has(i))
        }
      })
    }
    return Object.freeze({ name, schema, stats, train, test, baselines, parties })
  } finally {
    await root.close()
  }
}
