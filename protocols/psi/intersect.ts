/**
 * Intersection of fully blinded sets, kept packed (32 bytes per point, never JS strings): an
 * open-addressing hash index over each set (the points are pseudo-random, so their first 4 bytes are
 * a good hash), probed with every point of the smallest set. The matches are then ordered by their
 * blinded value, which no party can relate to ids without all parties' keys: that order is the common
 * row order every party's aligned index follows.
 */
import { PSI_POINT_BYTES } from '../../crypto/psi/blind.ts'

const P = PSI_POINT_BYTES

/**
 * A hash index over packed 32-byte points.
 *
 * @example
 * const index = new PackedIndex(points)
 * index.find(other, 0) // position of other's first point in `points`, or -1
 */
export class PackedIndex {
  readonly points: Uint8Array
  readonly #slots: Int32Array
  readonly #mask: number
  readonly #view: DataView

  constructor(points: Uint8Array) {
    if (points.length % P !== 0) throw new RangeError('points must be whole 32-byte points')
    this.points = points
    this.#view = new DataView(points.buffer, points.byteOffset, points.byteLength)
    const n = points.length / P
    let size = 16
    while (size < 2 * n) size *= 2
    this.#mask = size - 1
    this.#slots = new Int32Array(size) // 0 = empty, else position + 1
    for (let i = 0; i < n; i++) {
      let s = this.#view.getUint32(i * P, true) & this.#mask
      while (this.#slots[s] !== 0) {
        if (this.#equalAt(this.#slots[s]! - 1, points, i * P)) break // duplicate: keep the first
        s = (s + 1) & this.#mask
      }
      if (this.#slots[s] === 0) this.#slots[s] = i + 1
    }
  }

  #equalAt(position: number, other: Uint8Array, at: number): boolean {
    const base = position * P
    const pts = this.points
    for (let k = 0; k < P; k++) if (pts[base + k] !== other[at + k]) return false
    return true
  }

  /** Position in this index of the point other[at..at+32), or -1. */
  find(other: Uint8Array, at: number): number {
    const key = (other[at]! | (other[at + 1]! << 8) | (other[at + 2]! << 16) | (other[at + 3]! << 24)) >>> 0
    let s = key & this.#mask
    for (;;) {
      const v = this.#slots[s]!
      if (v === 0) return -1
      if (this.#equalAt(v - 1, other, at)) return v - 1
      s = (s + 1) & this.#mask
    }
  }
}

/**
 * The intersection of n packed sets.
 * @example
 * const { size, positions }: PackedIntersection = intersectPacked(sets)
 */
export interface PackedIntersection {
  /** Number of points in every set. */
  size: number
  /** positions[j][k] = position in set j of the k-th common point, in ascending blinded-value order. */
  positions: Uint32Array[]
}

function compareAt(a: Uint8Array, i: number, j: number): number {
  const x = i * P
  const y = j * P
  for (let k = 0; k < P; k++) {
    const d = a[x + k]! - a[y + k]!
    if (d !== 0) return d
  }
  return 0
}

/**
 * Intersects packed point sets and orders the common points by value (bytes, lexicographic).
 *
 * @example
 * const { size, positions } = intersectPacked([leaderSet, bankSet, retailerSet])
 */
export function intersectPacked(sets: readonly Uint8Array[]): PackedIntersection {
  if (sets.length === 0) return { size: 0, positions: [] }
  let base = 0
  for (let j = 1; j < sets.length; j++) if (sets[j]!.length < sets[base]!.length) base = j
  const indexes = sets.map((s, j) => (j === base ? undefined : new PackedIndex(s)))
  const baseSet = sets[base]!
  const n = baseSet.length / P
  const hits: number[] = []
  const others: number[][] = sets.map(() => [])
  const found = new Int32Array(sets.length)
  for (let i = 0; i < n; i++) {
    let all = true
    for (let j = 0; j < sets.length; j++) {
      if (j === base) continue
      const p = indexes[j]!.find(baseSet, i * P)
      if (p < 0) {
        all = false
        break
      }
      found[j] = p
    }
    if (!all) continue
    hits.push(i)
    for (let j = 0; j < sets.length; j++) if (j !== base) others[j]!.push(found[j]!)
  }
  // Drop duplicate base points (a set may repeat a point only if a party sent duplicates).
  const order = hits.map((_, k) => k)
  order.sort((a, b) => compareAt(baseSet, hits[a]!, hits[b]!))
  const keep: number[] = []
  for (let k = 0; k < order.length; k++) {
    if (k > 0 && compareAt(baseSet, hits[order[k]!]!, hits[order[k - 1]!]!) === 0) continue
    keep.push(order[k]!)
  }
  const positions = sets.map((_, j) =>
    Uint32Array.from(keep, (k) => (j === base ? hits[k]! : others[j]![k]!))
  )
  return { size: keep.length, positions }
}
