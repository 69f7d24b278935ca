/**
 * TEST ONLY: a binned chi-square goodness-of-fit test of integer samples against an exact pmf.
 * Bins are runs of consecutive integers of (about) equal probability, the two end bins take the
 * tails, so every bin expects at least `minExpected` samples.
 */

export interface ChiSquareResult {
  statistic: number
  df: number
  /** Critical value at p = 0.001 (Wilson-Hilferty approximation). */
  critical: number
}

/**
 * Tests `samples` against `pmf` (unnormalised weights are fine) on the integers in [lo, hi]; mass
 * outside that range must be negligible.
 */
export function chiSquare(
  samples: ArrayLike<number>,
  pmf: (x: number) => number,
  lo: number,
  hi: number,
  bins = 40
): ChiSquareResult {
  let total = 0
  for (let x = lo; x <= hi; x++) total += pmf(x)
  const n = samples.length
  const target = 1 / bins
  // uppers[i] = largest integer in bin i; probs[i] = its probability.
  const uppers: number[] = []
  const probs: number[] = []
  let acc = 0
  for (let x = lo; x <= hi; x++) {
    acc += pmf(x) / total
    if (acc >= target && (hi - x > 0 || uppers.length === 0)) {
      uppers.push(x)
      probs.push(acc)
      acc = 0
    }
  }
  if (acc > 0) {
    if (probs.length > 0 && acc * n < 5) probs[probs.length - 1]! += acc
    else {
      uppers.push(hi)
      probs.push(acc)
    }
  }
  uppers[uppers.length - 1] = Number.POSITIVE_INFINITY
  const counts = new Array<number>(uppers.length).fill(0)
  for (let i = 0; i < n; i++) {
    const s = samples[i]!
    let a = 0
    let b = uppers.length - 1
    while (a < b) {
      const m = (a + b) >> 1
      if (s <= uppers[m]!) b = m
      else a = m + 1
    }
    counts[a]!++
  }
  let statistic = 0
  for (let i = 0; i < counts.length; i++) {
    const e = probs[i]! * n
    statistic += (counts[i]! - e) ** 2 / e
  }
  const df = counts.length - 1
  const z = 3.0902 // standard normal quantile at 0.999
  const critical = df * (1 - 2 / (9 * df) + z * Math.sqrt(2 / (9 * df))) ** 3
  return { statistic, df, critical }
}
