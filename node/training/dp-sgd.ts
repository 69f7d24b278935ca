import { fillGaussian } from '../../crypto/dp/mechanisms/gaussian.ts'
import type { RandomSource } from '../../crypto/dp/random.ts'
import { tf } from './tf-backend.ts'

/**
 * The randomised parts of DP-SGD (Abadi et al. 2016, Alg. 1) and of ordinary mini-batching. One
 * DP-SGD step on n rows:
 *   1. Poisson sampling: each row joins the batch independently with probability q (the accountant's
 *      `poisson-sampled` event needs exactly this, not shuffling, which has a different analysis);
 *   2. per-example clipping to C and summing (dense-net.ts `batchGradients`);
 *   3. + N(0, (z·C)^2) per coordinate, from the CSPRNG-backed sampler of crypto/dp (never a seeded or
 *      non-cryptographic generator in production: the RandomSource is passed in);
 *   4. divide by the *expected* batch size q·n (not the realised one, which would leak it), then
 *      the optimiser step. Data-independent terms (L2 penalty, FedProx proximal term) are added after
 *      the noise: they depend only on the parameters, so they cost no privacy.
 */

/**
 * Rows of a Poisson sample: row i is kept iff a uniform 32-bit draw is below floor(q·2^32), so the
 * realised rate is floor(q·2^32)/2^32 <= q (never more sampling than the event claims).
 *
 * @example
 * const rows = poissonSample(2248, 64 / 2248, createRandomSource()) // about 64 indices
 */
export function poissonSample(n: number, q: number, rng: RandomSource): Int32Array {
  const threshold = Math.floor(q * 2 ** 32)
  const out: number[] = []
  for (let i = 0; i < n; i++) if (rng.nextUint32() < threshold) out.push(i)
  return Int32Array.from(out)
}

/**
 * A uniformly random permutation of 0..n-1 cut into batches of `batchSize` (last one shorter):
 * the non-private epochs' mini-batches. Fisher–Yates with rejection-sampled indices.
 *
 * @example
 * for (const rows of shuffledBatches(3563, 64, rng)) step(rows)
 */
export function shuffledBatches(n: number, batchSize: number, rng: RandomSource): Int32Array[] {
  const perm = new Int32Array(n)
  for (let i = 0; i < n; i++) perm[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = rng.uniformInt(i + 1)
    const t = perm[i]!
    perm[i] = perm[j]!
    perm[j] = t
  }
  const out: Int32Array[] = []
  for (let at = 0; at < n; at += batchSize) out.push(perm.subarray(at, Math.min(n, at + batchSize)))
  return out
}

/**
 * g + N(0, sigma^2) per coordinate, as a new float32 tensor (call inside tf.tidy).
 *
 * @example
 * const noisy = tf.tidy(() => addGaussianNoise(grad, z * clipNorm, rng))
 */
export function addGaussianNoise<T extends tf.Tensor>(g: T, sigma: number, rng: RandomSource): T {
  const noise = fillGaussian(new Float32Array(g.size), sigma, rng)
  return tf.add(g, tf.tensor(noise, g.shape)) as T
}
