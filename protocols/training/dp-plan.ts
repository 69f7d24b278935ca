import { calibrate, dpSgdEpsilon } from '../../crypto/dp/accountants/calibrate.ts'
import {
  distributedDiscreteGaussianEvent,
  gaussianEvent,
  NON_PRIVATE_EVENT,
  poissonSampledEvent,
  selfComposedEvent
} from '../../crypto/dp/events.ts'
import type { DpEvent } from '../../crypto/dp/events.ts'
import { TrainingConfigError } from './errors.ts'
import { resolveFitConfig } from './instructions.ts'
import type { DpConfig, FitConfig } from './instructions.ts'
import { kmeansRowSensitivity, kmeansStatsOf } from './kmeans-stats.ts'
import type { ModelSpec, NamedParams } from './model-spec.ts'

/**
 * Privacy planning shared by trainers (which return the event of what they did), nodes (which reserve
 * it in their ledger before releasing) and the coordinator (which reports it): one function per
 * question, so every side computes the same event from the same instruction.
 */

/**
 * Sampling rate and steps of one round of DP-SGD on `n` rows: q = min(1, batchSize / n) and
 * steps = epochs · ceil(n / batchSize), i.e. about epochs / q steps, each touching q·n rows in
 * expectation (the usual "epoch" of Poisson-sampled DP-SGD).
 *
 * @example
 * dpSgdSchedule({ n: 2248, batchSize: 64, epochs: 1 }) // { q: 0.02847, steps: 36 }
 */
export function dpSgdSchedule(p: { n: number; batchSize: number; epochs: number }): {
  q: number
  steps: number
} {
  const { n, batchSize, epochs } = p
  if (!(Number.isSafeInteger(n) && n >= 1))
    throw new TrainingConfigError(`n must be an integer >= 1, got ${n}`)
  if (!(Number.isSafeInteger(batchSize) && batchSize >= 1))
    throw new TrainingConfigError('batchSize must be >= 1')
  if (!(Number.isSafeInteger(epochs) && epochs >= 1)) throw new TrainingConfigError('epochs must be >= 1')
  return { q: Math.min(1, batchSize / n), steps: epochs * Math.ceil(n / batchSize) }
}

/**
 * The event of `steps` DP-SGD steps: self-composed(poisson-sampled(q, gaussian(z)), steps).
 *
 * @example
 * recordLevelEvent({ q: 0.03, noiseMultiplier: 1.2, steps: 36 })
 */
export function recordLevelEvent(p: { q: number; noiseMultiplier: number; steps: number }): DpEvent {
  return selfComposedEvent(poissonSampledEvent(p.q, gaussianEvent(p.noiseMultiplier)), p.steps)
}

/**
 * A node's DP-SGD plan for a whole job: the smallest noise multiplier whose RDP epsilon after
 * `rounds` rounds of {@link dpSgdSchedule} steps is at most `epsilon` at `delta` (crypto/dp
 * calibrate). Each node calibrates on its own n: q differs between nodes, and so does z.
 *
 * @example
 * planRecordLevel({ epsilon: 1, delta: 1e-5, n: 2248, batchSize: 64, epochs: 1, rounds: 20 })
 * // { q, stepsPerRound, noiseMultiplier, epsilon <= 1 }
 */
export function planRecordLevel(p: {
  epsilon: number
  delta: number
  n: number
  batchSize: number
  epochs: number
  rounds: number
}): { q: number; stepsPerRound: number; noiseMultiplier: number; epsilon: number } {
  if (!(Number.isSafeInteger(p.rounds) && p.rounds >= 1)) throw new TrainingConfigError('rounds must be >= 1')
  const { q, steps } = dpSgdSchedule(p)
  const c = calibrate({ epsilon: p.epsilon, delta: p.delta, q, steps: steps * p.rounds })
  return { q, stepsPerRound: steps, noiseMultiplier: c.noiseMultiplier, epsilon: c.epsilon }
}

/**
 * epsilon at `delta` after `rounds` rounds of DP-SGD with a given noise multiplier.
 *
 * @example
 * recordLevelEpsilon({ delta: 1e-5, n: 2248, batchSize: 64, epochs: 1, rounds: 20, noiseMultiplier: 2 })
 */
export function recordLevelEpsilon(p: {
  delta: number
  n: number
  batchSize: number
  epochs: number
  rounds: number
  noiseMultiplier: number
}): number {
  const { q, steps } = dpSgdSchedule(p)
  return dpSgdEpsilon({ q, noiseMultiplier: p.noiseMultiplier, steps: steps * p.rounds, delta: p.delta })
    .epsilon
}

/**
 * L2 sensitivity, in ring units, of a released vector whose real-valued L2 sensitivity is
 * `realSensitivity`, after fixed-point quantisation with `scale` and round-to-nearest: scaling
 * multiplies it by `scale`, and rounding moves each of the `dimension` coordinates by at most 1/2,
 * so by the triangle inequality the bound is realSensitivity·scale + sqrt(dimension)/2 (a coarse but
 * valid bound; KLS21's conditional randomised rounding would tighten it).
 *
 * @example
 * quantisedSensitivity({ realSensitivity: 1, scale: 2 ** 16, dimension: 27 }) // 65538.6
 */
export function quantisedSensitivity(p: {
  realSensitivity: number
  scale: number
  dimension: number
}): number {
  return p.realSensitivity * p.scale + Math.sqrt(p.dimension) / 2
}

/**
 * The event of an update-level release: the distributed discrete Gaussian the runner adds after
 * quantisation, with sigma_total = noiseMultiplier × the quantised sensitivity. The runner builds
 * its noise mechanism (`makeDistributedDiscreteGaussian`) from the same numbers.
 *
 * @example
 * updateLevelEvent(dp, { realSensitivity: dp.clipNorm, dimension: 27 })
 */
export function updateLevelEvent(
  dp: Extract<DpConfig, { kind: 'update-level' }>,
  p: { realSensitivity: number; dimension: number }
): DpEvent {
  const sensitivity = quantisedSensitivity({
    realSensitivity: p.realSensitivity,
    scale: dp.scale,
    dimension: p.dimension
  })
  return distributedDiscreteGaussianEvent({
    sigma: dp.noiseMultiplier * sensitivity,
    sensitivity,
    dimension: p.dimension,
    parties: dp.minParticipants
  })
}

/**
 * The event of a release without DP.
 * @example
 * nonPrivateEvent() // { kind: 'non-private' }
 */
export function nonPrivateEvent(): DpEvent {
  return NON_PRIVATE_EVENT
}

/**
 * The event a trainer's fit on `n` rows will return, known before training: a node reserves it in
 * its ledger first and trains only if the reservation succeeds (the trainers build their event with
 * this function, so the two cannot differ).
 * - no DP: `non-private`;
 * - record-level (logreg / mlp): {@link recordLevelEvent} of {@link dpSgdSchedule};
 * - update-level: the distributed discrete Gaussian over the summand [vector ‖ weight]
 *   (dimension = layout length + 1) with real sensitivity 2·C for logreg / mlp (a changed record can
 *   move the clipped Δ anywhere in the ball of radius C) and sqrt(R·(C^2 + 2)) for k-means (one row,
 *   clipped to C, in one cluster of each of R candidates).
 *
 * @throws TrainingConfigError for record-level DP on k-means
 * @example
 * await ledger.reserve(scope, fitEvent(spec, instruction.config, train.rows))
 */
export function fitEvent(spec: ModelSpec<NamedParams>, cfg: FitConfig, n: number): DpEvent {
  const c = resolveFitConfig(cfg)
  const dp = c.dp
  if (dp.kind === 'none') return nonPrivateEvent()
  if (spec.kind === 'kmeans') {
    if (dp.kind === 'record-level')
      throw new TrainingConfigError('k-means supports update-level DP (row clipping), not DP-SGD')
    const stats = kmeansStatsOf(spec)
    return updateLevelEvent(dp, {
      realSensitivity: kmeansRowSensitivity(dp.clipNorm, stats.candidates),
      dimension: stats.length + 1
    })
  }
  if (dp.kind === 'record-level') {
    const { q, steps } = dpSgdSchedule({ n, batchSize: c.batchSize, epochs: c.epochs })
    return recordLevelEvent({ q, noiseMultiplier: dp.noiseMultiplier, steps })
  }
  return updateLevelEvent(dp, { realSensitivity: 2 * dp.clipNorm, dimension: spec.layout.length + 1 })
}
