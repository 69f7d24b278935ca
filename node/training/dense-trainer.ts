import { makeClip } from '../../crypto/dp/mechanisms/clip.ts'
import { createRandomSource } from '../../crypto/dp/random.ts'
import type { RandomSource } from '../../crypto/dp/random.ts'
import { binaryEvalVector } from '../../protocols/evaluation/binary-metrics.ts'
import { exactAccuracy, exactAuc, exactKs, exactLogLoss } from '../../protocols/evaluation/exact-metrics.ts'
import { dpSgdSchedule, fitEvent } from '../../protocols/training/dp-plan.ts'
import { TrainingConfigError } from '../../protocols/training/errors.ts'
import { resolveEvalConfig, resolveFitConfig } from '../../protocols/training/instructions.ts'
import type { EvalConfig, FitConfig } from '../../protocols/training/instructions.ts'
import { denseLayers } from '../../protocols/training/model-spec.ts'
import type { ModelSpec, NamedParams } from '../../protocols/training/model-spec.ts'
import { batchGradients, createNet, disposeNet, logits, readParams } from './dense-net.ts'
import type { DenseNet } from './dense-net.ts'
import { addGaussianNoise, poissonSample, shuffledBatches } from './dp-sgd.ts'
import { TrainingDataError, TrainingDivergedError } from './errors.ts'
import { float32Of, requireBinaryLabels } from './matrix.ts'
import type { LocalDataset } from './matrix.ts'
import { createOptimizer } from './optimizer.ts'
import { initTf, tf } from './tf-backend.ts'
import type { LocalUpdate, Metrics, Trainer, TrainOptions } from './trainer.ts'

/**
 * Options of {@link createDenseTrainer}.
 * @example
 * createDenseTrainer(spec, { rng: seeded })
 */
export interface DenseTrainerInit {
  /** Default randomness of every call. @default createRandomSource() (crypto.getRandomValues) */
  rng?: RandomSource
}

const PREDICT_CHUNK = 8192

/**
 * The trainer of the dense classifiers (logreg, mlp) on tfjs. One fit: variables from the global
 * parameters; `epochs` of shuffled mini-batches (no DP / update-level DP) or epochs·ceil(n/B)
 * Poisson-sampled DP-SGD steps (record-level DP); each step's gradient is the mean cross-entropy
 * gradient (DP: noisy clipped sum / (q·n)) + l2·kernels + μ·(w − w_global); the update is
 * Δ = local − global, clipped to C under update-level DP, times the weight (see trainer.ts).
 *
 * @example
 * const trainer = createDenseTrainer(logregSpec({ features: 26 }))
 * const update = await trainer.fit(global, train, { epochs: 1, batchSize: 64, learningRate: 0.5 })
 */
export function createDenseTrainer(
  spec: ModelSpec<NamedParams>,
  init: DenseTrainerInit = {}
): Trainer<NamedParams> {
  const layers = denseLayers(spec)
  const d = layers[0]!.inputs
  const rngOf = (options?: TrainOptions) => options?.rng ?? init.rng ?? createRandomSource()
  const checkFeatures = (data: LocalDataset) => {
    if (data.features !== d)
      throw new TrainingDataError(`the model takes ${d} features, the data has ${data.features}`)
  }

  async function fit(
    global: NamedParams,
    data: LocalDataset,
    cfgIn: FitConfig,
    options: TrainOptions = {}
  ): Promise<LocalUpdate> {
    const cfg = resolveFitConfig(cfgIn)
    checkFeatures(data)
    const labels = requireBinaryLabels(data)
    const n = data.rows
    if (n === 0) throw new TrainingDataError('no training rows')
    if (cfg.dp.kind === 'update-level' && cfg.weighting !== 'uniform') {
      throw new TrainingConfigError(
        "update-level DP needs 'uniform' weighting (n·Δ would scale the sensitivity by n)"
      )
    }
    await initTf()
    const rng = rngOf(options)
    const started = performance.now()
    const g0 = spec.flatten(global)
    const { x: x32 } = float32Of(data)
    const xAll = tf.tensor2d(x32, [n, d])
    const yAll = tf.tensor2d(Float32Array.from(labels), [n, 1])
    const net = createNet(layers, global)
    const vars = interleave(net)
    const anchor = cfg.proximalMu > 0 ? vars.map((v) => tf.keep(v.clone())) : []
    const opt = createOptimizer(cfg.optimizer, vars, {
      learningRate: cfg.learningRate,
      momentum: cfg.momentum
    })
    let steps = 0
    let lossSum = 0
    let seen = 0
    let clipped = 0
    try {
      const step = (rows: Int32Array, dpNoise?: { sigma: number; denominator: number; clipNorm: number }) => {
        tf.tidy(() => {
          const idx = tf.tensor1d(rows, 'int32')
          const xb = tf.gather(xAll, idx) as tf.Tensor2D
          const yb = tf.gather(yAll, idx) as tf.Tensor2D
          const b = batchGradients(net, xb, yb, dpNoise?.clipNorm)
          const denominator = dpNoise?.denominator ?? rows.length
          const grads = interleaveGrads(b).map((gs, i) => {
            let g = dpNoise === undefined ? gs : addGaussianNoise(gs, dpNoise.sigma, rng)
            g = tf.div(g, denominator)
            if (cfg.l2 > 0 && i % 2 === 0) g = tf.add(g, tf.mul(vars[i]!, cfg.l2))
            if (cfg.proximalMu > 0) g = tf.add(g, tf.mul(tf.sub(vars[i]!, anchor[i]!), cfg.proximalMu))
            return g
          })
          opt.step(grads)
          lossSum += b.lossSum.dataSync()[0]!
          clipped += b.clipped.dataSync()[0]!
        })
        seen += rows.length
        steps++
      }
      if (cfg.dp.kind === 'record-level') {
        const { q, steps: total } = dpSgdSchedule({ n, batchSize: cfg.batchSize, epochs: cfg.epochs })
        const noise = {
          sigma: cfg.dp.noiseMultiplier * cfg.dp.clipNorm,
          denominator: q * n,
          clipNorm: cfg.dp.clipNorm
        }
        for (let s = 0; s < total; s++) {
          options.signal?.throwIfAborted()
          step(poissonSample(n, q, rng), noise)
        }
      } else {
        for (let e = 0; e < cfg.epochs; e++) {
          for (const rows of shuffledBatches(n, cfg.batchSize, rng)) {
            options.signal?.throwIfAborted()
            step(rows)
          }
        }
      }
      const local = spec.flatten(readParams(net))
      const delta = new Float64Array(local.length)
      for (let i = 0; i < delta.length; i++) {
        delta[i] = local[i]! - g0[i]!
        if (!Number.isFinite(delta[i]!)) {
          throw new TrainingDivergedError(
            `local training diverged after ${steps} steps (a non-finite parameter); lower the learning rate`
          )
        }
      }
      return finishUpdate(cfg, delta, n, steps, {
        loss: seen > 0 ? lossSum / seen : Number.NaN,
        clipped,
        started
      })
    } finally {
      opt.dispose()
      for (const a of anchor) a.dispose()
      disposeNet(net)
      xAll.dispose()
      yAll.dispose()
    }
  }

  function finishUpdate(
    cfg: ReturnType<typeof resolveFitConfig>,
    delta: Float64Array,
    n: number,
    steps: number,
    s: { loss: number; clipped: number; started: number }
  ): LocalUpdate {
    let vector = delta
    let updateClipped = 0
    const normBefore = l2(delta)
    if (cfg.dp.kind === 'update-level') {
      const c = makeClip({ norm: cfg.dp.clipNorm }).vector(delta)
      vector = c.vector
      updateClipped = c.clipped ? 1 : 0
    }
    const event = fitEvent(spec, cfg, n)
    const weight = cfg.weighting === 'samples' ? n : 1
    if (weight !== 1) vector = vector.map((v) => v * weight)
    const metrics: Metrics = {
      rows: n,
      steps,
      loss: s.loss,
      deltaNorm: normBefore,
      updateClipped,
      exampleClippedFraction:
        cfg.dp.kind === 'record-level' ? s.clipped / Math.max(1, steps * cfg.batchSize) : 0,
      ms: performance.now() - s.started
    }
    return Object.freeze({ vector, weight, event, metrics })
  }

  async function predict(
    global: NamedParams,
    data: LocalDataset,
    options: TrainOptions = {}
  ): Promise<Float64Array> {
    checkFeatures(data)
    await initTf()
    const net = createNet(layers, global)
    const { x } = float32Of(data)
    const out = new Float64Array(data.rows)
    try {
      for (let at = 0; at < data.rows; at += PREDICT_CHUNK) {
        options.signal?.throwIfAborted()
        const end = Math.min(data.rows, at + PREDICT_CHUNK)
        const z = tf.tidy(() =>
          logits(net, tf.tensor2d(x.subarray(at * d, end * d), [end - at, d])).dataSync()
        )
        for (let i = 0; i < z.length; i++) out[at + i] = 1 / (1 + Math.exp(-z[i]!))
      }
    } finally {
      disposeNet(net)
    }
    return out
  }

  async function evaluate(
    global: NamedParams,
    data: LocalDataset,
    options: TrainOptions = {}
  ): Promise<Metrics> {
    const y = requireBinaryLabels(data)
    const p = await predict(global, data, options)
    const positives = y.reduce((a, b) => a + b, 0)
    const both = positives > 0 && positives < y.length
    return {
      n: y.length,
      positives,
      accuracy: exactAccuracy(p, y),
      logloss: exactLogLoss(p, y),
      auc: both ? exactAuc(p, y) : Number.NaN,
      ks: both ? exactKs(p, y) : Number.NaN
    }
  }

  async function evaluationVector(
    global: NamedParams,
    data: LocalDataset,
    cfg: EvalConfig = {},
    options: TrainOptions = {}
  ): Promise<Float64Array> {
    const { bins, threshold } = resolveEvalConfig(cfg)
    const y = requireBinaryLabels(data)
    return binaryEvalVector(await predict(global, data, options), y, { bins, threshold })
  }

  return Object.freeze({ spec, fit, evaluate, evaluationVector, predict })
}

function interleave(net: DenseNet): tf.Variable[] {
  const out: tf.Variable[] = []
  for (let i = 0; i < net.kernels.length; i++) out.push(net.kernels[i]!, net.biases[i]!)
  return out
}

function interleaveGrads(b: { kernelGrads: tf.Tensor[]; biasGrads: tf.Tensor[] }): tf.Tensor[] {
  const out: tf.Tensor[] = []
  for (let i = 0; i < b.kernelGrads.length; i++) out.push(b.kernelGrads[i]!, b.biasGrads[i]!)
  return out
}

function l2(v: Float64Array): number {
  let s = 0
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!
  return Math.sqrt(s)
}
