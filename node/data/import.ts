import { createHash } from 'node:crypto'
import { basename } from 'node:path'
import type { AbortOptions } from '@libp2p/interface'
import type { AuditLog } from '../../platform/audit/audit-log.ts'
import type { NodeStore } from '../../platform/storage/db.ts'
import { ChunkBuilder } from './chunk-codec.ts'
import { fileChunks, readLines } from './csv-reader.ts'
import {
  assertDatasetName,
  chunkKey,
  gcOrphanRows,
  generationRange,
  getManifest,
  holdGeneration,
  newGeneration
} from './dataset-store.ts'
import type { DatasetManifest } from './dataset-store.ts'
import {
  DatasetBusyError,
  DatasetExistsError,
  DatasetInvalidError,
  DatasetSourceError,
  formatIssue
} from './errors.ts'
import { featureLayout } from './schema.ts'
import type { DatasetSchema } from './schema.ts'
import { SummaryAccumulator } from './stats.ts'
import { IssueCollector, RowValidator, planHeader } from './validate.ts'

/** Progress of a running import. */
export interface ImportProgress {
  /** Data lines read so far (valid or not). */
  lines: number
  bytes: number
}

/** What to import and how; see `importDataset`. */
export interface ImportOptions extends AbortOptions {
  name: string
  schema: DatasetSchema
  /** A CSV file path, or its bytes as a stream (e.g. an upload). */
  csv: string | AsyncIterable<Uint8Array>
  /** Replace an existing dataset of that name (audit kind `dataset-replaced`). @default false */
  replace?: boolean
  /** Who asked, for the audit entry. @default 'node' */
  actor?: string
  /** Rows per stored chunk. @default 4096 */
  chunkRows?: number
  /** Chunks per LevelDB write batch. @default 4 */
  batchChunks?: number
  onProgress?: (progress: ImportProgress) => void
  /** @default 100000 */
  progressEveryLines?: number
}

/** The committed manifest, and what it replaced. */
export interface ImportResult {
  manifest: DatasetManifest
  /** The generation and row count that were replaced, or null for a new dataset. */
  replaced: { generation: string; rows: number } | null
}

// Names with an import in flight, per database, so two imports of one name cannot interleave.
const busy = new WeakMap<object, Set<string>>()

/**
 * Imports a CSV as dataset `name`: streams it line by line, validates every row against `schema`,
 * writes validated rows in columnar chunks under a fresh generation, and makes the dataset visible
 * only in the final atomic batch that writes its manifest together with the audit entry
 * (`dataset-imported` / `dataset-replaced`). Any invalid row means nothing is stored: the written
 * chunks are deleted and DatasetInvalidError carries the report (first 20 issues + total). If the
 * process dies mid-import the chunks are orphans that `gcOrphanRows` (run first by every import and
 * at node start) deletes.
 *
 * @example
 * const { manifest } = await importDataset(home, { name: 'credit', schema, csv: 'data.csv' })
 */
export async function importDataset(
  node: { store: NodeStore; audit: AuditLog },
  options: ImportOptions
): Promise<ImportResult> {
  const { store, audit } = node
  const { name, schema } = options
  assertDatasetName(name)
  let names = busy.get(store.root)
  if (names === undefined) {
    names = new Set()
    busy.set(store.root, names)
  }
  if (names.has(name)) throw new DatasetBusyError(`an import of dataset "${name}" is already running`)
  names.add(name)
  try {
    await gcOrphanRows(store)
    const previous = await getManifest(store, name)
    if (previous !== undefined && options.replace !== true) {
      throw new DatasetExistsError(
        `dataset "${name}" exists (${previous.rows} rows); pass replace (--replace) to overwrite it`
      )
    }
    const generation = newGeneration()
    const release = holdGeneration(store, name, generation)
    let committed = false
    try {
      const manifest = await writeRows(store, name, generation, options)
      const replaced =
        previous === undefined ? null : { generation: previous.generation, rows: previous.rows }
      const body = {
        name,
        generation,
        rows: manifest.rows,
        features: featureLayout(schema).length,
        file: manifest.source.file,
        bytes: manifest.source.bytes,
        sha256: manifest.source.sha256,
        replaced
      }
      await audit.append(replaced === null ? 'dataset-imported' : 'dataset-replaced', body, {
        actor: options.actor ?? 'node',
        with: [{ type: 'put', sublevel: store.datasets, key: name, value: manifest }]
      })
      committed = true
      // The old generation is an orphan from here on; a failure now leaves it for the next GC.
      if (previous !== undefined)
        await store.rows.clear(generationRange(name, previous.generation)).catch(() => undefined)
      return { manifest, replaced }
    } finally {
      if (!committed) await store.rows.clear(generationRange(name, generation)).catch(() => undefined)
      release()
    }
  } finally {
    names.delete(name)
  }
}

async function writeRows(
  store: NodeStore,
  name: string,
  generation: string,
  options: ImportOptions
): Promise<DatasetManifest> {
  const { schema, signal } = options
  const chunkRows = options.chunkRows ?? 4096
  const batchChunks = options.batchChunks ?? 4
  const progressEvery = options.progressEveryLines ?? 100_000
  const hash = createHash('sha256')
  let bytes = 0
  const path = typeof options.csv === 'string' ? options.csv : undefined
  const source = path === undefined ? (options.csv as AsyncIterable<Uint8Array>) : fileChunks(path)
  async function* tapped(): AsyncGenerator<Uint8Array> {
    try {
      for await (const piece of source) {
        hash.update(piece)
        bytes += piece.length
        yield piece
      }
    } catch (err) {
      // A file's read errors become one clear sentence; a caller's stream errors pass unchanged.
      if (path === undefined) throw err
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message
      throw new DatasetSourceError(`cannot read the CSV at ${path} (${code})`, { cause: err })
    }
  }

  const issues = new IssueCollector()
  const builder = new ChunkBuilder(schema, chunkRows)
  const summary = new SummaryAccumulator(schema)
  let validator: RowValidator | undefined
  let rows = 0
  let lines = 0
  let nextProgress = progressEvery
  let reported = 0
  let chunks = 0
  let ops: Array<{ type: 'put'; key: string; value: Uint8Array }> = []
  // One batch in flight while the next chunks are parsed: LevelDB writes on its own thread.
  let inFlight: Promise<void> = Promise.resolve()

  const flushChunk = () => {
    if (issues.total > 0) {
      builder.clear() // invalid input: stop storing, keep validating for the report
      return
    }
    summary.add(builder)
    ops.push({ type: 'put', key: chunkKey(name, generation, chunks++), value: builder.encode() })
  }
  const write = async () => {
    await inFlight
    const batch = ops
    ops = []
    inFlight = batch.length === 0 ? Promise.resolve() : store.rows.batch(batch)
    inFlight.catch(() => undefined) // awaited on the next write or at the end
  }

  try {
    for await (const batch of readLines(tapped())) {
      signal?.throwIfAborted()
      const raw = batch.bytes
      const u8 = raw.constructor === Uint8Array ? raw : new Uint8Array(raw.buffer, raw.byteOffset, raw.length)
      const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.length)
      let i = 0
      if (batch.firstLine === 1) {
        const plan = planHeader(schema, buf, batch.starts[0]!, batch.ends[0]!, issues)
        if (plan === undefined) throw invalid(issues)
        validator = new RowValidator(schema, plan, issues)
        i = 1
      }
      const v = validator!
      v.checkQuotes = buf.indexOf(34) >= 0
      for (; i < batch.count; i++) {
        if (v.row(u8, buf, batch.starts[i]!, batch.ends[i]!, batch.firstLine + i, builder)) {
          builder.length++
          rows++
          if (builder.length === chunkRows) flushChunk()
        }
      }
      lines += batch.count - (batch.firstLine === 1 ? 1 : 0)
      if (lines >= nextProgress) {
        reported = lines
        options.onProgress?.({ lines, bytes })
        nextProgress = (Math.floor(lines / progressEvery) + 1) * progressEvery
      }
      if (ops.length >= batchChunks) await write()
    }
    if (validator === undefined) {
      issues.add(1, null, null, 'the file is empty: expected a header line')
      throw invalid(issues)
    }
    if (builder.length > 0) flushChunk()
    if (rows === 0 && issues.total === 0) issues.add(2, null, null, 'the file has a header but no data rows')
    if (issues.total > 0) throw invalid(issues)
    await write()
    await inFlight
  } catch (err) {
    // Let a batch still being written land before the caller deletes this generation.
    await inFlight.catch(() => undefined)
    throw err
  }
  if (reported > 0 && reported !== lines) options.onProgress?.({ lines, bytes })
  const result = summary.finish()
  return {
    format: 1,
    name,
    generation,
    rows,
    chunkRows,
    chunks,
    schema,
    summary:
      result.split === undefined
        ? { columns: result.columns }
        : { columns: result.columns, split: result.split },
    source: {
      file: typeof options.csv === 'string' ? basename(options.csv) : null,
      bytes,
      sha256: hash.digest('hex')
    },
    importedAt: Date.now()
  }
}

function invalid(issues: IssueCollector): DatasetInvalidError {
  const report = issues.report()
  const first = report.issues[0] === undefined ? '' : `, first: ${formatIssue(report.issues[0])}`
  return new DatasetInvalidError(
    `the CSV does not match the dataset spec (${report.total} error${report.total === 1 ? '' : 's'}${first}); nothing was imported`,
    report
  )
}
