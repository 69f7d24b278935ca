import { DatasetStorageError } from './errors.ts'
import { categoryCodeBytes } from './schema.ts'
import type { DatasetSchema, StoredColumn } from './schema.ts'

/**
 * Columnar binary encoding of a run of rows (one `rows` value). Layout, little-endian:
 *   u8 version = 1, 3 zero bytes, u32 rows, u32 columns, 4 zero bytes   (16-byte header)
 *   then per stored column, in schema order:
 *     number:   padding to 8, rows × f64 (NaN = missing)
 *     category: padding to 2, rows × u8 | u16 level code (all ones = missing)
 *     id:       padding to 4, (rows + 1) × u32 end offsets into the bytes that follow, then UTF-8 bytes
 * Typed arrays use platform byte order, so the module refuses to load on a big-endian host.
 */

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1)
  throw new Error('cohort datasets need a little-endian host')

const VERSION = 1
const HEADER_BYTES = 16

/**
 * Missing-value code of a category column with 1- or 2-byte codes.
 *
 * @example
 * missingCode(categoryCodeBytes(column.levels)) // 255 for up to 254 levels
 */
export function missingCode(bytes: 1 | 2): number {
  return bytes === 1 ? 0xff : 0xffff
}

/** Decoded column of a chunk. */
export type ChunkColumn =
  | { kind: 'number'; name: string; values: Float64Array }
  | {
      kind: 'category'
      name: string
      levels: readonly string[]
      codes: Uint8Array | Uint16Array
      missing: number
    }
  | { kind: 'id'; name: string; values: string[] }

/** A decoded run of rows. `columns` follows the schema's column order (only the selected ones). */
export interface RowChunk {
  /** 0-based position of the chunk's first row in the dataset. */
  readonly start: number
  readonly length: number
  readonly columns: readonly ChunkColumn[]
}

/**
 * Accumulates validated rows column by column in preallocated arrays; `encode()` serialises them.
 * The validator writes straight into `numbers[c]`, `codes[c]` and through `pushId`.
 *
 * @example
 * const b = new ChunkBuilder(schema, 4096)
 * b.numbers[2]![b.length] = 1.5; b.pushId(bytes, s, e); b.length++
 * const value = b.encode() // then store under chunkKey(name, generation, n)
 */
export class ChunkBuilder {
  readonly capacity: number
  readonly columns: readonly StoredColumn[]
  /** Per stored column: the Float64Array of a number column, else undefined. */
  readonly numbers: Array<Float64Array | undefined>
  /** Per stored column: the code array of a category column, else undefined. */
  readonly codes: Array<Uint8Array | Uint16Array | undefined>
  length = 0
  private idBytes: Uint8Array
  private idUsed = 0
  private readonly idEnds: Uint32Array

  constructor(schema: DatasetSchema, capacity: number) {
    this.capacity = capacity
    this.columns = schema.columns
    this.numbers = schema.columns.map((c) => (c.kind === 'number' ? new Float64Array(capacity) : undefined))
    this.codes = schema.columns.map((c) =>
      c.kind === 'category'
        ? categoryCodeBytes(c.levels) === 1
          ? new Uint8Array(capacity)
          : new Uint16Array(capacity)
        : undefined
    )
    this.idBytes = new Uint8Array(capacity * 16)
    this.idEnds = new Uint32Array(capacity)
  }

  /** Appends the id of row `this.length` from src[start, end). */
  pushId(src: Uint8Array, start: number, end: number): void {
    const n = end - start
    if (this.idUsed + n > this.idBytes.length) {
      const bigger = new Uint8Array(Math.max(this.idBytes.length * 2, this.idUsed + n))
      bigger.set(this.idBytes.subarray(0, this.idUsed))
      this.idBytes = bigger
    }
    const out = this.idBytes
    for (let i = 0, at = this.idUsed; i < n; i++) out[at + i] = src[start + i]!
    this.idUsed += n
    this.idEnds[this.length] = this.idUsed
  }

  /** Serialises the rows so far (a fresh buffer) and empties the builder. */
  encode(): Uint8Array {
    const rows = this.length
    let size = HEADER_BYTES
    for (let c = 0; c < this.columns.length; c++) {
      const col = this.columns[c]!
      if (col.kind === 'number') size = align(size, 8) + rows * 8
      else if (col.kind === 'category') size = align(size, 2) + rows * this.codes[c]!.BYTES_PER_ELEMENT
      else size = align(size, 4) + (rows + 1) * 4 + this.idUsed
    }
    const out = new Uint8Array(size)
    const view = new DataView(out.buffer)
    view.setUint8(0, VERSION)
    view.setUint32(4, rows, true)
    view.setUint32(8, this.columns.length, true)
    let pos = HEADER_BYTES
    for (let c = 0; c < this.columns.length; c++) {
      const col = this.columns[c]!
      if (col.kind === 'number') {
        pos = align(pos, 8)
        out.set(new Uint8Array(this.numbers[c]!.buffer, 0, rows * 8), pos)
        pos += rows * 8
      } else if (col.kind === 'category') {
        const codes = this.codes[c]!
        pos = align(pos, 2)
        out.set(new Uint8Array(codes.buffer, 0, rows * codes.BYTES_PER_ELEMENT), pos)
        pos += rows * codes.BYTES_PER_ELEMENT
      } else {
        pos = align(pos, 4)
        const ends = new Uint32Array(out.buffer, pos, rows + 1)
        ends.set(this.idEnds.subarray(0, rows), 1)
        pos += (rows + 1) * 4
        out.set(this.idBytes.subarray(0, this.idUsed), pos)
        pos += this.idUsed
      }
    }
    this.length = 0
    this.idUsed = 0
    return out
  }

  /** Empties the builder without encoding. */
  clear(): void {
    this.length = 0
    this.idUsed = 0
  }
}

function align(n: number, to: number): number {
  return (n + to - 1) & ~(to - 1)
}

/**
 * Decodes one stored chunk. `select` (stored column indexes, ascending) limits which columns are
 * materialised; ids are the costliest to decode, so leave them out when not needed.
 *
 * @example
 * const chunk = decodeChunk(schema, value, 0)
 */
export function decodeChunk(
  schema: DatasetSchema,
  value: Uint8Array,
  start: number,
  select?: readonly number[]
): RowChunk {
  // Work on an 8-aligned copy when the stored view is misaligned, so Float64Array views are legal.
  const bytes = value.byteOffset % 8 === 0 ? value : value.slice()
  if (bytes.length < HEADER_BYTES) throw corrupt('truncated header')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
  if (view.getUint8(0) !== VERSION) throw corrupt(`unknown chunk version ${view.getUint8(0)}`)
  const rows = view.getUint32(4, true)
  if (view.getUint32(8, true) !== schema.columns.length)
    throw corrupt('column count differs from the manifest')
  const want = select === undefined ? undefined : new Set(select)
  const columns: ChunkColumn[] = []
  let pos = HEADER_BYTES
  for (let c = 0; c < schema.columns.length; c++) {
    const col = schema.columns[c]!
    const keep = want === undefined || want.has(c)
    if (col.kind === 'number') {
      pos = align(pos, 8)
      check(bytes, pos + rows * 8)
      if (keep)
        columns.push({
          kind: 'number',
          name: col.name,
          values: new Float64Array(bytes.buffer, bytes.byteOffset + pos, rows)
        })
      pos += rows * 8
    } else if (col.kind === 'category') {
      const width = categoryCodeBytes(col.levels)
      pos = align(pos, 2)
      check(bytes, pos + rows * width)
      if (keep) {
        const at = bytes.byteOffset + pos
        const codes =
          width === 1 ? new Uint8Array(bytes.buffer, at, rows) : new Uint16Array(bytes.buffer, at, rows)
        columns.push({
          kind: 'category',
          name: col.name,
          levels: col.levels,
          codes,
          missing: missingCode(width)
        })
      }
      pos += rows * width
    } else {
      pos = align(pos, 4)
      check(bytes, pos + (rows + 1) * 4)
      const ends = new Uint32Array(bytes.buffer, bytes.byteOffset + pos, rows + 1)
      pos += (rows + 1) * 4
      const total = ends[rows]!
      check(bytes, pos + total)
      if (keep) {
        const text = Buffer.from(bytes.buffer, bytes.byteOffset + pos, total)
        const values = new Array<string>(rows)
        for (let r = 0; r < rows; r++) values[r] = text.toString('utf8', ends[r]!, ends[r + 1]!)
        columns.push({ kind: 'id', name: col.name, values })
      }
      pos += total
    }
  }
  return { start, length: rows, columns }
}

function check(bytes: Uint8Array, need: number): void {
  if (need > bytes.length) throw corrupt('truncated column data')
}

function corrupt(why: string): DatasetStorageError {
  return new DatasetStorageError(`a stored row chunk is unreadable (${why}); re-import the dataset`)
}
