import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import type { NodeStore } from '../../platform/storage/db.ts'
import type { AbortOptions } from '../../protocols/transport.ts'
import { modelSpec } from '../../protocols/training/model-spec.ts'
import { bytesToF64 } from '../../protocols/training/wire.ts'
import { getManifest } from '../data/dataset-store.ts'
import { DatasetNotFoundError } from '../data/errors.ts'
import { createTrainer } from '../training/create-trainer.ts'
import { JobDataError } from './errors.ts'
import { loadScoringData } from './job-data.ts'
import { getNodeModel } from './model-store.ts'

/**
 * Local scoring with published models (`cohort score`): every row of a local dataset, preprocessed
 * with the model's federated statistics, gets a risk score (classifiers: the probability of the
 * positive class) and/or a segment (k-means: the nearest centroid). Nothing leaves the node.
 */

/**
 * Scores per row, in the dataset's row order.
 * @example
 * const r: ScoreResult = await scoreDataset(store, ['job-a', 'job-b'], 'credit_data')
 * r.columns.map((c) => c.name) // ['risk', 'segment']
 */
export interface ScoreResult {
  dataset: string
  ids: string[]
  columns: Array<{ name: string; model: string; values: Float64Array }>
}

/**
 * Scores `dataset` (default: the dataset each model was trained on) with one or more stored models.
 * A classifier adds a `risk` column, a k-means model a `segment` column (0-based cluster index);
 * a second model of the same kind is suffixed with its job id.
 *
 * @throws NodeModelNotFoundError | DatasetNotFoundError | JobDataError
 * @example
 * const r = await scoreDataset(store, 'job-20250101-abcdefgh', 'credit_data')
 */
export async function scoreDataset(
  store: NodeStore,
  modelIds: string | readonly string[],
  dataset?: string,
  options: AbortOptions = {}
): Promise<ScoreResult> {
  const ids = typeof modelIds === 'string' ? [modelIds] : modelIds
  if (ids.length === 0) throw new JobDataError('name at least one model to score with')
  const out: ScoreResult = { dataset: '', ids: [], columns: [] }
  for (const id of ids) {
    const model = await getNodeModel(store, id)
    // A vertical slice cannot score alone: the other parties' partial scores are needed.
    if (String(model.descriptor?.kind).startsWith('vertical-'))
      throw new JobDataError(
        `${id} is a vertical model (this node holds only its slice); score it with "cohort vertical score" from the label node`
      )
    const name = dataset ?? model.dataset
    if (out.dataset !== '' && out.dataset !== name)
      throw new JobDataError(
        `models trained on ${out.dataset} and ${name} cannot score one dataset; pass the dataset`
      )
    out.dataset = name
    const m = await getManifest(store, name)
    if (m === undefined) throw new DatasetNotFoundError(`no dataset named "${name}"`)
    const { data, ids: rowIds } = await loadScoringData(store, m, model.prep, options)
    if (out.ids.length === 0) out.ids = rowIds
    const spec = modelSpec(model.descriptor)
    const params = spec.unflatten(bytesToF64(Buffer.from(model.params, 'base64'), spec.layout.length))
    const values = await createTrainer(spec).predict(params, data, options)
    const base = spec.kind === 'kmeans' ? 'segment' : 'risk'
    const taken = out.columns.some((c) => c.name === base)
    out.columns.push({
      name: taken ? `${base}_${model.jobId}` : base,
      model: `${model.jobId}@${model.version}`,
      values
    })
  }
  return out
}

/**
 * Writes a score result as CSV (`id,<columns…>`), one line per row; returns the row count.
 *
 * @example
 * await writeScoresCsv('/tmp/scores.csv', await scoreDataset(store, 'job-1'))
 */
export async function writeScoresCsv(path: string, r: ScoreResult): Promise<number> {
  const w = createWriteStream(path, { mode: 0o600 })
  const line = (s: string) => (w.write(s) ? undefined : once(w, 'drain'))
  await line(`id,${r.columns.map((c) => c.name).join(',')}\n`)
  for (let i = 0; i < r.ids.length; i++) {
    const cells = r.columns.map((c) =>
      c.name.startsWith('segment') ? String(c.values[i]) : c.values[i]!.toFixed(6)
    )
    await line(`${r.ids[i]},${cells.join(',')}\n`)
  }
  w.end()
  await once(w, 'finish')
  return r.ids.length
}
