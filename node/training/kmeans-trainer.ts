import { makeClip } from '../../crypto/dp/mechanisms/clip.ts'
import {
  kmeansEvalLength,
  kmeansEvalVector,
  kmeansMetricsFromVector,
  nearestCentroid
} from '../../protocols/evaluation/kmeans-metrics.ts'
import { fitEvent } from '../../protocols/training/dp-plan.ts'
import { TrainingConfigError } from '../../protocols/training/errors.ts'
import { resolveFitConfig } from '../../protocols/training/instructions.ts'
import type { EvalConfig, FitConfig } from '../../protocols/training/instructions.ts'
import { kmeansStatsOf, sseScale } from '../../protocols/training/kmeans-stats.ts'
import { kmeansSpec } from '../../protocols/training/model-spec.ts'
import type { ModelSpec, NamedParams } from '../../protocols/training/model-spec.ts'
import { TrainingDataError } from './errors.ts'
import type { LocalDataset } from './matrix.ts'
import type { LocalUpdate, Metrics, Trainer, TrainOptions } from './trainer.ts'

/**
 * The k-means local step: one Lloyd assignment of the node's rows to the global centroids, released
 * as sufficient statistics (protocols/training/kmeans-stats.ts) — never centroids of its own, never
 * a row. Plain Float64 JavaScript: the work is n·R·k·d multiply-adds, a few milliseconds for the
 * datasets here, so tfjs would add only overhead.
 *
 * Update-level DP: every row is first clipped to L2 norm `clipNorm` (the contribution bound the
 * noise needs), sse entries are divided by 4·clipNorm^2 and capped at 1, and the weight is 1; the
 * event is the distributed discrete Gaussian over the summand [stats ‖ 1] with sensitivity
 * sqrt(R·(C^2 + 2)) per row (record-level privacy: one row moves one cluster of every candidate).
 *
 * @example
 * const trainer = createKMeansTrainer({ k: 4, features: 26, candidates: 8 })
 * const update = await trainer.fit(global, train, { epochs: 1, batchSize: 1, learningRate: 1 })
 */
export function createKMeansTrainer(
  model: { k: number; features: number; candidates?: number } | ModelSpec<NamedParams>
): Trainer<NamedParams> {
  const spec = 'layout' in model ? model : kmeansSpec(model)
  const stats = kmeansStatsOf(spec)
  const { k, features: d, candidates: R } = stats
  const check = (data: LocalDataset) => {
    if (data.features !== d)
      throw new TrainingDataError(`the model takes ${d} features, the data has ${data.features}`)
  }
  const centroidsOf = (p: NamedParams) => spec.flatten(p)

  async function fit(
    global: NamedParams,
    data: LocalDataset,
    cfgIn: FitConfig,
    options: TrainOptions = {}
  ): Promise<LocalUpdate> {
    const started = performance.now()
    const cfg = resolveFitConfig(cfgIn)
    check(data)
    if (cfg.dp.kind === 'record-level')
      throw new TrainingConfigError('k-means supports update-level DP (row clipping), not DP-SGD')
    const dp = cfg.dp.kind === 'update-level' ? cfg.dp : undefined
    const n = data.rows
    const x =
      dp === undefined ? data.x : makeClip({ norm: dp.clipNorm }).rows(data.x, { rows: n, cols: d }).matrix
    const scale = sseScale(dp?.clipNorm)
    const c = centroidsOf(global)
    const out = new Float64Array(stats.length)
    const inertia = new Float64Array(R)
    for (let r = 0; r < R; r++) {
      options.signal?.throwIfAborted()
      const o = stats.offsets(r)
      for (let row = 0; row < n; row++) {
        const { index, dist2 } = nearestCentroid(x, row, d, c, r * k, k)
        inertia[r]! += dist2
        const s = o.sums + index * d
        for (let f = 0; f < d; f++) out[s + f]! += x[row * d + f]!
        out[o.counts + index]!++
        out[o.sse + index]! += dp === undefined ? dist2 : Math.min(1, dist2 / scale)
      }
    }
    const event = fitEvent(spec, cfg, n)
    const metrics: Metrics = { rows: n, inertia: Math.min(...inertia), ms: performance.now() - started }
    return Object.freeze({ vector: out, weight: dp === undefined ? n : 1, event, metrics })
  }

  async function evaluationVector(
    global: NamedParams,
    data: LocalDataset,
    _cfg?: EvalConfig
  ): Promise<Float64Array> {
    check(data)
    const c = centroidsOf(global)
    const L = kmeansEvalLength(k)
    const out = new Float64Array(R * L)
    for (let r = 0; r < R; r++)
      out.set(kmeansEvalVector(data.x, d, c.subarray(r * k * d, (r + 1) * k * d), k), r * L)
    return out
  }

  async function evaluate(global: NamedParams, data: LocalDataset): Promise<Metrics> {
    const v = await evaluationVector(global, data)
    const L = kmeansEvalLength(k)
    let best = 0
    const all = Array.from({ length: R }, (_, r) => kmeansMetricsFromVector(v.slice(r * L, (r + 1) * L), k))
    all.forEach((m, r) => {
      if (m.inertia < all[best]!.inertia) best = r
    })
    const out: Metrics = { ...all[best]!, best }
    all.forEach((m, r) => {
      out[`inertia${r}`] = m.inertia
    })
    return out
  }

  async function predict(global: NamedParams, data: LocalDataset): Promise<Float64Array> {
    check(data)
    if (R !== 1)
      throw new TrainingConfigError('predict needs a single-candidate model: finalizeKMeans() first')
    const c = centroidsOf(global)
    const out = new Float64Array(data.rows)
    for (let row = 0; row < data.rows; row++) out[row] = nearestCentroid(data.x, row, d, c, 0, k).index
    return out
  }

  return Object.freeze({ spec, fit, evaluate, evaluationVector, predict })
}
