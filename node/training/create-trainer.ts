import type { ModelSpec, NamedParams } from '../../protocols/training/model-spec.ts'
import { createDenseTrainer } from './dense-trainer.ts'
import type { DenseTrainerInit } from './dense-trainer.ts'
import { createKMeansTrainer } from './kmeans-trainer.ts'
import type { Trainer } from './trainer.ts'

/**
 * The trainer of a model spec (what a node does with an instruction's model descriptor).
 *
 * @example
 * const trainer = createTrainer(modelSpec(instruction.model))
 */
export function createTrainer(
  spec: ModelSpec<NamedParams>,
  init: DenseTrainerInit = {}
): Trainer<NamedParams> {
  return spec.kind === 'kmeans' ? createKMeansTrainer(spec) : createDenseTrainer(spec, init)
}
