import { beforeAll, describe, expect, it } from 'vitest'
import { createRdpAccountant } from '../../../crypto/dp/accountants/rdp.ts'
import { createLogRegTrainer } from '../../../node/training/logreg-trainer.ts'
import { createMlpTrainer } from '../../../node/training/mlp-trainer.ts'
import { initTf } from '../../../node/training/tf-backend.ts'
import type { LocalUpdate } from '../../../node/training/trainer.ts'
import { binaryMetricsFromVector } from '../../../protocols/evaluation/binary-metrics.ts'
import {
  dpSgdSchedule,
  fitEvent,
  recordLevelEvent,
  updateLevelEvent
} from '../../../protocols/training/dp-plan.ts'
import type { FitConfig } from '../../../protocols/training/instructions.ts'
import type { NamedParams } from '../../../protocols/training/model-spec.ts'
import { seedBytes } from '../../../protocols/training/public-seed.ts'
import { seededRandom } from '../../helpers/seeded-random.ts'
import { logisticData, xorData } from './synthetic.ts'

beforeAll(async () => {
  const { backend } = await initTf()
  // The wasm backend must load under Node 24 (a silent fall back to 'cpu' would be a regression).
  expect(['wasm', 'tensorflow']).toContain(backend)
})

const W = [1.5, -2, 0.5, 0]
const train = logisticData('lr/train', 600, W, -0.5)
const test = logisticData('lr/test', 400, W, -0.5)
const fit: FitConfig = { epochs: 5, batchSize: 32, learningRate: 0.2 }

function apply(
  trainer: { spec: { flatten(p: NamedParams): Float64Array; unflatten(v: Float64Array): NamedParams } },
  g: NamedParams,
  u: LocalUpdate
): NamedParams {
  return trainer.spec.unflatten(trainer.spec.flatten(g).map((v, i) => v + u.vector[i]! / u.weight))
}

/** Unpenalised logistic-regression MLE by Newton's method: [w (d), b]. */
function newtonLogReg(x: Float64Array, y: Float64Array, d: number): number[] {
  const n = y.length
  const p = d + 1
  let beta = new Array<number>(p).fill(0)
  for (let it = 0; it < 25; it++) {
    const g = new Array<number>(p).fill(0)
    const h = Array.from({ length: p }, () => new Array<number>(p).fill(0))
    for (let r = 0; r < n; r++) {
      const row = [...Array.from(x.subarray(r * d, r * d + d)), 1]
      const z = row.reduce((a, v, j) => a + v * beta[j]!, 0)
      const mu = 1 / (1 + Math.exp(-z))
      for (let i = 0; i < p; i++) {
        g[i]! += (mu - y[r]!) * row[i]!
        for (let j = 0; j < p; j++) h[i]![j]! += mu * (1 - mu) * row[i]! * row[j]!
      }
    }
    // Solve h · step = g (Gauss–Jordan, p is tiny).
    const a = h.map((rowH, i) => [...rowH, g[i]!])
    for (let c = 0; c < p; c++) {
      const piv = a[c]![c]!
      for (let j = c; j <= p; j++) a[c]![j]! /= piv
      for (let r = 0; r < p; r++) {
        if (r === c) continue
        const f = a[r]![c]!
        for (let j = c; j <= p; j++) a[r]![j]! -= f * a[c]![j]!
      }
    }
    beta = beta.map((v, i) => v - a[i]![p]!)
  }
  return beta
}

function norm(v: Float64Array): number {
  return Math.sqrt(v.reduce((a, b) => a + b * b, 0))
}

describe('logistic regression trainer', () => {
  const trainer = createLogRegTrainer({ features: 4 })
  const g0 = trainer.spec.init(seedBytes('lr'))

  it('converges to the maximum-likelihood fit and releases n·Δ with weight n', async () => {
    const cfg = { epochs: 30, batchSize: 100, learningRate: 0.5 }
    const u = await trainer.fit(g0, train, cfg, { rng: seededRandom('fit') })
    expect(u.weight).toBe(600)
    expect(u.event).toEqual({ kind: 'non-private' })
    expect(u.metrics.steps).toBe(30 * 6)
    const p = apply(trainer, g0, u)
    // SGD ends near the maximum-likelihood fit (Newton's method on the same rows).
    const mle = newtonLogReg(train.x, train.y!, 4)
    const got = trainer.spec.flatten(p)
    for (let i = 0; i < mle.length; i++) expect(Math.abs(got[i]! - mle[i]!)).toBeLessThan(0.05)
    const m = await trainer.evaluate(p, test)
    expect(m.auc).toBeGreaterThan(0.85)
    // The federated evaluation vector of one party reproduces the exact metrics (up to bins).
    const v = binaryMetricsFromVector(await trainer.evaluationVector(p, test, { bins: 1000 }), 1000)
    expect(v.accuracy).toBe(m.accuracy)
    expect(v.logloss).toBeCloseTo(m.logloss, 12)
    expect(Math.abs(v.auc - m.auc)).toBeLessThan(0.002)
  })

  it('is reproducible with a seeded source and differs with another', async () => {
    const a = await trainer.fit(g0, train, fit, { rng: seededRandom('same') })
    const b = await trainer.fit(g0, train, fit, { rng: seededRandom('same') })
    const c = await trainer.fit(g0, train, fit, { rng: seededRandom('other') })
    expect(a.vector).toEqual(b.vector)
    expect(a.vector).not.toEqual(c.vector)
  })

  it('FedProx μ pulls the local model toward the global one; L2 shrinks it', async () => {
    const plain = await trainer.fit(g0, train, fit, { rng: seededRandom('p') })
    const prox = await trainer.fit(g0, train, { ...fit, proximalMu: 2 }, { rng: seededRandom('p') })
    const l2 = await trainer.fit(g0, train, { ...fit, l2: 1 }, { rng: seededRandom('p') })
    expect(norm(prox.vector)).toBeLessThan(0.7 * norm(plain.vector))
    expect(norm(l2.vector)).toBeLessThan(0.7 * norm(plain.vector))
  })

  it('update-level DP: uniform weight, Δ clipped to C, distributed discrete Gaussian event', async () => {
    const dp = {
      kind: 'update-level',
      clipNorm: 0.1,
      noiseMultiplier: 1,
      minParticipants: 3,
      scale: 2 ** 16
    } as const
    const u = await trainer.fit(g0, train, { ...fit, dp }, { rng: seededRandom('u') })
    expect(u.weight).toBe(1)
    expect(norm(u.vector)).toBeLessThanOrEqual(0.1)
    expect(u.metrics.updateClipped).toBe(1)
    expect(u.event).toEqual(updateLevelEvent(dp, { realSensitivity: 0.2, dimension: 6 }))
    await expect(trainer.fit(g0, train, { ...fit, dp, weighting: 'samples' })).rejects.toMatchObject({
      code: 'COHORT_TRAINING_CONFIG'
    })
  })

  it('record-level DP-SGD: Poisson steps, the composed event, noise that depends on the CSPRNG draw', async () => {
    const dp = { kind: 'record-level', clipNorm: 1, noiseMultiplier: 1.1 } as const
    const cfg = { epochs: 2, batchSize: 60, learningRate: 0.5, dp }
    const a = await trainer.fit(g0, train, cfg, { rng: seededRandom('dp-a') })
    const b = await trainer.fit(g0, train, cfg, { rng: seededRandom('dp-b') })
    const { q, steps } = dpSgdSchedule({ n: 600, batchSize: 60, epochs: 2 })
    expect(a.metrics.steps).toBe(steps)
    expect(a.event).toEqual(recordLevelEvent({ q, noiseMultiplier: 1.1, steps }))
    expect(a.event).toEqual(fitEvent(trainer.spec, cfg, 600))
    expect(createRdpAccountant().compose(a.event).epsilon(1e-5)).toBeGreaterThan(0)
    expect(a.weight).toBe(1)
    expect(a.vector).not.toEqual(b.vector)
    // Still learns: AUC well above chance with z = 1.1 on 600 rows.
    const m = await trainer.evaluate(apply(trainer, g0, a), test)
    expect(m.auc).toBeGreaterThan(0.8)
  })

  it('refuses data of the wrong width or without binary labels', async () => {
    const bad = logisticData('x', 10, [1, 2])
    await expect(trainer.fit(g0, bad, fit)).rejects.toMatchObject({ code: 'COHORT_TRAINING_DATA' })
    const noLabels = { ...train, y: null }
    await expect(trainer.fit(g0, noLabels, fit)).rejects.toMatchObject({ code: 'COHORT_TRAINING_DATA' })
    await expect(trainer.fit(g0, train, { ...fit, epochs: 0 })).rejects.toMatchObject({
      code: 'COHORT_TRAINING_CONFIG'
    })
  })

  it('stops when its abort signal fires', async () => {
    const ac = new AbortController()
    ac.abort()
    await expect(trainer.fit(g0, train, fit, { signal: ac.signal })).rejects.toThrow()
  })
})

describe('MLP trainer', () => {
  it('learns XOR, which logistic regression cannot', async () => {
    const tr = xorData('xor/train', 800)
    const te = xorData('xor/test', 400)
    const mlp = createMlpTrainer({ features: 2, hidden: [16] })
    const lr = createLogRegTrainer({ features: 2 })
    const cfg: FitConfig = { epochs: 30, batchSize: 32, learningRate: 0.02, optimizer: 'adam' }
    const gm = mlp.spec.init(seedBytes('xor'))
    const um = await mlp.fit(gm, tr, cfg, { rng: seededRandom('m') })
    const gl = lr.spec.init(seedBytes('xor'))
    const ul = await lr.fit(gl, tr, cfg, { rng: seededRandom('l') })
    const mm = await mlp.evaluate(apply(mlp, gm, um), te)
    const ml = await lr.evaluate(apply(lr, gl, ul), te)
    expect(mm.auc).toBeGreaterThan(0.95)
    expect(ml.auc).toBeLessThan(0.65)
  })

  it('runs DP-SGD with per-example clipping through hidden layers', async () => {
    const mlp = createMlpTrainer({ features: 4, hidden: [8] })
    const g = mlp.spec.init(seedBytes('mlp-dp'))
    const u = await mlp.fit(
      g,
      train,
      {
        epochs: 3,
        batchSize: 60,
        learningRate: 0.3,
        dp: { kind: 'record-level', clipNorm: 1, noiseMultiplier: 0.8 }
      },
      { rng: seededRandom('mlp-dp') }
    )
    expect(u.event.kind).toBe('self-composed')
    expect(u.metrics.exampleClippedFraction).toBeGreaterThanOrEqual(0)
    expect((await mlp.evaluate(apply(mlp, g, u), test)).auc).toBeGreaterThan(0.8)
  })
})
