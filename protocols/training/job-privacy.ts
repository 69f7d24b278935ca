import { createRdpAccountant } from '../../crypto/dp/accountants/rdp.ts'
import { distributedDiscreteGaussianEvent } from '../../crypto/dp/events.ts'
import type { DpEvent } from '../../crypto/dp/events.ts'
import { fitEvent, quantisedSensitivity } from './dp-plan.ts'
import { TrainingConfigError } from './errors.ts'
import { statsLength, statsSensitivity } from './feature-stats.ts'
import type { StatsColumn } from './feature-stats.ts'
import type { DpConfig, FitConfig } from './instructions.ts'
import { kmeansCandidates, trainingSettings } from './job-summary.ts'
import type { JobSummary } from './job-summary.ts'
import { modelSpec } from './model-spec.ts'
import type { ModelDescriptor, ModelSpec, NamedParams } from './model-spec.ts'
import { jobQuant } from './quantisation.ts'

/**
 * The privacy plan of a whole job, computed the same way by the coordinator (which needs the common
 * noise multiplier of update-level DP) and by every node (which checks the job against its ε cap,
 * calibrates its own DP-SGD noise, and reserves each release in its ledger):
 *
 *   job event = statistics release ∘ rounds × one round's fit
 *
 * - statistics (only with DP): the distributed discrete Gaussian over the quantised stats vector,
 *   sigma_total = statistics.noiseMultiplier × its quantised sensitivity, summed over at least
 *   minParticipants parties;
 * - record-level: each node's fit is DP-SGD on its own rows; its noise multiplier z is the smallest
 *   for which the job event meets the target ε at δ (its n fixes the sampling rate, so z differs
 *   between nodes), or the job's explicit z;
 * - update-level: the distributed discrete Gaussian on the clipped update; z is common to all nodes
 *   (every share must have the same variance) and depends on no node's data, so the coordinator and
 *   the nodes compute the same value.
 * Evaluation vectors are computed on the held-out test rows, never on training rows, and are released
 * through secure aggregation without noise: the training budget does not cover them (README.md).
 */

/**
 * A job's privacy plan for one node.
 * @example
 * const plan = planJobPrivacy(summary, { columns, features: 26, rows: 2248, delta: 1e-5 })
 */
export interface PrivacyPlan {
  /** null when the job has no DP. */
  readonly noiseMultiplier: number | null
  /** Total ε of the job at `delta` (Infinity without DP). */
  readonly epsilon: number
  readonly delta: number
  /** The statistics release's event (null without DP: the release is not private). */
  readonly statsEvent: DpEvent | null
  /** sigma_total of the statistics noise in ring units (0 without DP). */
  readonly statsSigma: number
  /** One round's fit event (null without DP). */
  readonly roundEvent: DpEvent | null
}

/**
 * The model descriptor of a job with `features` inputs.
 * @example
 * jobModelDescriptor(summary, 26) // { kind: 'logreg', features: 26 }
 */
export function jobModelDescriptor(s: Pick<JobSummary, 'model' | 'dp'>, features: number): ModelDescriptor {
  const m = s.model
  if (m.kind === 'logreg') return { kind: 'logreg', features }
  if (m.kind === 'mlp') return { kind: 'mlp', features, hidden: m.hidden ?? [32] }
  if (m.k === undefined) throw new TrainingConfigError('a k-means job needs k')
  const d: ModelDescriptor = { kind: 'kmeans', features, k: m.k, candidates: kmeansCandidates(s) }
  return m.initScale === undefined ? d : { ...d, initScale: m.initScale }
}

/**
 * The statistics release's event and noise (null / 0 without DP).
 *
 * @throws TrainingConfigError when a numeric column has no range under DP
 * @example
 * const { event, sigma } = statsNoise(summary, columns)
 */
export function statsNoise(
  s: JobSummary,
  columns: readonly StatsColumn[]
): { event: DpEvent | null; sigma: number; sensitivity: number } {
  if (s.dp === null) return { event: null, sigma: 0, sensitivity: 0 }
  const dimension = statsLength(columns)
  const sensitivity = quantisedSensitivity({
    realSensitivity: statsSensitivity(columns, s.statistics.ranges),
    scale: jobQuant('stats', s).scale,
    dimension
  })
  const sigma = s.statistics.noiseMultiplier * sensitivity
  const event = distributedDiscreteGaussianEvent({
    sigma,
    sensitivity,
    dimension,
    parties: s.minParticipants
  })
  return { event, sigma, sensitivity }
}

/**
 * A node's local-training configuration for a job: the summary's settings and the node's DP.
 *
 * @example
 * const cfg = fitConfigFor(summary, plan.noiseMultiplier)
 */
export function fitConfigFor(s: JobSummary, noiseMultiplier: number | null): FitConfig {
  const t = trainingSettings(s)
  const dp = dpConfigFor(s, noiseMultiplier)
  if (s.model.kind === 'kmeans') return { epochs: 1, batchSize: 1, learningRate: 1, dp }
  const cfg: FitConfig = { epochs: t.localEpochs, batchSize: t.batchSize, learningRate: t.learningRate, dp }
  return { ...cfg, ...(t.l2 > 0 ? { l2: t.l2 } : {}), ...(t.mu > 0 ? { proximalMu: t.mu } : {}) }
}

function dpConfigFor(s: JobSummary, z: number | null): DpConfig {
  if (s.dp === null) return { kind: 'none' }
  if (z === null) throw new TrainingConfigError('a DP job needs a noise multiplier')
  if (s.dp.mode === 'record') {
    if (s.model.kind === 'kmeans')
      throw new TrainingConfigError('k-means supports update-level DP (dp.mode: update), not record-level')
    return { kind: 'record-level', clipNorm: s.dp.clipNorm, noiseMultiplier: z }
  }
  return {
    kind: 'update-level',
    clipNorm: s.dp.clipNorm,
    noiseMultiplier: z,
    minParticipants: s.minParticipants,
    scale: jobQuant('fit', s).scale
  }
}

const Z_MIN = 1e-3
const Z_MAX = 1e5

/**
 * The job's privacy plan for a node with `rows` training rows (any value for update-level DP, whose
 * plan does not depend on it).
 *
 * @throws TrainingConfigError when no noise multiplier up to 1e5 meets the target ε
 * @example
 * planJobPrivacy(summary, { columns, features: 26, rows: 2248, delta: 1e-5 }).epsilon // <= 1
 */
export function planJobPrivacy(
  s: JobSummary,
  p: { columns: readonly StatsColumn[]; features: number; rows: number; delta: number }
): PrivacyPlan {
  const dp = s.dp
  const stats = statsNoise(s, p.columns)
  if (dp === null) {
    return {
      noiseMultiplier: null,
      epsilon: Number.POSITIVE_INFINITY,
      delta: p.delta,
      statsEvent: null,
      statsSigma: 0,
      roundEvent: null
    }
  }
  const spec = modelSpec(jobModelDescriptor(s, p.features))
  const rows = Math.max(1, p.rows)
  const roundEvent = (z: number) => fitEvent(spec, fitConfigFor(s, z), rows)
  const epsilonOf = (z: number) =>
    createRdpAccountant().compose(stats.event!).compose(roundEvent(z), s.model.rounds).epsilon(p.delta)
  let z = dp.noiseMultiplier
  if (z === undefined) z = calibrateZ(epsilonOf, dp.epsilon!)
  return {
    noiseMultiplier: z,
    epsilon: epsilonOf(z),
    delta: p.delta,
    statsEvent: stats.event,
    statsSigma: stats.sigma,
    roundEvent: roundEvent(z)
  }
}

/** Smallest z (to 1e-4 relative, rounded up) with epsilonOf(z) <= target; epsilonOf decreases in z. */
function calibrateZ(epsilonOf: (z: number) => number, target: number): number {
  let hi = 1
  while (epsilonOf(hi) > target) {
    hi *= 2
    if (hi > Z_MAX) throw new TrainingConfigError(`no noise multiplier up to ${Z_MAX} reaches ε = ${target}`)
  }
  let lo = Z_MIN
  if (epsilonOf(lo) <= target) return lo
  while (hi - lo > 1e-4 * hi) {
    const mid = (lo + hi) / 2
    if (epsilonOf(mid) <= target) hi = mid
    else lo = mid
  }
  return hi
}

/**
 * The spec of a job's model.
 * @example
 * jobModelSpec(summary, 26).layout.length // 27
 */
export function jobModelSpec(s: Pick<JobSummary, 'model' | 'dp'>, features: number): ModelSpec<NamedParams> {
  return modelSpec(jobModelDescriptor(s, features))
}
