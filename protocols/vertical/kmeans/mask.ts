/**
 * The mask of the last hop. For every row of every candidate (a group of k − 1 distance gaps, see
 * ./lloyd.ts partialGaps) it draws a scale s in [1, 2^10), log-uniform, from the CSPRNG; the lead
 * decrypts s · (D_j − D_0) for j = 1..k−1, where D are the row's total squared distances. The argmin
 * is invariant under the positive scale, so the lead's assignment is exact up to CKKS error
 * (~2^-28 · s absolute), while the level of the distances never enters the vector (gaps only) and
 * the absolute size of the gaps is hidden by s. The order of the k distances and the ratios of their
 * gaps remain visible to the lead.
 *
 * The last hop also encrypts its own contribution afresh before multiplying, so the ciphertext the
 * lead gets back is re-randomized (the lead cannot relate it to the ciphertext it sent and solve for
 * the scales). Bounds: the scale is one plaintext multiplication (|s| <= 2^18); the product, at most
 * 2^10 · 2^18, sits at a level with ~60 bits of integer headroom.
 */
import type { RandomSource } from '../../../crypto/dp/random.ts'

const SCALE_BITS = 10
const TWO_53 = 2 ** 53

/**
 * Draws a fresh scale per group.
 * @example
 * const scales = drawScales(rows * candidates, createRandomSource())
 */
export function drawScales(groups: number, rng: RandomSource): Float64Array {
  const scale = new Float64Array(groups)
  for (let g = 0; g < groups; g++) scale[g] = 2 ** ((SCALE_BITS * rng.bits(53)) / TWO_53)
  return scale
}

/**
 * The plaintext multiplier of values [from, to): each value's group scale (groups of `width`).
 * @example
 * const weights = scaleWeights(scales, 3, 0, 32768)
 */
export function scaleWeights(scales: Float64Array, width: number, from: number, to: number): Float64Array {
  const out = new Float64Array(to - from)
  for (let i = from; i < to; i++) out[i - from] = scales[Math.floor(i / width)]!
  return out
}
