import { aFinite } from '../../asserts.ts'
import { CryptoArgumentError } from '../../errors.ts'
import { gaussianEvent } from '../events.ts'
import type { RandomSource } from '../random.ts'
import type { Mechanism } from './mechanism.ts'

/**
 * Continuous Gaussian noise for DP-SGD (Abadi et al. 2016): N(0, (z·C)^2) on the sum of per-example
 * gradients clipped to L2 norm C. The release is a vector of doubles, so an exact (integer) sampler
 * cannot be used as is; the discrete samplers in `samplers/` remain the choice for integer releases
 * (counts, secure-aggregation inputs).
 *
 * Method, per standard normal:
 * 1. uniforms from the CSPRNG only (`RandomSource`, i.e. `crypto.getRandomValues`): u1 = (k1 + 1)/2^53
 *    in (0, 1] (so log never sees 0) and u2 = k2/2^53 in [0, 1), with k1, k2 uniform 53-bit integers;
 * 2. Box–Muller (Box, Muller 1958): r = sqrt(-2 ln u1), the pair (r cos 2πu2, r sin 2πu2) is two
 *    independent N(0, 1) draws; both are used;
 * 3. secure mode (Holohan, Braghin 2021, "Secure Random Sampling in Differential Privacy", §5; the
 *    Opacus `secure_mode` construction): return (g1 + g2 + g3 + g4) / 2, still exactly N(0, 1) in
 *    distribution. A single Box–Muller output has an invertible floating-point structure that lets
 *    an attacker who sees one noised value recover the noise and the unnoised value (Jin et al. 2022,
 *    "Are We There Yet? Timing and Floating-Point Attacks on Differential Privacy Systems", §4); the
 *    sum of four destroys that invertibility.
 * Limits: a double-valued Gaussian is still not *exactly* the distribution the accountant assumes
 * (Mironov 2012 for Laplace); the residual gap is at the level of double rounding, which is the
 * accepted practice of every DP-SGD library. Costs four normals (two Box–Muller pairs) per output.
 *
 * @example
 * const z = sampleStandardNormal(createRandomSource())
 */
export function sampleStandardNormal(rng: RandomSource): number {
  const a = boxMullerPair(rng)
  const b = boxMullerPair(rng)
  return (a[0] + a[1] + b[0] + b[1]) / 2
}

const TWO_53 = 2 ** 53
const TWO_PI = 2 * Math.PI

function boxMullerPair(rng: RandomSource): [number, number] {
  const u1 = (rng.bits(53) + 1) / TWO_53
  const u2 = rng.bits(53) / TWO_53
  const r = Math.sqrt(-2 * Math.log(u1))
  const t = TWO_PI * u2
  return [r * Math.cos(t), r * Math.sin(t)]
}

/**
 * Fills `out` with independent N(0, sigma^2) draws (secure-mode sampler, see
 * {@link sampleStandardNormal}).
 *
 * @example
 * const noise = fillGaussian(new Float64Array(100), 1.5, createRandomSource())
 */
export function fillGaussian<A extends Float64Array | Float32Array>(
  out: A,
  sigma: number,
  rng: RandomSource
): A {
  aFinite(sigma, 'sigma')
  if (sigma < 0) throw new CryptoArgumentError(`sigma must be >= 0, got ${sigma}`)
  for (let i = 0; i < out.length; i++) out[i] = sigma * sampleStandardNormal(rng)
  return out
}

/**
 * Options of {@link makeGaussian}.
 * @example
 * makeGaussian({ noiseMultiplier: 1.1, sensitivity: 1 })
 */
export interface GaussianInit {
  /** z: the noise standard deviation is z · sensitivity. */
  noiseMultiplier: number
  /** L2 sensitivity of the query (the clipping norm C for DP-SGD's summed gradient). */
  sensitivity: number
}

/**
 * The Gaussian mechanism on real vectors: adds N(0, (z·Δ)^2) to every coordinate. Its event is
 * `gaussian(z)`; Poisson subsampling and composition over steps are described by the caller
 * (`poisson-sampled`, `self-composed`), since only the caller knows them.
 *
 * @example
 * const m = makeGaussian({ noiseMultiplier: 1.1, sensitivity: 1 })
 * const noisy = m.apply(summedClippedGrads, createRandomSource())
 * m.event // { kind: 'gaussian', noiseMultiplier: 1.1 }
 */
export function makeGaussian(init: GaussianInit): Mechanism<Float64Array, Float64Array> {
  aFinite(init.noiseMultiplier, 'noiseMultiplier')
  aFinite(init.sensitivity, 'sensitivity')
  if (init.noiseMultiplier < 0) throw new CryptoArgumentError('noiseMultiplier must be >= 0')
  if (init.sensitivity < 0) throw new CryptoArgumentError('sensitivity must be >= 0')
  const sigma = init.noiseMultiplier * init.sensitivity
  const event = gaussianEvent(init.noiseMultiplier)
  return Object.freeze({
    event,
    apply(input: Float64Array, rng: RandomSource): Float64Array {
      if (!(input instanceof Float64Array)) throw new CryptoArgumentError('input must be a Float64Array')
      const out = new Float64Array(input.length)
      for (let i = 0; i < input.length; i++) {
        const x = input[i]!
        if (!Number.isFinite(x)) throw new CryptoArgumentError(`input[${i}] must be finite, got ${x}`)
        out[i] = x + sigma * sampleStandardNormal(rng)
      }
      return out
    }
  })
}
