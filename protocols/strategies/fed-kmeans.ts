import { sampleStandardNormal } from '../../crypto/dp/mechanisms/gaussian.ts'
import { createRandomSource } from '../../crypto/dp/random.ts'
import type { RandomSource } from '../../crypto/dp/random.ts'
import { kmeansEvalLength, kmeansMetricsFromVector } from '../evaluation/kmeans-metrics.ts'
import { quantisedSensitivity } from '../training/dp-plan.ts'
import { TrainingConfigError } from '../training/errors.ts'
import { resolveEvalConfig, resolveFitConfig } from '../training/instructions.ts'
import type { FitConfig } from '../training/instructions.ts'
import { kmeansRowSensitivity, kmeansStatsOf, sseScale } from '../training/kmeans-stats.ts'
import { kmeansSpec } from '../training/model-spec.ts'
import type { ModelSpec, NamedParams } from '../training/model-spec.ts'
import { AggregateMismatchError } from './errors.ts'
import { checkAggregate, selectParticipants } from './strategy.ts'
import type { Metrics, Selection, Strategy } from './strategy.ts'

/**
 * Options of {@link createFedKMeans}.
 * @example
 * createFedKMeans({ spec: kmeansSpec({ k: 4, features: 26, candidates: 8 }) })
 */
export interface FedKMeansInit {
  spec: ModelSpec<NamedParams>
  /** Only `dp` matters (row clipping / update-level noise); the rest is ignored by the k-means trainer. */
  fit?: FitConfig
  selection?: Selection
  /**
   * A cluster whose aggregated count is at most this is empty and re-seeded.
   * @default 0.5 without DP; 1 + 3 × the count's noise standard deviation with update-level DP
   */
  emptyThreshold?: number
  /** Randomness of re-seeding and participant sampling. @default createRandomSource() */
  rng?: RandomSource
}

const DEFAULT_FIT: FitConfig = { epochs: 1, batchSize: 1, learningRate: 1 }

/**
 * Federated Lloyd iterations on securely summed sufficient statistics (protocols/training/
 * kmeans-stats.ts): each round every node assigns its rows to the nearest global centroid and
 * releases per-cluster sums, counts and squared errors; the new centroid is Σ sums / Σ counts.
 * With R candidates (kmeansSpec `candidates`) R initialisations run side by side and the metrics
 * name the one of lowest inertia (`best`); {@link finalizeKMeans} keeps it.
 *
 * Empty clusters (aggregated count <= `emptyThreshold`) are re-seeded, as scikit-learn relocates
 * them, but without looking at any row: the new centroid is the cluster of largest squared error
 * (known from the aggregate) plus Gaussian noise of that cluster's per-coordinate spread, i.e. the
 * widest cluster is split. Without squared-error information (all zero) it is drawn from the
 * initial distribution N(0, initScale^2). With update-level DP, centroids are also projected onto
 * the ball of radius clipNorm that holds every clipped row (post-processing; keeps noisy centroids
 * of small clusters from flying off).
 *
 * @example
 * const s = createFedKMeans({ spec })
 * const { global, metrics } = s.aggregateFit(round, agg, global) // metrics.inertia, metrics.best
 */
export function createFedKMeans(init: FedKMeansInit): Strategy<NamedParams> {
  const { spec } = init
  const stats = kmeansStatsOf(spec)
  const { k, features: d, candidates: R } = stats
  const fit = resolveFitConfig(init.fit ?? DEFAULT_FIT)
  if (fit.dp.kind === 'record-level')
    throw new TrainingConfigError('k-means supports update-level DP (row clipping), not DP-SGD')
  const dp = fit.dp.kind === 'update-level' ? fit.dp : undefined
  const scale = sseScale(dp?.clipNorm)
  const threshold =
    init.emptyThreshold ??
    (dp === undefined
      ? 0.5
      : 1 +
        (3 *
          dp.noiseMultiplier *
          quantisedSensitivity({
            realSensitivity: kmeansRowSensitivity(dp.clipNorm, R),
            scale: dp.scale,
            dimension: stats.length
          })) /
          dp.scale)
  const initScale = spec.descriptor.kind === 'kmeans' ? (spec.descriptor.initScale ?? 1) : 1
  const evaluate = resolveEvalConfig()
  const evalLength = R * kmeansEvalLength(k)
  const selection = init.selection ?? {}
  let rng = init.rng
  const random = () => {
    rng ??= createRandomSource()
    return rng
  }

  function reseed(
    next: Float64Array,
    base: number,
    j: number,
    sse: Float64Array,
    counts: Float64Array
  ): void {
    let m = -1
    for (let c = 0; c < k; c++) if (counts[c]! > threshold && (m < 0 || sse[c]! > sse[m]!)) m = c
    const r = random()
    if (m >= 0 && sse[m]! > 0) {
      const spread = Math.sqrt(sse[m]! / counts[m]! / d)
      for (let f = 0; f < d; f++)
        next[(base + j) * d + f] = next[(base + m) * d + f]! + spread * sampleStandardNormal(r)
    } else {
      for (let f = 0; f < d; f++) next[(base + j) * d + f] = initScale * sampleStandardNormal(r)
    }
  }

  return Object.freeze({
    name: 'fed-kmeans',
    fitLength: stats.length,
    evalLength,
    configureFit(round: number, _global: NamedParams, fleet) {
      return selectParticipants(fleet, selection, random()).map((peer) => ({ peer, round, config: fit }))
    },
    aggregateFit(_round: number, agg, global: NamedParams) {
      checkAggregate(agg, stats.length)
      const old = spec.flatten(global)
      const next = old.slice()
      const metrics: Metrics = { participants: agg.participants.length }
      let best = 0
      let bestInertia = Number.POSITIVE_INFINITY
      let empty = 0
      let moved = 0
      for (let r = 0; r < R; r++) {
        const o = stats.offsets(r)
        const counts = agg.sum.subarray(o.counts, o.counts + k)
        const sse = agg.sum.slice(o.sse, o.sse + k).map((v) => v * scale)
        const base = r * k
        let inertia = 0
        const empties: number[] = []
        for (let j = 0; j < k; j++) {
          inertia += sse[j]!
          const n = counts[j]!
          if (!(n > threshold)) {
            empties.push(j)
            continue
          }
          for (let f = 0; f < d; f++) next[(base + j) * d + f] = agg.sum[o.sums + j * d + f]! / n
          if (dp !== undefined) projectToBall(next, (base + j) * d, d, dp.clipNorm)
        }
        for (const j of empties) reseed(next, base, j, sse, counts)
        empty += empties.length
        for (let j = 0; j < k; j++) {
          let s = 0
          for (let f = 0; f < d; f++) {
            const t = next[(base + j) * d + f]! - old[(base + j) * d + f]!
            s += t * t
          }
          moved = Math.max(moved, Math.sqrt(s))
        }
        metrics[`inertia${r}`] = inertia
        if (inertia < bestInertia) {
          bestInertia = inertia
          best = r
        }
      }
      Object.assign(metrics, {
        inertia: bestInertia,
        best,
        empty,
        moved,
        rows: sumOf(agg.sum, stats.offsets(best).counts, k)
      })
      return { global: spec.unflatten(next), metrics }
    },
    configureEvaluate(round: number, _global: NamedParams, fleet) {
      return selectParticipants(fleet, selection, random()).map((peer) => ({ peer, round, config: evaluate }))
    },
    aggregateEvaluate(_round: number, agg) {
      checkAggregate(agg, evalLength)
      const L = kmeansEvalLength(k)
      let best = 0
      const all = []
      for (let r = 0; r < R; r++) {
        all.push(kmeansMetricsFromVector(agg.sum.slice(r * L, (r + 1) * L), k))
        if (all[r]!.inertia < all[best]!.inertia) best = r
      }
      const out: Metrics = { ...all[best]!, best, participants: agg.participants.length }
      all.forEach((m, r) => {
        out[`inertia${r}`] = m.inertia
      })
      return out
    }
  } satisfies Strategy<NamedParams>)
}

function sumOf(v: Float64Array, from: number, n: number): number {
  let s = 0
  for (let i = from; i < from + n; i++) s += v[i]!
  return s
}

function projectToBall(v: Float64Array, at: number, d: number, radius: number): void {
  let s = 0
  for (let f = 0; f < d; f++) s += v[at + f]! * v[at + f]!
  const norm = Math.sqrt(s)
  if (norm <= radius) return
  for (let f = 0; f < d; f++) v[at + f] = (v[at + f]! * radius) / norm
}

/**
 * The published model: candidate `candidate` (usually `metrics.best` of the last evaluation) as a
 * single-candidate k-means spec and its centroids.
 *
 * @example
 * const { spec: final, params } = finalizeKMeans(spec, global, metrics.best)
 */
export function finalizeKMeans(
  spec: ModelSpec<NamedParams>,
  global: NamedParams,
  candidate: number
): { spec: ModelSpec<NamedParams>; params: NamedParams } {
  const stats = kmeansStatsOf(spec)
  if (!(Number.isSafeInteger(candidate) && candidate >= 0 && candidate < stats.candidates)) {
    throw new AggregateMismatchError(`candidate must be in [0, ${stats.candidates}), got ${candidate}`)
  }
  const desc = spec.descriptor
  const initScale = desc.kind === 'kmeans' ? desc.initScale : undefined
  const one = kmeansSpec({
    k: stats.k,
    features: stats.features,
    candidates: 1,
    ...(initScale === undefined ? {} : { initScale })
  })
  const c = global.centroids!
  const size = stats.k * stats.features
  return {
    spec: one,
    params: Object.freeze({ centroids: c.slice(candidate * size, (candidate + 1) * size) })
  }
}
