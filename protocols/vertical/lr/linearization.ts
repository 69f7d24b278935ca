/**
 * The linearized sigmoid of vertical LR. The residual of row i is r_i = a_i + c_i·s_i, where s_i is
 * the feature parties' part of the predictor (Σ_p u_p,i, never seen by the label party) and (a_i, c_i)
 * are computed by the label party from its own part z_L,i = u_L,i + b and the label:
 *
 * - `taylor`: σ by its first-order expansion at 0: a_i = 0.25·z_L,i + 0.5 − y_i, c_i = 0.25. The model
 *   converges to the minimiser of a quadratic loss (a least-squares fit's ranking).
 * - `anchored`: σ expanded at z_L,i: a_i = σ(z_L,i) − y_i, c_i = σ'(z_L,i). Exact in the label party's
 *   part; the error is O(σ''(z_L)·s²) in the feature parties' part only.
 *
 * Either way a label moves a_i by exactly 1 and leaves c_i unchanged (the DP sensitivity).
 */
import { sigmoid } from './common.ts'

/** How the sigmoid is linearized. */
export type VerticalLrApproximation = 'taylor' | 'anchored'

/** Every approximation, for validation. */
export const VLR_APPROXIMATIONS: readonly VerticalLrApproximation[] = ['taylor', 'anchored']

/**
 * Offsets a and slopes c of a batch, zero-padded to `slots` (the label party's side).
 *
 * @param zL - the label party's predictor u_L + b of each batch row
 * @param y - the labels of the batch rows
 * @example
 * const { a, c } = linearize('anchored', zL, yBatch, 4096)
 */
export function linearize(
  approximation: VerticalLrApproximation,
  zL: Float64Array,
  y: ArrayLike<number>,
  slots: number
): { a: Float64Array; c: Float64Array } {
  const a = new Float64Array(slots)
  const c = new Float64Array(slots)
  for (let k = 0; k < zL.length; k++) {
    if (approximation === 'taylor') {
      a[k] = 0.25 * zL[k]! + 0.5 - y[k]!
      c[k] = 0.25
    } else {
      const p = sigmoid(zL[k]!)
      a[k] = p - y[k]!
      c[k] = p * (1 - p)
    }
  }
  return { a, c }
}

/**
 * The reported training loss of a batch (a sum over its `rows` rows) from Σ r_i²: for `taylor` the
 * second-order Taylor loss log 2 − y'z/2 + z²/8 (y' = ±1), which is exactly B·(log 2 − 1/2) + 2·Σ r²;
 * for `anchored` Σ r² itself, the squared error of the linearized probabilities (a Brier score).
 */
export function batchLoss(
  approximation: VerticalLrApproximation,
  sumOfSquares: number,
  rows: number
): number {
  return approximation === 'taylor' ? rows * (Math.LN2 - 0.5) + 2 * sumOfSquares : sumOfSquares
}
