import { TrainingConfigError } from '../../protocols/training/errors.ts'
import { logregSpec } from '../../protocols/training/model-spec.ts'
import type { ModelSpec, NamedParams } from '../../protocols/training/model-spec.ts'
import { createDenseTrainer } from './dense-trainer.ts'
import type { DenseTrainerInit } from './dense-trainer.ts'
import type { Trainer } from './trainer.ts'

/**
 * Logistic regression: the dense trainer without a hidden layer. Per-example gradients are then the
 * closed form (σ(w·x + b) − y)·[x, 1], which dense-net.ts computes batched (its norm is
 * |σ − y|·sqrt(||x||^2 + 1)), so DP-SGD costs about what plain SGD does.
 *
 * @example
 * const trainer = createLogRegTrainer({ features: 26 })
 * const update = await trainer.fit(trainer.spec.init(seed), train, { epochs: 1, batchSize: 64, learningRate: 0.5 })
 */
export function createLogRegTrainer(
  model: { features: number } | ModelSpec<NamedParams>,
  init: DenseTrainerInit = {}
): Trainer<NamedParams> {
  const spec = 'layout' in model ? model : logregSpec(model)
  if (spec.kind !== 'logreg') throw new TrainingConfigError(`expected a logreg model, got ${spec.kind}`)
  return createDenseTrainer(spec, init)
}
