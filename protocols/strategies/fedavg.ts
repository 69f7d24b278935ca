import { createRandomSource } from '../../crypto/dp/random.ts'
import type { RandomSource } from '../../crypto/dp/random.ts'
import { binaryEvalLength, binaryMetricsFromVector } from '../evaluation/binary-metrics.ts'
import { TrainingConfigError } from '../training/errors.ts'
import { resolveEvalConfig, resolveFitConfig } from '../training/instructions.ts'
import type { EvalConfig, FitConfig } from '../training/instructions.ts'
import type { ModelSpec, NamedParams } from '../training/model-spec.ts'
import { AggregateMismatchError } from './errors.ts'
import { checkAggregate, selectParticipants } from './strategy.ts'
import type { Metrics, Selection, Strategy } from './strategy.ts'

/**
 * Options of {@link createFedAvg}.
 * @example
 * createFedAvg({ spec, fit: { epochs: 1, batchSize: 64, learningRate: 0.1 } })
 */
export interface FedAvgInit {
  /** A logreg or mlp spec. */
  spec: ModelSpec<NamedParams>
  /** Sent unchanged to every selected node each round. */
  fit: FitConfig
  /** @default { bins: 1000, threshold: 0.5 } */
  evaluate?: EvalConfig
  /** Server step η: global += η · (Σ w_i Δ_i / Σ w_i). @default 1 */
  serverLearningRate?: number
  /** Which nodes train / evaluate each round. @default all available, at least 1 */
  selection?: Selection
  /** Randomness of participant sampling. @default createRandomSource() */
  rng?: RandomSource
  /** @default 'fedavg' */
  name?: string
}

/**
 * FedAvg (McMahan et al. 2017, Alg. 1) on model deltas: each node trains from the global model and
 * releases [w·Δ ‖ w] (Δ = local − global; w = its training-row count under 'samples' weighting,
 * 1 under 'uniform'); the new global model is global + η · Σ w·Δ / Σ w. With 'uniform' weighting the
 * divisor is the number of participants (public, and exact even when DP noise perturbs the summed
 * weight coordinate), i.e. DP-FedAvg's unweighted mean of clipped deltas (McMahan et al. 2018).
 *
 * @example
 * const fedavg = createFedAvg({ spec: logregSpec({ features: 26 }), fit })
 * const { global } = fedavg.aggregateFit(1, agg, previous)
 */
export function createFedAvg(init: FedAvgInit): Strategy<NamedParams> {
  const { spec } = init
  if (spec.kind === 'kmeans')
    throw new TrainingConfigError('FedAvg trains logreg or mlp models; use createFedKMeans')
  const fit = resolveFitConfig(init.fit)
  const evaluate = resolveEvalConfig(init.evaluate)
  const eta = init.serverLearningRate ?? 1
  if (!(Number.isFinite(eta) && eta > 0))
    throw new TrainingConfigError(`serverLearningRate must be > 0, got ${eta}`)
  const selection = init.selection ?? {}
  let rng = init.rng
  const random = () => {
    rng ??= createRandomSource()
    return rng
  }
  const length = spec.layout.length
  return Object.freeze({
    name: init.name ?? 'fedavg',
    fitLength: length,
    evalLength: binaryEvalLength(evaluate.bins),
    configureFit(round: number, _global: NamedParams, fleet) {
      return selectParticipants(fleet, selection, random()).map((peer) => ({ peer, round, config: fit }))
    },
    aggregateFit(_round: number, agg, global: NamedParams) {
      checkAggregate(agg, length)
      const divisor = fit.weighting === 'uniform' ? agg.participants.length : agg.weight
      if (!(divisor > 0)) throw new AggregateMismatchError(`the aggregate weight must be > 0, got ${divisor}`)
      const g = spec.flatten(global)
      let norm2 = 0
      for (let i = 0; i < length; i++) {
        const step = (eta * agg.sum[i]!) / divisor
        g[i] = g[i]! + step
        norm2 += step * step
      }
      const metrics: Metrics = {
        participants: agg.participants.length,
        weight: agg.weight,
        stepNorm: Math.sqrt(norm2)
      }
      return { global: spec.unflatten(g), metrics }
    },
    configureEvaluate(round: number, _global: NamedParams, fleet) {
      return selectParticipants(fleet, selection, random()).map((peer) => ({ peer, round, config: evaluate }))
    },
    aggregateEvaluate(_round: number, agg) {
      checkAggregate(agg, binaryEvalLength(evaluate.bins))
      return { ...binaryMetricsFromVector(agg.sum, evaluate.bins), participants: agg.participants.length }
    }
  } satisfies Strategy<NamedParams>)
}
