/**
 * The id column of a stored dataset, in row order: what a node feeds into PSI. Only the id column is
 * decoded (readRows with `columns`), so a million rows cost one pass over the id bytes.
 */
import { getManifest, readManifestRows } from '../data/dataset-store.ts'
import { DatasetNotFoundError } from '../data/errors.ts'
import type { NodeStore } from '../../platform/storage/db.ts'

/**
 * Reads the ids of `dataset` (its `id` column, or `column` when given) in row order.
 *
 * @throws DatasetNotFoundError when the dataset or the column does not exist
 * @example
 * const ids = await readDatasetIds(store, 'credit_data') // ['u00000', 'u00001', ...]
 */
export async function readDatasetIds(store: NodeStore, dataset: string, column?: string): Promise<string[]> {
  const m = await getManifest(store, dataset)
  if (m === undefined) throw new DatasetNotFoundError(`no dataset named ${dataset}`)
  const name = column ?? m.schema.columns.find((c) => c.kind === 'id')?.name
  if (name === undefined) throw new DatasetNotFoundError(`dataset ${dataset} has no id column; name one`)
  const ids: string[] = []
  for await (const chunk of readManifestRows(store, m, { columns: [name] })) {
    const col = chunk.columns[0]!
    if (col.kind !== 'id') throw new DatasetNotFoundError(`column ${name} of ${dataset} is not an id column`)
    for (const v of col.values) ids.push(v)
  }
  return ids
}
