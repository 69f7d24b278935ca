import type { AbortOptions } from '@libp2p/interface'
import type { NodeStore } from '../../platform/storage/db.ts'
import { decodeChunk } from './chunk-codec.ts'
import type { RowChunk } from './chunk-codec.ts'
import { DatasetNameError, DatasetNotFoundError, DatasetStorageError } from './errors.ts'
import { featureLayout } from './schema.ts'
import type { DatasetSchema } from './schema.ts'
import type { ColumnSummary, SplitSummary } from './stats.ts'

/**
 * Storage layout of datasets in a NodeStore:
 *   datasets/<name>                          -> DatasetManifest (JSON)
 *   rows/<name>!<generation>!<chunk:8 digits> -> columnar chunk (chunk-codec.ts)
 * A dataset is visible only through its manifest; row chunks of any generation that no manifest
 * names (an interrupted import, the previous generation after a replace) are orphans and
 * `gcOrphanRows` deletes them.
 */

/** Stored per dataset; committed atomically with its audit entry. */
export interface DatasetManifest {
  format: 1
  name: string
  /** Random id of this import; row keys carry it. */
  generation: string
  rows: number
  chunkRows: number
  chunks: number
  schema: DatasetSchema
  summary: { columns: ColumnSummary[]; split?: SplitSummary }
  /** The imported bytes: file name (if any), size and SHA-256 (hex). */
  source: { file: string | null; bytes: number; sha256: string }
  /** Milliseconds since the epoch. */
  importedAt: number
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/**
 * Throws DatasetNameError unless `name` is 1–64 of `A-Z a-z 0-9 . _ -`, starting with a letter or digit.
 *
 * @example
 * assertDatasetName('credit_data')
 */
export function assertDatasetName(name: string): void {
  if (!NAME.test(name)) {
    throw new DatasetNameError(
      `dataset name "${name}" is not allowed: use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`
    )
  }
}

/**
 * Key prefix of one generation's chunks (`<name>!<generation>!`); `!` cannot occur in either part.
 *
 * @example
 * generationRange('credit_data', 'a1b2') // { gte: 'credit_data!a1b2!', lt: 'credit_data!a1b2"' }
 */
export function generationRange(name: string, generation: string): { gte: string; lt: string } {
  // '"' is the character after '!', so the range covers exactly the keys with this prefix.
  return { gte: `${name}!${generation}!`, lt: `${name}!${generation}"` }
}

/**
 * Key of chunk number `chunk` (zero-padded so key order is chunk order).
 *
 * @example
 * chunkKey('credit_data', 'a1b2', 3) // 'credit_data!a1b2!00000003'
 */
export function chunkKey(name: string, generation: string, chunk: number): string {
  return `${name}!${generation}!${chunk.toString().padStart(8, '0')}`
}

/**
 * A fresh random generation id (16 hex digits).
 *
 * @example
 * const gen = newGeneration()
 */
export function newGeneration(): string {
  const b = crypto.getRandomValues(new Uint8Array(8))
  return Buffer.from(b).toString('hex')
}

// Generations being written by imports in this process, per database: GC must not collect them.
const inflight = new WeakMap<object, Set<string>>()

/**
 * Marks `<name>!<generation>` as being written (GC skips it) until the returned function is called.
 *
 * @example
 * const release = holdGeneration(store, name, generation)
 * try { ... } finally { release() }
 */
export function holdGeneration(store: NodeStore, name: string, generation: string): () => void {
  let set = inflight.get(store.root)
  if (set === undefined) {
    set = new Set()
    inflight.set(store.root, set)
  }
  const key = `${name}!${generation}`
  set.add(key)
  return () => set.delete(key)
}

/**
 * The manifest of `name`, or undefined.
 *
 * @example
 * const m = await getManifest(store, 'credit_data')
 */
export async function getManifest(store: NodeStore, name: string): Promise<DatasetManifest | undefined> {
  const value = (await store.datasets.get(name)) as DatasetManifest | undefined
  if (value === undefined) return undefined
  if (value.format !== 1)
    throw new DatasetStorageError(`dataset ${name} has an unknown manifest format ${String(value.format)}`)
  return value
}

async function requireManifest(store: NodeStore, name: string): Promise<DatasetManifest> {
  const m = await getManifest(store, name)
  if (m === undefined) throw new DatasetNotFoundError(`no dataset named "${name}"; see "cohort data list"`)
  return m
}

/** One line of `listDatasets`. */
export interface DatasetListing {
  name: string
  rows: number
  columns: number
  features: number
  generation: string
  importedAt: number
}

/**
 * Every committed dataset, by name.
 *
 * @example
 * for (const d of await listDatasets(store)) console.log(d.name, d.rows)
 */
export async function listDatasets(store: NodeStore): Promise<DatasetListing[]> {
  const out: DatasetListing[] = []
  for await (const [name, value] of store.datasets.iterator()) {
    const m = value as DatasetManifest
    out.push({
      name,
      rows: m.rows,
      columns: m.schema.columns.length,
      features: featureLayout(m.schema).length,
      generation: m.generation,
      importedAt: m.importedAt
    })
  }
  return out
}

/** What `describeDataset` returns. */
export interface DatasetDescription {
  name: string
  rows: number
  generation: string
  importedAt: string
  source: DatasetManifest['source']
  format: DatasetSchema['format']
  id: string
  target: DatasetSchema['target'] | null
  split: (NonNullable<DatasetSchema['split']> & SplitSummary) | null
  features: number
  columns: ColumnSummary[]
}

/**
 * Row count, split sizes and per-column statistics (count, missing, mean, std, min, max for
 * numbers; level counts for categories), from the manifest: no rows are read.
 *
 * @example
 * const d = await describeDataset(store, 'credit_data') // d.rows === 4454
 */
export async function describeDataset(store: NodeStore, name: string): Promise<DatasetDescription> {
  const m = await requireManifest(store, name)
  const s = m.schema
  return {
    name,
    rows: m.rows,
    generation: m.generation,
    importedAt: new Date(m.importedAt).toISOString(),
    source: m.source,
    format: s.format,
    id: s.id,
    target: s.target ?? null,
    split: s.split === undefined || m.summary.split === undefined ? null : { ...s.split, ...m.summary.split },
    features: featureLayout(s).length,
    columns: m.summary.columns
  }
}

/** Options of `readRows`. */
export interface ReadRowsOptions extends AbortOptions {
  /** Columns to decode (default all). Leaving out the id column saves most of the decoding work. */
  columns?: string[]
}

/**
 * Streams a dataset's rows as decoded columnar chunks, in import (CSV) order. Reads run on a
 * LevelDB snapshot, so a concurrent replace does not disturb an iteration already started.
 *
 * @example
 * for await (const chunk of readRows(store, 'credit_data', { columns: ['Age', 'Status'] })) {
 *   const age = chunk.columns[0] // { kind: 'number', values: Float64Array }
 * }
 */
export async function* readRows(
  store: NodeStore,
  name: string,
  options: ReadRowsOptions = {}
): AsyncGenerator<RowChunk> {
  const m = await requireManifest(store, name)
  yield* readManifestRows(store, m, options)
}

/**
 * `readRows` for a manifest already at hand (the schema used to decode is the manifest's).
 *
 * @example
 * const m = (await getManifest(store, 'credit'))!
 * for await (const chunk of readManifestRows(store, m)) use(chunk)
 */
export async function* readManifestRows(
  store: NodeStore,
  m: DatasetManifest,
  options: ReadRowsOptions = {}
): AsyncGenerator<RowChunk> {
  let select: number[] | undefined
  if (options.columns !== undefined) {
    select = options.columns.map((c) => {
      const i = m.schema.columns.findIndex((x) => x.name === c)
      if (i < 0) throw new DatasetNotFoundError(`dataset ${m.name} has no stored column "${c}"`)
      return i
    })
    select.sort((a, b) => a - b)
  }
  let start = 0
  let chunks = 0
  for await (const value of store.rows.values(generationRange(m.name, m.generation))) {
    options.signal?.throwIfAborted()
    const chunk = decodeChunk(m.schema, value, start, select)
    start += chunk.length
    chunks++
    yield chunk
  }
  if (start !== m.rows || chunks !== m.chunks) {
    throw new DatasetStorageError(
      `dataset ${m.name}: stored rows (${start} in ${chunks} chunks) differ from its manifest (${m.rows})`
    )
  }
}

/** One row as a plain record: number, level string or id string; missing = null. */
export type RowRecord = Record<string, number | string | null>

/**
 * Streams rows as plain records (convenient, slower than `readRows`).
 *
 * @example
 * for await (const r of readRecords(store, 'credit_data')) console.log(r.uid, r.Age)
 */
export async function* readRecords(
  store: NodeStore,
  name: string,
  options: ReadRowsOptions = {}
): AsyncGenerator<RowRecord> {
  for await (const chunk of readRows(store, name, options)) {
    for (let r = 0; r < chunk.length; r++) {
      const rec: RowRecord = {}
      for (const col of chunk.columns) {
        if (col.kind === 'number') rec[col.name] = Number.isNaN(col.values[r]!) ? null : col.values[r]!
        else if (col.kind === 'id') rec[col.name] = col.values[r]!
        else {
          const code = col.codes[r]!
          rec[col.name] = code === col.missing ? null : col.levels[code]!
        }
      }
      yield rec
    }
  }
}

/**
 * Deletes row chunks that no committed manifest points at (interrupted imports, generations left by
 * a replace), except generations an import in this process is still writing. Call it at node start;
 * every import calls it first.
 *
 * @example
 * const { generations, chunks } = await gcOrphanRows(store)
 */
export async function gcOrphanRows(store: NodeStore): Promise<{ generations: number; chunks: number }> {
  const candidates = new Map<string, { name: string; generation: string; chunks: number }>()
  for await (const key of store.rows.keys()) {
    const a = key.indexOf('!')
    const b = a < 0 ? -1 : key.indexOf('!', a + 1)
    const prefix = b < 0 ? key : key.slice(0, b)
    let last = candidates.get(prefix)
    if (last === undefined) {
      last = { name: a < 0 ? key : key.slice(0, a), generation: b < 0 ? '' : key.slice(a + 1, b), chunks: 0 }
      candidates.set(prefix, last)
    }
    last.chunks++
  }
  let generations = 0
  let chunks = 0
  for (const [prefix, c] of candidates) {
    // Decide with fresh state right before deleting: an import holds its generation from before its
    // first chunk until after its manifest commits, so a generation that is neither held nor named
    // by the manifest now can never become live.
    if (inflight.get(store.root)?.has(prefix) === true) continue
    let current: DatasetManifest | undefined
    try {
      current = await getManifest(store, c.name)
    } catch {
      continue // an unreadable manifest: keep its rows rather than guess
    }
    if (current !== undefined && current.generation === c.generation) continue
    if (c.generation === '') await store.rows.del(prefix)
    else await store.rows.clear(generationRange(c.name, c.generation))
    generations++
    chunks += c.chunks
  }
  return { generations, chunks }
}
