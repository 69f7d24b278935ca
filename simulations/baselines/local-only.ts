import { createDenseTrainer } from '../../node/training/dense-trainer.ts'
import type { LocalDataset } from '../../node/training/matrix.ts'
import type { Metrics } from '../../node/training/trainer.ts'
import { modelSpec } from '../../protocols/training/model-spec.ts'
import { trainClassifier } from './centralized.ts'
import type { ClassifierOptions } from './centralized.ts'
import type { SimParty } from './in-process.ts'

/**
 * Local-only baselines: each party trains on its own training rows with the same trainer and
 * settings as the centralized baseline, and is scored on the common test set (what baselines.json
 * `local_only` reports) and on its own test rows.
 *
 * @example
 * const rows = await localOnlyClassifiers(ds.parties('horizontal_natural'), ds.test, { model })
 * rows.map((r) => r.test.auc) // credit_data natural: ~0.81, ~0.81, ~0.69
 */
export async function localOnlyClassifiers(
  parties: readonly SimParty[],
  commonTest: LocalDataset,
  o: ClassifierOptions
): Promise<Array<{ party: string; nTrain: number; test: Metrics; ownTest: Metrics }>> {
  const trainer = createDenseTrainer(modelSpec(o.model))
  const out = []
  for (const p of parties) {
    const r = await trainClassifier(p.train, commonTest, {
      ...o,
      seed: `${o.seed ?? 'cohort-baseline'}/${p.name}`
    })
    out.push({
      party: p.name,
      nTrain: p.train.rows,
      test: r.test,
      ownTest: await trainer.evaluate(r.params, p.test)
    })
  }
  return out
}
