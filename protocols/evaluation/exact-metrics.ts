import { EvaluationInputError } from './errors.ts'

/**
 * Binary-classification metrics computed exactly on pooled scores: the reference the federated,
 * histogram-based versions (binary-metrics.ts) are compared with, and what a node reports about its
 * own data. Scores are probabilities of the positive class; labels are 0/1.
 */

/**
 * Probabilities are clamped to [EPS, 1 - EPS] in the log-loss (scikit-learn 1.2's default eps).
 * @example
 * rowLogLoss(0, 1) === -Math.log(LOGLOSS_EPS)
 */
export const LOGLOSS_EPS = 1e-15

function check(scores: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (scores.length !== labels.length) {
    throw new EvaluationInputError(`${scores.length} scores for ${labels.length} labels`)
  }
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]
    if (y !== 0 && y !== 1) throw new EvaluationInputError(`label ${i} is ${y}, expected 0 or 1`)
    const s = scores[i]!
    if (!(s >= 0 && s <= 1)) throw new EvaluationInputError(`score ${i} is ${s}, expected a probability`)
  }
}

/**
 * Log-loss of one prediction, with p clamped to [1e-15, 1 - 1e-15].
 * @example
 * rowLogLoss(0.9, 1) // 0.105
 */
export function rowLogLoss(p: number, y: number): number {
  const q = Math.min(1 - LOGLOSS_EPS, Math.max(LOGLOSS_EPS, p))
  return y === 1 ? -Math.log(q) : -Math.log1p(-q)
}

/**
 * Fraction of rows whose predicted class (score >= threshold) equals the label.
 * @example
 * exactAccuracy([0.9, 0.2], [1, 1]) // 0.5
 */
export function exactAccuracy(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold = 0.5): number {
  check(scores, labels)
  let correct = 0
  for (let i = 0; i < labels.length; i++) if ((scores[i]! >= threshold ? 1 : 0) === labels[i]) correct++
  return correct / labels.length
}

/**
 * Mean log-loss.
 * @example
 * exactLogLoss([0.9, 0.2], [1, 0]) // (−ln 0.9 − ln 0.8) / 2
 */
export function exactLogLoss(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  check(scores, labels)
  let s = 0
  for (let i = 0; i < labels.length; i++) s += rowLogLoss(scores[i]!, labels[i]!)
  return s / labels.length
}

function order(scores: ArrayLike<number>): Uint32Array {
  const idx = new Uint32Array(scores.length)
  for (let i = 0; i < idx.length; i++) idx[i] = i
  return idx.sort((a, b) => scores[a]! - scores[b]!)
}

/**
 * Area under the ROC curve = P(score of a random positive > score of a random negative), ties
 * counted one half (the Mann–Whitney U statistic / (P·N), as scikit-learn's roc_auc_score).
 *
 * @throws EvaluationInputError when one class is absent
 * @example
 * exactAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) // 0.75
 */
export function exactAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  check(scores, labels)
  const idx = order(scores)
  let negBelow = 0
  let u = 0
  let p = 0
  let i = 0
  while (i < idx.length) {
    let j = i
    let pos = 0
    let neg = 0
    while (j < idx.length && scores[idx[j]!] === scores[idx[i]!]) {
      if (labels[idx[j]!] === 1) pos++
      else neg++
      j++
    }
    u += pos * (negBelow + neg / 2)
    negBelow += neg
    p += pos
    i = j
  }
  const n = labels.length - p
  if (p === 0 || n === 0) throw new EvaluationInputError('AUC needs at least one positive and one negative')
  return u / (p * n)
}

/**
 * Kolmogorov–Smirnov statistic: max over thresholds t of |TPR(t) − FPR(t)| (predict positive when
 * score >= t), i.e. the largest gap between the score distributions of positives and negatives.
 *
 * @throws EvaluationInputError when one class is absent
 * @example
 * exactKs([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) // 1
 */
export function exactKs(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  check(scores, labels)
  const idx = order(scores)
  let P = 0
  for (let i = 0; i < labels.length; i++) P += labels[i]!
  const N = labels.length - P
  if (P === 0 || N === 0) throw new EvaluationInputError('KS needs at least one positive and one negative')
  // Walk thresholds from the top: after passing a block of equal scores, those rows are predicted positive.
  let tp = 0
  let fp = 0
  let ks = 0
  let i = idx.length - 1
  while (i >= 0) {
    const s = scores[idx[i]!]
    while (i >= 0 && scores[idx[i]!] === s) {
      if (labels[idx[i]!] === 1) tp++
      else fp++
      i--
    }
    ks = Math.max(ks, Math.abs(tp / P - fp / N))
  }
  return ks
}
