import { describe, expect, it } from 'vitest'
import type { VerticalLrApproximation, VerticalLrOptions } from '../../protocols/vertical/lr/index.ts'
import { epochBatches } from '../../protocols/vertical/lr/options.ts'
import type { VerticalTestData } from '../helpers/vertical-data.ts'
import { loadVerticalData } from '../helpers/vertical-data.ts'
import { runLrSession } from '../helpers/vertical-lr-session.ts'

// The HE protocol computes exactly the intended linearized residual r = a + c ⊙ Σ_p u_p: its weights
// and losses match a plaintext run of the same schedule (credit_data, 3 batches per epoch), for both
// approximations, with one feature party and with two (the share path). ~25 s on 2 cores.

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)))

/** Plaintext Adam, as protocols/vertical/lr/optimizer.ts. */
function adam(lr: number, size: number) {
  const m = new Float64Array(size)
  const v = new Float64Array(size)
  let t = 0
  return (w: Float64Array, g: Float64Array) => {
    t++
    for (let j = 0; j < w.length; j++) {
      m[j] = 0.9 * m[j]! + 0.1 * g[j]!
      v[j] = 0.999 * v[j]! + 0.001 * g[j]! ** 2
      w[j] = w[j]! - (lr * (m[j]! / (1 - 0.9 ** t))) / (Math.sqrt(v[j]! / (1 - 0.999 ** t)) + 1e-8)
    }
  }
}

/** The protocol's training in plaintext: weights per party (label last = intercept) and epoch losses. */
function plaintextRun(
  data: VerticalTestData,
  o: Required<Pick<VerticalLrOptions, 'epochs' | 'batchSize' | 'learningRate' | 'l2' | 'seed'>>,
  approximation: VerticalLrApproximation
) {
  const [L, ...F] = data.parties.map((p) => p.slice)
  const y = L!.y!
  const w = [new Float64Array(L!.cols + 1), ...F.map((f) => new Float64Array(f.cols))]
  const train = data.testRows.reduce((n, f) => n + (f === 0 ? 1 : 0), 0)
  let pos = 0
  for (let i = 0; i < data.rows; i++) if (data.testRows[i] === 0) pos += y[i]!
  w[0]![L!.cols] = Math.log(pos / train / (1 - pos / train))
  const steps = w.map((wp) => adam(o.learningRate, wp.length))
  const losses: number[] = []
  const plan = { seed: o.seed, batchSize: o.batchSize, labelCols: L!.cols + 1, testRows: data.testRows }
  const dot = (p: number, i: number) => {
    const s = data.parties[p]!.slice
    let z = p === 0 ? w[0]![s.cols]! : 0
    for (let j = 0; j < s.cols; j++) z += s.x[i * s.cols + j]! * w[p]![j]!
    return z
  }
  for (let e = 0; e < o.epochs; e++) {
    let loss = 0
    let n = 0
    for (const rows of epochBatches(plan, e)) {
      const B = rows.length
      const r = Array.from(rows, (i) => {
        const zL = dot(0, i)
        const s = F.reduce((acc, _, q) => acc + dot(q + 1, i), 0)
        if (approximation === 'taylor') return 0.25 * (zL + s) + 0.5 - y[i]!
        const p = sigmoid(zL)
        return p - y[i]! + p * (1 - p) * s
      })
      const sq = r.reduce((acc, v) => acc + v * v, 0)
      loss += approximation === 'taylor' ? B * (Math.LN2 - 0.5) + 2 * sq : sq
      n += B
      const grads = data.parties.map((party, p) => {
        const d = party.slice.cols
        const g = new Float64Array(w[p]!.length)
        rows.forEach((i, k) => {
          for (let j = 0; j < d; j++) g[j] = g[j]! + (party.slice.x[i * d + j]! * r[k]!) / B
          if (p === 0) g[d] = g[d]! + r[k]! / B
        })
        for (let j = 0; j < d; j++) g[j] = g[j]! + o.l2 * w[p]![j]!
        return g
      })
      for (const [p, g] of grads.entries()) steps[p]!(w[p]!, g)
    }
    losses.push(loss / n)
  }
  return { w, losses }
}

/** The same rows with the feature parties' columns merged into one feature party. */
function oneFeatureParty(data: VerticalTestData): VerticalTestData {
  const [label, ...features] = data.parties
  const cols = features.reduce((n, f) => n + f.slice.cols, 0)
  const x = new Float64Array(data.rows * cols)
  for (let i = 0; i < data.rows; i++) {
    let off = 0
    for (const f of features) {
      x.set(f.slice.x.subarray(i * f.slice.cols, (i + 1) * f.slice.cols), i * cols + off)
      off += f.slice.cols
    }
  }
  const featureNames = features.flatMap((f) => [...f.slice.featureNames])
  return {
    ...data,
    parties: [
      label!,
      { name: 'features', role: 'feature', slice: { rows: data.rows, cols, x, featureNames } }
    ]
  }
}

describe('vertical LR: the HE residual equals the plaintext linearization', () => {
  it.each([
    { approximation: 'anchored' as const, featureParties: 2 },
    { approximation: 'taylor' as const, featureParties: 2 },
    { approximation: 'anchored' as const, featureParties: 1 }
  ])(
    '$approximation with $featureParties feature part(ies)',
    async ({ approximation, featureParties }) => {
      const full = await loadVerticalData('credit_data')
      const data = featureParties === 1 ? oneFeatureParty(full) : full
      const options = {
        epochs: 3,
        batchSize: 1024,
        learningRate: 0.05,
        l2: 1e-3,
        seed: `approx-${approximation}-${featureParties}`
      }
      const run = await runLrSession(data, { ...options, approximation })
      const expected = plaintextRun(data, options, approximation)
      const got = [
        [...run.label.model.weights, run.label.model.intercept!],
        ...run.features.map((f) => f.model.weights)
      ]
      got.forEach((wp, p) => {
        expect(wp).toHaveLength(expected.w[p]!.length)
        wp.forEach((v, j) => {
          expect(Math.abs(v - expected.w[p]![j]!)).toBeLessThan(1e-4)
        })
      })
      run.label.history.forEach((h, e) => {
        expect(h.trainLoss).toBeCloseTo(expected.losses[e]!, 4)
      })
      // the weights moved: the comparison is not between two untrained models
      expect(Math.max(...got.slice(1).flat().map(Math.abs))).toBeGreaterThan(0.05)
    },
    120_000
  )
})
