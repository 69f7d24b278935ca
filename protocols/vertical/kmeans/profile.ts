/**
 * Segment profiles and their DP release.
 *
 * Released statistics: the k segment sizes (by the lead) and, at every party, the per-segment sums
 * of its own feature slice (published as means = noisy sum / released size). With `dp`, each row's
 * slice is first clipped to L2 norm `clip` (default √cols, the typical norm of a standardized row
 * slice), so adding or removing one customer moves one size by 1 and each party's sums by at most
 * `clip` in L2. Every party adds Gaussian noise of standard deviation z · sensitivity to its part
 * (z for the sizes, z · clip for its sums). The whole release is then P + 1 Gaussian mechanisms of
 * noise multiplier z on the same customer (P parties' sums plus the sizes), so z is calibrated with
 * the RDP accountant for P + 1 compositions to (epsilon, delta); every party charges that
 * (epsilon, delta) to its own budget. Sizes are rounded and clamped at 0 (post-processing).
 *
 * Not covered: the assignments and centroids themselves (the session's output to the parties, as in
 * Lloyd's algorithm run in the clear on the shared rows) and what the lead sees during assignment.
 */
import { calibrate } from '../../../crypto/dp/accountants/calibrate.ts'
import { gaussianEvent, selfComposedEvent } from '../../../crypto/dp/events.ts'
import type { DpEvent } from '../../../crypto/dp/events.ts'
import { sampleStandardNormal } from '../../../crypto/dp/mechanisms/gaussian.ts'
import type { RandomSource } from '../../../crypto/dp/random.ts'
import type { VerticalSlice } from '../types.ts'

/**
 * Per-segment sizes and own-feature means.
 * @example
 * const p: VerticalSegmentProfile = { sizes: [512, 300, 901, 1022], means: { Age: [0.1, -0.4, 0.2, 0] } }
 */
export interface VerticalSegmentProfile {
  sizes: number[]
  /** Feature -> per-segment mean of own (standardized) features; DP if asked. */
  means: Record<string, number[]>
}

/**
 * The session's release as a DP event (what {@link releaseCalibration} accounts for): P + 1
 * Gaussian mechanisms of multiplier `noiseMultiplier` on each customer.
 * @example
 * ledger.reserve(scope, id, releaseEvent(8.1, 3))
 */
export function releaseEvent(noiseMultiplier: number, parties: number): DpEvent {
  return selfComposedEvent(gaussianEvent(noiseMultiplier), parties + 1)
}

/**
 * DP noise of a session: the noise multiplier and the epsilon it achieves.
 * @example
 * const { noiseMultiplier, epsilon } = releaseCalibration(1, 1e-5, 3)
 */
export function releaseCalibration(
  epsilon: number,
  delta: number,
  parties: number
): { noiseMultiplier: number; epsilon: number } {
  const c = calibrate({ epsilon, delta, q: 1, steps: parties + 1 })
  return { noiseMultiplier: c.noiseMultiplier, epsilon: c.epsilon }
}

/**
 * Exact segment sizes of `assignments`.
 * @example
 * segmentCounts(labels, 4)
 */
export function segmentCounts(assignments: Uint8Array, k: number): number[] {
  const out = new Array<number>(k).fill(0)
  for (const a of assignments) out[a]!++
  return out
}

/**
 * The lead's released sizes: exact, or counts + N(0, z²) rounded and clamped at 0.
 * @example
 * releasedSizes(labels, 4, { noiseMultiplier: 8.1 }, rng)
 */
export function releasedSizes(
  assignments: Uint8Array,
  k: number,
  dp: { noiseMultiplier: number } | null,
  rng: () => RandomSource
): number[] {
  const counts = segmentCounts(assignments, k)
  if (dp === null) return counts
  const r = rng()
  return counts.map((n) => Math.max(0, Math.round(n + dp.noiseMultiplier * sampleStandardNormal(r))))
}

/**
 * A party's profile: the released sizes and its own per-segment means (exact, or from clipped,
 * noised sums with dp).
 * @example
 * const profile = segmentProfile(slice, labels, sizes, 4, dp ? { noiseMultiplier, clip } : null, rng)
 */
export function segmentProfile(
  slice: VerticalSlice,
  assignments: Uint8Array,
  sizes: readonly number[],
  k: number,
  dp: { noiseMultiplier: number; clip: number } | null,
  rng: () => RandomSource
): VerticalSegmentProfile {
  const d = slice.cols
  const sums = new Float64Array(k * d)
  for (let i = 0; i < slice.rows; i++) {
    const xo = i * d
    let factor = 1
    if (dp !== null) {
      let s = 0
      for (let f = 0; f < d; f++) s += slice.x[xo + f]! * slice.x[xo + f]!
      const norm = Math.sqrt(s)
      if (norm > dp.clip) factor = dp.clip / norm
    }
    const o = assignments[i]! * d
    for (let f = 0; f < d; f++) sums[o + f]! += slice.x[xo + f]! * factor
  }
  if (dp !== null) {
    const r = rng()
    const sigma = dp.noiseMultiplier * dp.clip
    for (let i = 0; i < sums.length; i++) sums[i]! += sigma * sampleStandardNormal(r)
  }
  const exact = dp === null ? segmentCounts(assignments, k) : null
  const means: Record<string, number[]> = {}
  slice.featureNames.forEach((name, f) => {
    means[name] = Array.from({ length: k }, (_, c) => sums[c * d + f]! / Math.max(1, (exact ?? sizes)[c]!))
  })
  return { sizes: [...sizes], means }
}

/**
 * Default clip bound of a party's row slice: √cols.
 * @example
 * defaultClip(8) // 2.83
 */
export function defaultClip(cols: number): number {
  return Math.sqrt(cols)
}
