import type { JobConfig } from '../../configs/job.ts'
import { createFedAvg } from '../../protocols/strategies/fedavg.ts'
import { createFedKMeans } from '../../protocols/strategies/fed-kmeans.ts'
import { createFedProx } from '../../protocols/strategies/fedprox.ts'
import type { Strategy } from '../../protocols/strategies/strategy.ts'
import type { FeaturePrep, StatsColumn } from '../../protocols/training/feature-stats.ts'
import { fitConfigFor, jobModelSpec, planJobPrivacy } from '../../protocols/training/job-privacy.ts'
import type { JobSummary } from '../../protocols/training/job-summary.ts'
import type { ModelSpec, NamedParams } from '../../protocols/training/model-spec.ts'
import { publicSeedSource, seedBytes } from '../../protocols/training/public-seed.ts'
import { quantFor } from '../../protocols/training/quantisation.ts'
import { bytesToF64, f64ToBytes } from '../../protocols/training/wire.ts'
import { JobUnsupportedError } from './errors.ts'
import type { JobRecord } from './types.ts'

/**
 * How the coordinator turns a job file into what the protocol needs: the per-node job summary, the
 * model spec, the strategy and the common noise multiplier of update-level DP.
 */

/**
 * The job summary offered to `org` (its data selection resolved).
 *
 * @example
 * const s = summaryFor(job.config, 'lender_a', 3)
 */
export function summaryFor(config: JobConfig, org: string, offered: number): JobSummary {
  const data = config.nodes[org] ?? config.data
  const m = config.model
  const model: JobSummary['model'] =
    m.kind === 'kmeans'
      ? {
          kind: 'kmeans',
          rounds: m.rounds,
          k: m.k,
          ...(m.candidates === undefined ? {} : { candidates: m.candidates }),
          ...(m.initScale === undefined ? {} : { initScale: m.initScale })
        }
      : {
          kind: m.kind,
          rounds: m.rounds,
          localEpochs: m.localEpochs,
          batchSize: m.batchSize,
          learningRate: m.learningRate,
          mu: m.mu,
          l2: m.l2,
          ...(m.kind === 'mlp' ? { hidden: m.hidden } : {})
        }
  const dp = config.dp === 'none' ? null : config.dp
  return {
    name: config.name,
    model,
    dataset: data.dataset,
    ...(data.features === undefined ? {} : { features: data.features }),
    secureAggregation: config.secureAggregation,
    ...(config.he === undefined ? {} : { he: { keyFingerprint: config.he.keyFingerprint } }),
    ringBits: config.secagg.ringBits,
    dp:
      dp === null
        ? null
        : {
            mode: dp.mode,
            delta: dp.delta,
            clipNorm: dp.clipNorm,
            ...(dp.epsilon === undefined ? {} : { epsilon: dp.epsilon }),
            ...(dp.noiseMultiplier === undefined ? {} : { noiseMultiplier: dp.noiseMultiplier })
          },
    minParticipants: config.minParticipants,
    statistics: { ranges: config.statistics.ranges, noiseMultiplier: config.statistics.noiseMultiplier },
    evaluation: { bins: config.evaluation.bins },
    offered
  }
}

/**
 * Refuses job settings this coordinator cannot run, before anything is offered.
 *
 * @throws JobUnsupportedError | TrainingConfigError
 * @example
 * checkRunnable(job.config)
 */
export function checkRunnable(config: JobConfig): void {
  if (config.secureAggregation === 'he') {
    if (config.he === undefined)
      throw new JobUnsupportedError(
        'secureAggregation "he" needs he.keyFingerprint: the key-holder\'s public-key fingerprint the nodes pin'
      )
  } else {
    quantFor('fit', config.secagg.ringBits)
    quantFor('stats', config.secagg.ringBits)
  }
  if (config.model.kind === 'kmeans' && config.dp !== 'none' && config.dp.mode === 'record')
    throw new JobUnsupportedError(
      'k-means supports update-level DP (dp.mode: update), not record-level DP-SGD'
    )
}

/**
 * What the quantisation of a job's sums depends on (protocols/training/quantisation.ts `jobQuant`).
 * @example
 * jobQuant('fit', quantJob(job.config))
 */
export function quantJob(config: JobConfig): { secureAggregation: string; ringBits: number } {
  return { secureAggregation: config.secureAggregation, ringBits: config.secagg.ringBits }
}

/**
 * The job's federated preprocessing statistics as the protocol carries them.
 * @example
 * const prep = prepOf(job) // { features, mean, std, impute }
 */
export function prepOf(job: JobRecord): FeaturePrep {
  const f = job.featureStats
  if (f === undefined) throw new JobUnsupportedError(`job ${job.id} has no feature statistics yet`)
  return { features: f.names, mean: f.mean, std: f.std, impute: f.impute ?? {} }
}

/**
 * Everything model-related of a job: spec, initial parameters, strategy and (update-level DP) the
 * common noise multiplier.
 *
 * @example
 * const { spec, strategy, init } = jobModel(job, summary, columns)
 */
export function jobModel(
  job: JobRecord,
  summary: JobSummary,
  columns: readonly StatsColumn[]
): {
  spec: ModelSpec<NamedParams>
  strategy: Strategy<NamedParams>
  init: () => NamedParams
  noiseMultiplier: number | null
} {
  const d = prepOf(job).features.length
  const spec = jobModelSpec(summary, d)
  // Update-level noise is common to all nodes and independent of their data: plan it here (the
  // nodes compute the same). Record-level noise is each node's own; the strategy only needs to know
  // that DP weighting (uniform) applies, so any positive multiplier stands in.
  let z: number | null = null
  if (summary.dp !== null) {
    z =
      summary.dp.mode === 'update'
        ? planJobPrivacy(summary, { columns, features: d, rows: 1, delta: summary.dp.delta }).noiseMultiplier
        : 1
  }
  const fit = fitConfigFor(summary, z)
  // A job file's seed makes the public initialisation (and k-means re-seeding) reproducible.
  const seed = job.config.seed === undefined ? `${job.id}/cohort` : `seed/${job.config.seed}`
  const rng = publicSeedSource(seedBytes(`${seed}/strategy`))
  let strategy: Strategy<NamedParams>
  if (spec.kind === 'kmeans') strategy = createFedKMeans({ spec, fit, rng })
  else {
    const evaluate = { bins: summary.evaluation.bins }
    const mu = summary.model.mu ?? 0
    strategy =
      mu > 0 ? createFedProx({ spec, fit, evaluate, rng, mu }) : createFedAvg({ spec, fit, evaluate, rng })
  }
  return {
    spec,
    strategy,
    init: () => spec.init(seedBytes(`${seed}/init`)),
    noiseMultiplier: summary.dp?.mode === 'update' ? z : null
  }
}

/**
 * base64 of a Float64Array's little-endian bytes, and back (JobRecord.global, ModelRecord.params).
 * @example
 * const b = toBase64F64(v); fromBase64F64(b) // v
 */
export function toBase64F64(v: Float64Array): string {
  return Buffer.from(f64ToBytes(v)).toString('base64')
}

/**
 * @see toBase64F64
 * @example
 * const v = fromBase64F64(job.global!)
 */
export function fromBase64F64(s: string): Float64Array {
  return bytesToF64(Buffer.from(s, 'base64'))
}
