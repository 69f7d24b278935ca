import { createReadStream } from 'node:fs'
import { DatasetInvalidError } from './errors.ts'

/**
 * Streaming line splitter for the CSV dialect of the datasets: UTF-8, `\n` or `\r\n` line ends, no
 * quoting. It hands out byte ranges of whole lines, never strings, so a caller can parse fields
 * without allocating; memory stays at one input chunk plus one partial line.
 */

/** A run of complete lines inside `bytes`. Valid only until the iterator is advanced. */
export interface LineBatch {
  readonly bytes: Uint8Array
  /** Line i is bytes[starts[i], ends[i]) (line terminator and a trailing `\r` excluded). */
  readonly starts: Int32Array
  readonly ends: Int32Array
  readonly count: number
  /** 1-based line number of the first line in this batch. */
  readonly firstLine: number
}

/** Options of `readLines`. */
export interface ReadLinesOptions {
  /**
   * Longest accepted line in bytes; a longer one throws DatasetInvalidError.
   * @default 1048576
   */
  maxLineBytes?: number
}

/**
 * Opens a file as a stream of byte chunks for `readLines`.
 *
 * @example
 * for await (const batch of readLines(fileChunks('data.csv'))) { ... }
 */
export function fileChunks(path: string, chunkBytes = 1 << 20): AsyncIterable<Uint8Array> {
  return createReadStream(path, { highWaterMark: chunkBytes })
}

/**
 * Splits a byte stream into lines. A UTF-8 BOM at the start is skipped; a last line without a
 * terminator is still a line; nothing after the final `\n` means no further line.
 *
 * @example
 * for await (const b of readLines(fileChunks(path))) {
 *   for (let i = 0; i < b.count; i++) handle(b.bytes, b.starts[i], b.ends[i], b.firstLine + i)
 * }
 */
export async function* readLines(
  source: AsyncIterable<Uint8Array>,
  options: ReadLinesOptions = {}
): AsyncGenerator<LineBatch> {
  const maxLineBytes = options.maxLineBytes ?? 1 << 20
  let starts = new Int32Array(4096)
  let ends = new Int32Array(4096)
  let carry: Uint8Array = new Uint8Array(0)
  let line = 1
  for await (const bytes of withoutBom(source)) {
    let pos = 0
    if (carry.length > 0) {
      // The line split across pieces: join only that line, in a small buffer of its own.
      const nl = bytes.indexOf(10)
      if (nl < 0) {
        carry = concat(carry, bytes)
        if (carry.length > maxLineBytes) throw tooLong(line, maxLineBytes)
        continue
      }
      const joined = concat(carry, bytes.subarray(0, nl))
      if (joined.length > maxLineBytes) throw tooLong(line, maxLineBytes)
      carry = new Uint8Array(0)
      starts[0] = 0
      ends[0] = joined.length > 0 && joined[joined.length - 1] === 13 ? joined.length - 1 : joined.length
      yield { bytes: joined, starts, ends, count: 1, firstLine: line }
      line++
      pos = nl + 1
    }
    let count = 0
    while (true) {
      const nl = bytes.indexOf(10, pos)
      if (nl < 0) break
      if (count === starts.length) {
        starts = grow(starts)
        ends = grow(ends)
      }
      if (nl - pos > maxLineBytes) throw tooLong(line + count, maxLineBytes)
      starts[count] = pos
      ends[count] = nl > pos && bytes[nl - 1] === 13 ? nl - 1 : nl
      count++
      pos = nl + 1
    }
    if (count > 0) {
      yield { bytes, starts, ends, count, firstLine: line }
      line += count
    }
    // Copied: a source may reuse its buffers, and the partial line must outlive this piece.
    carry = bytes.slice(pos)
    if (carry.length > maxLineBytes) throw tooLong(line, maxLineBytes)
  }
  if (carry.length > 0) {
    starts[0] = 0
    ends[0] = carry[carry.length - 1] === 13 ? carry.length - 1 : carry.length
    yield { bytes: carry, starts, ends, count: 1, firstLine: line }
  }
}

/** Drops a leading UTF-8 byte order mark, however the first bytes are split into pieces. */
async function* withoutBom(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let head: Uint8Array | undefined = new Uint8Array(0)
  for await (const piece of source) {
    if (head === undefined) {
      yield piece
      continue
    }
    head = concat(head, piece)
    if (head.length < 3) continue
    yield head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? head.subarray(3) : head
    head = undefined
  }
  if (head !== undefined && head.length > 0) yield head
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

function tooLong(line: number, max: number): DatasetInvalidError {
  const reason = `line is longer than ${max} bytes; is this a CSV file?`
  return new DatasetInvalidError(`line ${line}: ${reason}`, {
    issues: [{ line, column: null, value: null, reason }],
    total: 1,
    limit: 20
  })
}

function grow(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2)
  b.set(a)
  return b
}
