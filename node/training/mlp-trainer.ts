import { TrainingConfigError } from '../../protocols/training/errors.ts'
import { mlpSpec } from '../../protocols/training/model-spec.ts'
import type { ModelSpec, NamedParams } from '../../protocols/training/model-spec.ts'
import { createDenseTrainer } from './dense-trainer.ts'
import type { DenseTrainerInit } from './dense-trainer.ts'
import type { Trainer } from './trainer.ts'

/**
 * A ReLU MLP binary classifier (any number of hidden layers) on tfjs. DP-SGD's per-example clipping
 * uses the batched outer-product-norm identity of dense-net.ts instead of one tf.grad per example
 * (bench/train-local.ts measures both).
 *
 * @example
 * const trainer = createMlpTrainer({ features: 119, hidden: [32] })
 */
export function createMlpTrainer(
  model: { features: number; hidden: readonly number[] } | ModelSpec<NamedParams>,
  init: DenseTrainerInit = {}
): Trainer<NamedParams> {
  const spec = 'layout' in model ? model : mlpSpec(model)
  if (spec.kind !== 'mlp') throw new TrainingConfigError(`expected an mlp model, got ${spec.kind}`)
  return createDenseTrainer(spec, init)
}
