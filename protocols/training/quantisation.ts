import type { QuantParams } from '../../crypto/quantize.ts'
import { TrainingConfigError } from './errors.ts'

/**
 * Fixed-point parameters of the training sums. Every vector a node feeds into secure aggregation is
 * clipped per coordinate to ±clip, scaled by 2^f and summed in Z_2^k; the coordinator decodes with
 * the same parameters (crypto/quantize.ts). The clip is fixed per purpose, so it covers what an
 * honest node can send, and the scale is the largest power of two that leaves room for
 * MAX_SUMMED_PARTIES parties plus half the ring for distributed DP noise:
 *
 *   scale = 2^(k − 2 − log2(clip) − log2(MAX_SUMMED_PARTIES))
 *
 * - `fit` / `eval`: clip 2^27 (sample-weighted updates n·Δ, sample counts, histogram counts and
 *   log-loss sums of up to ~10^8 rows); at k = 62 the scale is 2^24, so each node's rounding error
 *   is at most 2^-25 per coordinate.
 * - `stats`: clip 2^40 (sums of squares of raw feature values); at k = 62 the scale is 2^11.
 *
 * A node refuses a vector with a coordinate beyond the clip (it would be silently clipped, and a
 * clipped count or weight is a wrong model, not a noisy one).
 */

/**
 * Most parties a sum is sized for.
 * @example
 * MAX_SUMMED_PARTIES // 512
 */
export const MAX_SUMMED_PARTIES = 512

/**
 * What a fixed-point vector carries.
 * @example
 * quantFor('fit', 62) // { k: 62, clip: 2 ** 27, scale: 2 ** 24 }
 */
export type QuantPurpose = 'fit' | 'eval' | 'stats'

const CLIP_BITS: Record<QuantPurpose, number> = { fit: 27, eval: 27, stats: 40 }
/** Coarsest scale accepted per purpose (below it rounding would dominate). */
const MIN_SCALE_BITS: Record<QuantPurpose, number> = { fit: 16, eval: 16, stats: 8 }
/** Finest scale used: beyond it precision gains nothing and only eats ring room. */
const MAX_SCALE_BITS: Record<QuantPurpose, number> = { fit: 24, eval: 24, stats: 11 }

/**
 * Homomorphic aggregation (`he`, BFV with a 50-bit plaintext modulus, protocols/he-agg): sums live in
 * ±2^49, so a party's values (with its noise share) are bounded by HE_MAX_ABS_PER_PARTY = 2^41 and
 * at most 2^8 parties are summed. Fit / eval: clip 2^20, scale 2^20; stats: clip 2^40, scale 1
 * (integer counts and sums; raw sums of squares beyond 2^40 per node need a statistics range). Values are quantised as in a 62-bit ring
 * and handed to the HE participant as signed integers.
 * @example
 * HE_MAX_ABS_PER_PARTY // 2 ** 41
 */
export const HE_MAX_ABS_PER_PARTY = 2 ** 41

const HE_QUANT: Record<QuantPurpose, { clip: number; scale: number }> = {
  fit: { clip: 2 ** 20, scale: 2 ** 20 },
  eval: { clip: 2 ** 20, scale: 2 ** 20 },
  stats: { clip: 2 ** 40, scale: 1 }
}

/**
 * Quantisation parameters of a job's secure sums: {@link quantFor} for SecAgg+ and plaintext, the
 * HE bounds for `he`.
 *
 * @example
 * jobQuant('fit', summary) // { k: 62, clip: 2 ** 27, scale: 2 ** 24 }
 */
export function jobQuant(
  purpose: QuantPurpose,
  job: { secureAggregation: string; ringBits: number }
): Required<Omit<QuantParams, 'rounding' | 'reserve'>> {
  if (job.secureAggregation === 'he') return { k: 62, ...HE_QUANT[purpose] }
  return quantFor(purpose, job.ringBits)
}

/**
 * Quantisation parameters for a purpose in a ring of `ringBits` bits.
 *
 * @throws TrainingConfigError when the ring is too small for the purpose's precision
 * @example
 * const q = quantFor('eval', 62) // { k: 62, clip: 2 ** 27, scale: 2 ** 24 }
 */
export function quantFor(
  purpose: QuantPurpose,
  ringBits: number
): Required<Omit<QuantParams, 'rounding' | 'reserve'>> {
  const clipBits = CLIP_BITS[purpose]
  const room = ringBits - 2 - clipBits - Math.log2(MAX_SUMMED_PARTIES)
  const scaleBits = Math.min(MAX_SCALE_BITS[purpose], room)
  if (!Number.isInteger(ringBits) || scaleBits < MIN_SCALE_BITS[purpose]) {
    throw new TrainingConfigError(
      `a ${ringBits}-bit ring is too small for ${purpose} vectors (they need ${clipBits + MIN_SCALE_BITS[purpose] + 11} bits); use secagg.ringBits: 62`
    )
  }
  return { k: ringBits, clip: 2 ** clipBits, scale: 2 ** scaleBits }
}

/**
 * Ring units kept free for distributed noise of total standard deviation `sigma` (ring units):
 * 12 sigma, at most a quarter of the ring and 2^52 (a wrap needs a 12-sigma draw, probability
 * < 10^-32 per coordinate).
 *
 * @example
 * noiseReserve(1e6, 62) // 12000000
 */
export function noiseReserve(sigma: number, ringBits: number): number {
  if (!(sigma > 0)) return 0
  return Math.min(2 ** (ringBits - 3), 2 ** 52, Math.ceil(12 * sigma))
}
