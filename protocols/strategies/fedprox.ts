import { TrainingConfigError } from '../training/errors.ts'
import { createFedAvg } from './fedavg.ts'
import type { FedAvgInit } from './fedavg.ts'
import type { Strategy } from './strategy.ts'
import type { NamedParams } from '../training/model-spec.ts'

/**
 * Options of {@link createFedProx}: FedAvg's plus the proximal weight μ.
 * @example
 * createFedProx({ spec, fit, mu: 0.01 })
 */
export interface FedProxInit extends FedAvgInit {
  /** μ > 0 of the proximal term (μ/2)·||w − w_global||^2. */
  mu: number
}

/**
 * FedProx (Li et al. 2020, "Federated Optimization in Heterogeneous Networks", Alg. 2). The server
 * side is FedAvg's weighted mean of the updates; the difference is on the nodes: each minimises its
 * loss plus (μ/2)·||w − w_global||^2, which keeps local models near the global one when data are
 * heterogeneous. So this strategy is FedAvg with `proximalMu = μ` in every fit instruction.
 *
 * @example
 * const s = createFedProx({ spec, fit: { epochs: 5, batchSize: 32, learningRate: 0.1 }, mu: 0.01 })
 */
export function createFedProx(init: FedProxInit): Strategy<NamedParams> {
  if (!(Number.isFinite(init.mu) && init.mu > 0))
    throw new TrainingConfigError(`FedProx needs mu > 0, got ${init.mu}`)
  return createFedAvg({ ...init, fit: { ...init.fit, proximalMu: init.mu }, name: init.name ?? 'fedprox' })
}
