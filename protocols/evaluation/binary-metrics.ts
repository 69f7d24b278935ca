import { EvaluationInputError } from './errors.ts'
import { rowLogLoss } from './exact-metrics.ts'

/**
 * Federated evaluation of a binary classifier from *sums*: each node turns its scored test rows into
 * one vector
 *
 *   [correct, logLossSum, n, positives histogram (B bins), negatives histogram (B bins)]
 *
 * and the vectors are summed by secure aggregation. Accuracy and log-loss are ratios of sums; AUC
 * and KS are read off the summed histograms, so they are the metrics of the *pooled* test set up to
 * the histogram resolution, not an average of per-node AUCs, and no node reveals a single score.
 * Bin b holds scores in [b/B, (b+1)/B) (the last bin also holds 1).
 *
 * Resolution (what {@link histogramAucError} and {@link histogramKsError} bound): inside one bin the
 * order of a positive and a negative is unknown, and the histogram AUC counts such pairs one half,
 * so |AUC_hist − AUC_exact| <= Σ_b pos_b·neg_b / (2·P·N); KS is taken at bin edges only, so
 * |KS_hist − KS_exact| <= max_b (pos_b / P + neg_b / N).
 */

/**
 * Length of the evaluation vector for `bins` bins: 3 + 2·bins.
 * @example
 * binaryEvalLength(1000) // 2003
 */
export function binaryEvalLength(bins: number): number {
  if (!(Number.isSafeInteger(bins) && bins >= 2))
    throw new EvaluationInputError(`bins must be an integer >= 2, got ${bins}`)
  return 3 + 2 * bins
}

/**
 * The histogram bin of a probability.
 * @example
 * scoreBin(0.5, 1000) // 500
 */
export function scoreBin(p: number, bins: number): number {
  return Math.min(bins - 1, Math.max(0, Math.floor(p * bins)))
}

/**
 * One node's evaluation vector (to be summed with the other nodes').
 *
 * @param scores - probabilities of the positive class
 * @param labels - 0/1
 * @example
 * const v = binaryEvalVector(scores, labels, { bins: 1000 }) // Float64Array(2003)
 */
export function binaryEvalVector(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: { bins: number; threshold?: number }
): Float64Array {
  const { bins, threshold = 0.5 } = options
  const out = new Float64Array(binaryEvalLength(bins))
  if (scores.length !== labels.length)
    throw new EvaluationInputError(`${scores.length} scores for ${labels.length} labels`)
  let correct = 0
  let loss = 0
  for (let i = 0; i < labels.length; i++) {
    const p = scores[i]!
    const y = labels[i]!
    if (y !== 0 && y !== 1) throw new EvaluationInputError(`label ${i} is ${y}, expected 0 or 1`)
    if (!(p >= 0 && p <= 1)) throw new EvaluationInputError(`score ${i} is ${p}, expected a probability`)
    if ((p >= threshold ? 1 : 0) === y) correct++
    loss += rowLogLoss(p, y)
    out[3 + (y === 1 ? 0 : bins) + scoreBin(p, bins)]!++
  }
  out[0] = correct
  out[1] = loss
  out[2] = labels.length
  return out
}

/**
 * Metrics of a (summed) evaluation vector.
 * @example
 * const m = binaryMetricsFromVector(sum, 1000) // { n, positives, accuracy, logloss, auc, ks }
 */
export interface BinaryMetrics {
  n: number
  positives: number
  accuracy: number
  logloss: number
  /** NaN when one class is absent. */
  auc: number
  /** NaN when one class is absent. */
  ks: number
  [name: string]: number
}

/**
 * Splits an evaluation vector into its parts (no copy).
 * @example
 * const { pos, neg } = splitEvalVector(sum, 1000)
 */
export function splitEvalVector(
  v: Float64Array,
  bins: number
): { correct: number; logLossSum: number; n: number; pos: Float64Array; neg: Float64Array } {
  if (v.length !== binaryEvalLength(bins)) {
    throw new EvaluationInputError(
      `expected ${binaryEvalLength(bins)} values (bins = ${bins}), got ${v.length}`
    )
  }
  return {
    correct: v[0]!,
    logLossSum: v[1]!,
    n: v[2]!,
    pos: v.subarray(3, 3 + bins),
    neg: v.subarray(3 + bins, 3 + 2 * bins)
  }
}

function total(h: Float64Array): number {
  let s = 0
  for (let i = 0; i < h.length; i++) s += h[i]!
  return s
}

/**
 * AUC from histograms of positives' and negatives' scores (same bins): pairs in one bin count half.
 * Noisy (DP) histograms may hold small negative counts; they are used as they are.
 *
 * @example
 * histogramAuc(new Float64Array([0, 1]), new Float64Array([1, 0])) // 1
 */
export function histogramAuc(pos: Float64Array, neg: Float64Array): number {
  const P = total(pos)
  const N = total(neg)
  if (!(P > 0 && N > 0)) return Number.NaN
  let posAbove = 0
  let u = 0
  for (let b = pos.length - 1; b >= 0; b--) {
    u += neg[b]! * (posAbove + pos[b]! / 2)
    posAbove += pos[b]!
  }
  return u / (P * N)
}

/**
 * KS from histograms: max over bin edges of |TPR − FPR|.
 * @example
 * histogramKs(new Float64Array([0, 1]), new Float64Array([1, 0])) // 1
 */
export function histogramKs(pos: Float64Array, neg: Float64Array): number {
  const P = total(pos)
  const N = total(neg)
  if (!(P > 0 && N > 0)) return Number.NaN
  let tp = 0
  let fp = 0
  let ks = 0
  for (let b = pos.length - 1; b >= 0; b--) {
    tp += pos[b]!
    fp += neg[b]!
    ks = Math.max(ks, Math.abs(tp / P - fp / N))
  }
  return ks
}

/**
 * Largest possible |histogram AUC − exact AUC| for these histograms: Σ_b pos_b·neg_b / (2·P·N).
 * @example
 * histogramAucError(pos, neg) // e.g. 0.0004 at 1000 bins
 */
export function histogramAucError(pos: Float64Array, neg: Float64Array): number {
  const P = total(pos)
  const N = total(neg)
  let s = 0
  for (let b = 0; b < pos.length; b++) s += pos[b]! * neg[b]!
  return s / (2 * P * N)
}

/**
 * Largest possible |histogram KS − exact KS| for these histograms: max_b (pos_b / P + neg_b / N).
 * @example
 * histogramKsError(pos, neg)
 */
export function histogramKsError(pos: Float64Array, neg: Float64Array): number {
  const P = total(pos)
  const N = total(neg)
  let m = 0
  for (let b = 0; b < pos.length; b++) m = Math.max(m, pos[b]! / P + neg[b]! / N)
  return m
}

/**
 * Accuracy, log-loss, AUC and KS of a summed evaluation vector.
 *
 * @example
 * const m = binaryMetricsFromVector(aggregate.sum, 1000)
 */
export function binaryMetricsFromVector(v: Float64Array, bins: number): BinaryMetrics {
  const { correct, logLossSum, n, pos, neg } = splitEvalVector(v, bins)
  return {
    n,
    positives: total(pos),
    accuracy: n > 0 ? correct / n : Number.NaN,
    logloss: n > 0 ? logLossSum / n : Number.NaN,
    auc: histogramAuc(pos, neg),
    ks: histogramKs(pos, neg)
  }
}
