/**
 * Coordinate-wise optimizers: each party updates only its own slice of the weights, so Adam's
 * moment estimates and SGD steps never need another party's coordinates.
 */

/** Updates weights in place from a gradient (which already includes the L2 term). */
export interface Optimizer {
  step(weights: Float64Array, gradient: Float64Array): void
}

/**
 * Adam (Kingma, Ba 2015) with bias correction, β1 = 0.9, β2 = 0.999, ε = 1e-8; or plain SGD.
 *
 * @example
 * const opt = createOptimizer('adam', 0.05, w.length); opt.step(w, g)
 */
export function createOptimizer(kind: 'adam' | 'sgd', learningRate: number, size: number): Optimizer {
  if (kind === 'sgd') {
    return {
      step(w, g) {
        for (let j = 0; j < w.length; j++) w[j] = w[j]! - learningRate * g[j]!
      }
    }
  }
  const m = new Float64Array(size)
  const v = new Float64Array(size)
  let t = 0
  return {
    step(w, g) {
      t++
      const c1 = 1 - 0.9 ** t
      const c2 = 1 - 0.999 ** t
      for (let j = 0; j < w.length; j++) {
        m[j] = 0.9 * m[j]! + 0.1 * g[j]!
        v[j] = 0.999 * v[j]! + 0.001 * g[j]! * g[j]!
        w[j] = w[j]! - (learningRate * (m[j]! / c1)) / (Math.sqrt(v[j]! / c2) + 1e-8)
      }
    }
  }
}

/** x_row · w for every row of a row-major matrix, over the listed rows. */
export function partialScores(
  x: Float64Array,
  cols: number,
  w: Float64Array,
  rows: Uint32Array
): Float64Array {
  const out = new Float64Array(rows.length)
  for (let k = 0; k < rows.length; k++) {
    const base = rows[k]! * cols
    let s = 0
    for (let j = 0; j < cols; j++) s += x[base + j]! * w[j]!
    out[k] = s
  }
  return out
}

/** The listed rows of a row-major matrix, optionally scaled. */
export function gatherRows(x: Float64Array, cols: number, rows: Uint32Array, scale = 1): Float64Array {
  const out = new Float64Array(rows.length * cols)
  for (let k = 0; k < rows.length; k++) {
    const base = rows[k]! * cols
    for (let j = 0; j < cols; j++) out[k * cols + j] = x[base + j]! * scale
  }
  return out
}

/** Rows clipped to L2 norm ≤ clip (a copy). */
export function clipRows(x: Float64Array, rows: number, cols: number, clip: number): Float64Array {
  const out = Float64Array.from(x)
  for (let i = 0; i < rows; i++) {
    let s = 0
    for (let j = 0; j < cols; j++) s += out[i * cols + j]! ** 2
    const norm = Math.sqrt(s)
    if (norm > clip) for (let j = 0; j < cols; j++) out[i * cols + j] = (out[i * cols + j]! * clip) / norm
  }
  return out
}

/**
 * The label party's rows [x_i | 1] (the intercept's ones column appended), each clipped to L2 norm
 * ≤ clip when given: under DP its gradient is [X_L | 1]ᵀ r / B and the ones column counts towards
 * the sensitivity like any feature.
 */
export function withInterceptColumn(
  x: Float64Array,
  rows: number,
  cols: number,
  clip?: number
): Float64Array {
  const out = new Float64Array(rows * (cols + 1))
  for (let i = 0; i < rows; i++) {
    out.set(x.subarray(i * cols, (i + 1) * cols), i * (cols + 1))
    out[i * (cols + 1) + cols] = 1
  }
  return clip === undefined ? out : clipRows(out, rows, cols + 1, clip)
}
