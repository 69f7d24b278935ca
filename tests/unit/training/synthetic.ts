/**
 * TEST ONLY: small seeded datasets for trainer tests.
 */
import { fillGaussian } from '../../../crypto/dp/mechanisms/gaussian.ts'
import { makeDataset } from '../../../node/training/matrix.ts'
import type { LocalDataset } from '../../../node/training/matrix.ts'
import { seededRandom } from '../../helpers/seeded-random.ts'

/** Logistic data: y ~ Bernoulli(sigmoid(w·x + b)) with x ~ N(0, I). */
export function logisticData(seed: string, rows: number, w: number[], b = 0): LocalDataset {
  const rng = seededRandom(seed)
  const d = w.length
  const x = fillGaussian(new Float64Array(rows * d), 1, rng)
  const y = new Float64Array(rows)
  for (let r = 0; r < rows; r++) {
    let z = b
    for (let f = 0; f < d; f++) z += w[f]! * x[r * d + f]!
    y[r] = rng.nextUint32() / 2 ** 32 < 1 / (1 + Math.exp(-z)) ? 1 : 0
  }
  return makeDataset({ x, y, features: d })
}

/** XOR-like data: y = 1 iff x0·x1 > 0 (no linear model separates it). */
export function xorData(seed: string, rows: number): LocalDataset {
  const rng = seededRandom(seed)
  const x = fillGaussian(new Float64Array(rows * 2), 1, rng)
  const y = new Float64Array(rows)
  for (let r = 0; r < rows; r++) y[r] = x[2 * r]! * x[2 * r + 1]! > 0 ? 1 : 0
  return makeDataset({ x, y, features: 2 })
}

/** Gaussian blobs around the given centres (sd 0.3). */
export function blobs(seed: string, perCluster: number, centres: number[][]): LocalDataset {
  const rng = seededRandom(seed)
  const d = centres[0]!.length
  const x = new Float64Array(perCluster * centres.length * d)
  const noise = fillGaussian(new Float64Array(x.length), 0.3, rng)
  let r = 0
  for (const c of centres) {
    for (let i = 0; i < perCluster; i++, r++)
      for (let f = 0; f < d; f++) x[r * d + f] = c[f]! + noise[r * d + f]!
  }
  return makeDataset({ x, y: null, features: d })
}
