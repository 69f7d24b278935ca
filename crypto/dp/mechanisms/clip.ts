import { aFinite, aInt } from '../../asserts.ts'
import { CryptoArgumentError } from '../../errors.ts'

/**
 * L2 clipping: the transformation that *creates* the sensitivity the noise mechanisms assume. A
 * vector v becomes v * min(1, C / ||v||_2), so any one party's (or row's) contribution has norm
 * <= C. Not a mechanism (no noise, no event): in OpenDP terms a transformation with stability C.
 * The result is guaranteed to have computed norm <= C even after floating-point rounding.
 *
 * @example
 * const clip: Clip = makeClip({ norm: 1 })
 */
export interface Clip {
  readonly norm: number
  /** Clips one vector; never mutates the input. */
  vector(v: Float64Array): ClippedVector
  /** Clips each row of a row-major `rows x cols` matrix to norm C independently. */
  rows(m: Float64Array, dims: { rows: number; cols: number }): ClippedRows
}

/**
 * Result of {@link Clip.vector}.
 * @example
 * const { vector, clipped } = makeClip({ norm: 1 }).vector(update)
 */
export interface ClippedVector {
  readonly vector: Float64Array
  /** True when the input's norm exceeded C and it was scaled down. */
  readonly clipped: boolean
  /** L2 norm of the input before clipping. */
  readonly normBefore: number
}

/**
 * Result of {@link Clip.rows}.
 * @example
 * const { matrix, clippedCount } = makeClip({ norm: 1 }).rows(grads, { rows: 32, cols: 10 })
 */
export interface ClippedRows {
  readonly matrix: Float64Array
  /** clipped[i] === 1 when row i was scaled down. */
  readonly clipped: Uint8Array
  /** Number of rows that were scaled down. */
  readonly clippedCount: number
}

/**
 * Makes an L2 clip to `norm` (C > 0).
 *
 * @example
 * const clip = makeClip({ norm: 1 })
 * clip.vector(new Float64Array([3, 4])) // { vector: [0.6, 0.8], clipped: true, normBefore: 5 }
 */
export function makeClip(init: { norm: number }): Clip {
  aFinite(init.norm, 'norm', { positive: true })
  const c = init.norm
  const vector = (v: Float64Array): ClippedVector => {
    if (!(v instanceof Float64Array)) throw new CryptoArgumentError('clip input must be a Float64Array')
    const out = new Float64Array(v)
    const { clipped, normBefore } = clipInPlace(out, 0, out.length, c)
    return Object.freeze({ vector: out, clipped, normBefore })
  }
  const rows = (m: Float64Array, dims: { rows: number; cols: number }): ClippedRows => {
    if (!(m instanceof Float64Array)) throw new CryptoArgumentError('clip input must be a Float64Array')
    aInt(dims?.rows, 'rows')
    aInt(dims?.cols, 'cols')
    if (dims.rows < 0 || dims.cols < 0 || dims.rows * dims.cols !== m.length) {
      throw new CryptoArgumentError(`matrix of ${m.length} values is not ${dims.rows} x ${dims.cols}`)
    }
    const out = new Float64Array(m)
    const clipped = new Uint8Array(dims.rows)
    let clippedCount = 0
    for (let r = 0; r < dims.rows; r++) {
      if (clipInPlace(out, r * dims.cols, (r + 1) * dims.cols, c).clipped) {
        clipped[r] = 1
        clippedCount++
      }
    }
    return Object.freeze({ matrix: out, clipped, clippedCount })
  }
  return Object.freeze({ norm: c, vector, rows })
}

/**
 * L2 norm of v[from..to), scaled by the largest magnitude so that squares neither overflow nor
 * underflow (as `Math.hypot` does, without its argument-count limit).
 *
 * @example
 * l2Norm(new Float64Array([3, 4])) // 5
 */
export function l2Norm(v: Float64Array, from = 0, to = v.length): number {
  let max = 0
  for (let i = from; i < to; i++) {
    const a = Math.abs(v[i]!)
    if (Number.isNaN(a)) throw new CryptoArgumentError(`value at index ${i} is NaN`)
    if (a > max) max = a
  }
  if (max === 0 || max === Number.POSITIVE_INFINITY) return max
  let sum = 0
  for (let i = from; i < to; i++) {
    const x = v[i]! / max
    sum += x * x
  }
  return max * Math.sqrt(sum)
}

function clipInPlace(
  v: Float64Array,
  from: number,
  to: number,
  c: number
): { clipped: boolean; normBefore: number } {
  const normBefore = l2Norm(v, from, to)
  if (!Number.isFinite(normBefore))
    throw new CryptoArgumentError('cannot clip a vector with an infinite value')
  if (normBefore <= c) return { clipped: false, normBefore }
  let factor = c / normBefore
  // Rounding can leave the scaled norm a few ulps above C; shrink until it is not.
  for (;;) {
    for (let i = from; i < to; i++) v[i] = v[i]! * factor
    if (l2Norm(v, from, to) <= c) return { clipped: true, normBefore }
    factor = 1 - 2 ** -50
  }
}
