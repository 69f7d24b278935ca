/**
 * Byte-keyed hash tables for the import's hot loop: they look keys up straight from the CSV bytes,
 * without making a string per field. Open addressing with linear probing, load factor <= 1/2,
 * FNV-1a 32-bit hashing (http://www.isthe.com/chongo/tech/comp/fnv/).
 */

/**
 * FNV-1a hash of bytes[start, end).
 *
 * @example
 * fnv1a(Buffer.from('u00001'), 0, 6)
 */
export function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193)
  return h >>> 0
}

function sameBytes(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[aStart + i] !== b[bStart + i]) return false
  return true
}

/**
 * Fixed set of strings (category levels) -> code, looked up from bytes.
 *
 * @example
 * const m = new LevelTable(['no', 'yes']); m.find(Buffer.from('yes'), 0, 3) // 1
 */
export class LevelTable {
  readonly levels: readonly string[]
  private readonly bytes: Uint8Array[]
  private readonly slots: Int32Array
  private readonly mask: number

  constructor(levels: readonly string[]) {
    this.levels = levels
    this.bytes = levels.map((l) => Buffer.from(l, 'utf8'))
    let size = 16
    while (size < levels.length * 4) size *= 2
    this.mask = size - 1
    this.slots = new Int32Array(size).fill(-1)
    this.bytes.forEach((b, code) => {
      let s = fnv1a(b, 0, b.length) & this.mask
      while (this.slots[s] !== -1) s = (s + 1) & this.mask
      this.slots[s] = code
    })
  }

  /** Code of the level spelled by src[start, end), or -1. */
  find(src: Uint8Array, start: number, end: number): number {
    const n = end - start
    let s = fnv1a(src, start, end) & this.mask
    while (true) {
      const code = this.slots[s]!
      if (code < 0) return -1
      const b = this.bytes[code]!
      if (b.length === n && sameBytes(b, 0, src, start, n)) return code
      s = (s + 1) & this.mask
    }
  }
}

/**
 * Growing set of byte strings (row ids) remembering the line each was first seen on. Memory is
 * about (id length + 20) bytes per id: ~28 MB for 10⁶ eight-byte ids, versus ~100 MB for a JS Map
 * of strings.
 *
 * @example
 * const ids = new IdSet(); ids.add(b, 0, 6, 2) // -1 (new); ids.add(b, 0, 6, 9) // 2 (first line)
 */
export class IdSet {
  private arena = new Uint8Array(1 << 16)
  private used = 0
  private ends = new Uint32Array(1 << 12)
  private lines = new Uint32Array(1 << 12)
  private hashes = new Uint32Array(1 << 12)
  private slots = new Int32Array(1 << 13).fill(-1)
  private mask = (1 << 13) - 1
  size = 0

  /** Adds src[start, end) seen on `line`. Returns -1 when new, else the line it was first seen on. */
  add(src: Uint8Array, start: number, end: number, line: number): number {
    const n = end - start
    const h = fnv1a(src, start, end)
    let s = h & this.mask
    while (true) {
      const k = this.slots[s]!
      if (k < 0) break
      if (this.hashes[k] === h) {
        const from = k === 0 ? 0 : this.ends[k - 1]!
        if (this.ends[k]! - from === n && sameBytes(this.arena, from, src, start, n)) return this.lines[k]!
      }
      s = (s + 1) & this.mask
    }
    const k = this.size
    if (k === this.ends.length) this.growIds()
    if (this.used + n > this.arena.length) this.arena = grown(this.arena, this.used + n)
    const arena = this.arena
    for (let i = 0, at = this.used; i < n; i++) arena[at + i] = src[start + i]!
    this.used += n
    this.ends[k] = this.used
    this.lines[k] = line
    this.hashes[k] = h
    this.slots[s] = k
    this.size++
    if (this.size * 2 > this.slots.length) this.rehash()
    return -1
  }

  private growIds(): void {
    this.ends = grown(this.ends, this.ends.length * 2)
    this.lines = grown(this.lines, this.lines.length * 2)
    this.hashes = grown(this.hashes, this.hashes.length * 2)
  }

  private rehash(): void {
    const size = this.slots.length * 2
    const slots = new Int32Array(size).fill(-1)
    const mask = size - 1
    for (let k = 0; k < this.size; k++) {
      let s = this.hashes[k]! & mask
      while (slots[s] !== -1) s = (s + 1) & mask
      slots[s] = k
    }
    this.slots = slots
    this.mask = mask
  }
}

function grown<T extends Uint8Array | Uint32Array>(a: T, atLeast: number): T {
  let size = a.length * 2
  while (size < atLeast) size *= 2
  const b = new (a.constructor as new (n: number) => T)(size)
  b.set(a)
  return b
}
