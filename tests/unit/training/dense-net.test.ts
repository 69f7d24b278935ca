import { beforeAll, describe, expect, it } from 'vitest'
import { fillGaussian } from '../../../crypto/dp/mechanisms/gaussian.ts'
import {
  batchGradients,
  createNet,
  disposeNet,
  logits,
  readParams
} from '../../../node/training/dense-net.ts'
import type { DenseNet } from '../../../node/training/dense-net.ts'
import { poissonSample, shuffledBatches } from '../../../node/training/dp-sgd.ts'
import { initTf, tf } from '../../../node/training/tf-backend.ts'
import { denseLayers, mlpSpec } from '../../../protocols/training/model-spec.ts'
import { seedBytes } from '../../../protocols/training/public-seed.ts'
import { seededRandom } from '../../helpers/seeded-random.ts'

beforeAll(async () => {
  await initTf()
})

const spec = mlpSpec({ features: 5, hidden: [4, 3] })
const B = 7

function data(seed: string) {
  const rng = seededRandom(seed)
  const x = fillGaussian(new Float32Array(B * 5), 1.5, rng)
  const y = Float32Array.from({ length: B }, () => rng.uniformInt(2))
  return { x, y }
}

/** Reference: tf autodiff of Σ_i loss_i over the given rows, per variable (kernels and biases interleaved). */
function autodiff(net: DenseNet, x: Float32Array, y: Float32Array, rows: number[]): Float32Array[] {
  const vars = net.kernels.flatMap((k, i) => [k, net.biases[i]!])
  const f = () => {
    const xb = tf.tensor2d(
      rows.flatMap((r) => Array.from(x.subarray(r * 5, r * 5 + 5))),
      [rows.length, 5]
    )
    const yb = tf.tensor2d(
      rows.map((r) => y[r]!),
      [rows.length, 1]
    )
    const z = logits(net, xb)
    return tf.sum(tf.sub(tf.softplus(z), tf.mul(yb, z))) as tf.Scalar
  }
  const { grads } = tf.variableGrads(f, vars)
  const out = vars.map((v) => Float32Array.from(grads[v.name]!.dataSync()))
  tf.dispose(Object.values(grads))
  return out
}

function ours(
  net: DenseNet,
  x: Float32Array,
  y: Float32Array,
  clip?: number
): { grads: Float32Array[]; loss: number; clipped: number } {
  return tf.tidy(() => {
    const b = batchGradients(net, tf.tensor2d(x, [B, 5]), tf.tensor2d(y, [B, 1]), clip)
    const grads = b.kernelGrads.flatMap((k, i) => [
      Float32Array.from(k.dataSync()),
      Float32Array.from(b.biasGrads[i]!.dataSync())
    ])
    return { grads, loss: b.lossSum.dataSync()[0]!, clipped: b.clipped.dataSync()[0]! }
  })
}

function expectClose(a: Float32Array[], b: Float32Array[], tol: number) {
  expect(a.length).toBe(b.length)
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < a[i]!.length; j++) {
      expect(Math.abs(a[i]![j]! - b[i]![j]!)).toBeLessThan(tol * (1 + Math.abs(b[i]![j]!)))
    }
  }
}

describe('dense network (hand-written backward pass)', () => {
  it('equals tf autodiff without clipping', () => {
    const net = createNet(denseLayers(spec), spec.init(seedBytes('net')))
    const { x, y } = data('grad/plain')
    const rows = Array.from({ length: B }, (_, i) => i)
    expectClose(ours(net, x, y).grads, autodiff(net, x, y, rows), 1e-4)
    disposeNet(net)
  })

  it('per-example clipping equals clipping each example’s autodiff gradient and summing', () => {
    const net = createNet(denseLayers(spec), spec.init(seedBytes('net2')))
    const { x, y } = data('grad/clip')
    const C = 0.3
    const want = autodiff(net, x, y, [0]).map((t) => new Float32Array(t.length))
    let clippedWant = 0
    for (let i = 0; i < B; i++) {
      const g = autodiff(net, x, y, [i])
      const norm = Math.sqrt(g.reduce((s, t) => s + t.reduce((a, v) => a + v * v, 0), 0))
      const c = Math.min(1, C / norm)
      if (norm > C) clippedWant++
      for (let l = 0; l < g.length; l++) for (let j = 0; j < g[l]!.length; j++) want[l]![j]! += c * g[l]![j]!
    }
    const got = ours(net, x, y, C)
    expect(clippedWant).toBeGreaterThan(0)
    expect(got.clipped).toBe(clippedWant)
    expectClose(got.grads, want, 1e-4)
    disposeNet(net)
  })

  it('reads parameters back unchanged (float32 round trip)', () => {
    const p = spec.init(seedBytes('rt'))
    const net = createNet(denseLayers(spec), p)
    const back = spec.flatten(readParams(net))
    const want = spec.flatten(p)
    for (let i = 0; i < want.length; i++) expect(back[i]).toBe(Math.fround(want[i]!))
    disposeNet(net)
  })
})

describe('sampling', () => {
  it('Poisson sampling keeps each row with probability q (never more)', () => {
    const rng = seededRandom('poisson')
    let kept = 0
    const trials = 200
    for (let t = 0; t < trials; t++) {
      const s = poissonSample(1000, 0.05, rng)
      kept += s.length
      expect(s.every((v, i) => i === 0 || v > s[i - 1]!)).toBe(true)
    }
    // Mean 50 per draw, sd of the total sqrt(200·47.5) ≈ 97.
    expect(Math.abs(kept - 10_000)).toBeLessThan(500)
    expect(poissonSample(10, 1, rng).length).toBe(10)
    expect(poissonSample(10, 0, rng).length).toBe(0)
  })

  it('shuffled batches are a permutation cut into batch-sized pieces', () => {
    const batches = shuffledBatches(103, 10, seededRandom('perm'))
    expect(batches.map((b) => b.length)).toEqual([10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3])
    const all = batches.flatMap((b) => Array.from(b)).sort((a, b) => a - b)
    expect(all).toEqual(Array.from({ length: 103 }, (_, i) => i))
    expect(batches.flatMap((b) => Array.from(b))).not.toEqual(Array.from({ length: 103 }, (_, i) => i))
  })
})
