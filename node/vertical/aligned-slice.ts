/**
 * A node's aligned slice of a vertical job (protocols/vertical/types.ts `VerticalSlice`): the rows
 * of its dataset that the job's PSI found in every party, in the common order the PSI result lists
 * them (node/psi/result-store.ts), with the job's feature columns encoded and standardised by the
 * node's own preprocessing (imputation and mean/std fitted on its own training split, as the
 * dataset's spec describes). The label node also takes the labels and, from its split rule, which
 * aligned rows are held out. Nothing here leaves the node.
 */
import type { NodeStore } from '../../platform/storage/db.ts'
import type { AbortOptions } from '../../protocols/transport.ts'
import type { VerticalSlice } from '../../protocols/vertical/types.ts'
import { getManifest, readManifestRows } from '../data/dataset-store.ts'
import type { DatasetManifest } from '../data/dataset-store.ts'
import { DatasetNotFoundError } from '../data/errors.ts'
import { fitPreprocessing } from '../data/fit-preprocess.ts'
import { encodeFeatures } from '../data/preprocess.ts'
import type { PreprocessStats } from '../data/preprocess.ts'
import { featureLayout } from '../data/schema.ts'
import { loadPsiResult } from '../psi/result-store.ts'
import { VerticalDataError } from './errors.ts'

/**
 * The slice and what the node needs beside it.
 * @example
 * const { slice, testRows, rows } = await loadAlignedSlice(store, { jobId, dataset: 'credit', label: true })
 */
export interface AlignedSlice {
  slice: VerticalSlice
  /** Label node: 1 for aligned rows its split rule holds out (the protocol's test rows). */
  testRows?: Uint8Array
  /** Dataset row number of each aligned row (the PSI index). */
  rows: Uint32Array
  /** The preprocessing the features were standardised with (stored with the model for scoring). */
  prep: { impute: Record<string, number | string>; mean: number[]; std: number[] }
}

/**
 * What to load.
 * @example
 * loadAlignedSlice(store, { jobId: 'job-1', dataset: 'credit', features: ['Income'], label: false })
 */
export interface AlignedSliceRequest extends AbortOptions {
  /** The job whose PSI result aligns the rows. */
  jobId: string
  dataset: string
  /** Encoded feature (or column) names; omitted = every feature of the dataset. */
  features?: readonly string[]
  /** Take the labels (the label node of a logistic regression). */
  label: boolean
  /** Take the split rule's test flags (the label / lead node). @default label */
  split?: boolean
  /** Preprocessing to reuse (scoring with a stored model); default: fitted on the local training split. */
  prep?: AlignedSlice['prep']
}

/**
 * The job's features as positions in the dataset's encoded layout (a column name selects every
 * feature it encodes into).
 *
 * @throws VerticalDataError for a name the dataset does not have
 * @example
 * selectFeatures(manifest, ['Income', 'Home']) // { names: ['Income', 'Home=owner', …], pick: [4, 0, …] }
 */
export function selectFeatures(
  m: DatasetManifest,
  features: readonly string[] | undefined
): { names: string[]; pick: number[] } {
  const layout = featureLayout(m.schema)
  if (features === undefined) return { names: layout.map((f) => f.name), pick: layout.map((_, i) => i) }
  const pick: number[] = []
  for (const f of features) {
    const exact = layout.findIndex((x) => x.name === f)
    const matches = exact >= 0 ? [exact] : layout.flatMap((x, i) => (x.column === f ? [i] : []))
    if (matches.length === 0) throw new VerticalDataError(`dataset ${m.name} has no feature ${f}`)
    for (const i of matches) if (!pick.includes(i)) pick.push(i)
  }
  return { names: pick.map((i) => layout[i]!.name), pick }
}

async function manifestOf(store: NodeStore, dataset: string): Promise<DatasetManifest> {
  const m = await getManifest(store, dataset)
  if (m === undefined) throw new DatasetNotFoundError(`no dataset named "${dataset}"`)
  return m
}

/**
 * Loads the node's aligned slice of a job from its stored PSI result and dataset.
 *
 * @throws VerticalDataError (no PSI result, a size-only result, a missing label) | DatasetNotFoundError
 * @example
 * const { slice, testRows } = await loadAlignedSlice(store, { jobId, dataset: 'credit', label: true })
 */
export async function loadAlignedSlice(store: NodeStore, req: AlignedSliceRequest): Promise<AlignedSlice> {
  const psi = await loadPsiResult(store, req.jobId)
  if (psi === undefined) throw new VerticalDataError(`this node has no PSI result for job ${req.jobId}`)
  if (psi.index === undefined)
    throw new VerticalDataError(`the PSI of job ${req.jobId} revealed only the intersection size here`)
  if (psi.meta.dataset !== null && psi.meta.dataset !== req.dataset)
    throw new VerticalDataError(
      `the PSI of job ${req.jobId} ran over dataset ${psi.meta.dataset}, not ${req.dataset}`
    )
  return alignedRows(store, req, psi.index)
}

/**
 * The slice of the given dataset rows, in the given order (the PSI index, or any aligned list).
 *
 * @example
 * const s = await alignedRows(store, { jobId, dataset: 'credit', label: false }, Uint32Array.of(4, 9, 2))
 */
export async function alignedRows(
  store: NodeStore,
  req: AlignedSliceRequest,
  index: Uint32Array
): Promise<AlignedSlice> {
  const m = await manifestOf(store, req.dataset)
  const { schema } = m
  if (req.label && schema.target === undefined)
    throw new VerticalDataError(`dataset ${req.dataset} has no target column, so it cannot hold the label`)
  const { names, pick } = selectFeatures(m, req.features)
  const fitted: PreprocessStats = req.prep ?? (await fitPreprocessing(store, req.dataset))
  const prep = {
    impute: { ...fitted.impute },
    mean: Array.from(fitted.mean ?? []),
    std: Array.from(fitted.std ?? [])
  }
  // Position of each dataset row in the aligned order (-1: not in the intersection).
  const at = new Int32Array(m.rows).fill(-1)
  for (let k = 0; k < index.length; k++) {
    const r = index[k]!
    if (r >= m.rows) throw new VerticalDataError(`the PSI result names row ${r} of a ${m.rows}-row dataset`)
    at[r] = k
  }
  const n = index.length
  const d = pick.length
  const x = new Float64Array(n * d)
  const split = req.split ?? req.label
  const y = req.label ? new Uint8Array(n) : undefined
  const test = split ? new Uint8Array(n) : undefined
  const columns = schema.columns.filter((c) => c.role === 'feature').map((c) => c.name)
  if (req.label) columns.push(schema.target!.column)
  const splitCol = schema.split?.column
  if (split && splitCol !== undefined && !columns.includes(splitCol)) columns.push(splitCol)
  for await (const chunk of readManifestRows(store, m, {
    columns,
    ...(req.signal === undefined ? {} : { signal: req.signal })
  })) {
    const enc = encodeFeatures(schema, chunk, prep)
    for (let r = 0; r < enc.rows; r++) {
      const k = at[chunk.start + r]!
      if (k < 0) continue
      for (let j = 0; j < d; j++) x[k * d + j] = enc.x[r * enc.features + pick[j]!]!
      if (y !== undefined) y[k] = enc.y![r]! >= 0.5 ? 1 : 0
      if (test !== undefined) test[k] = enc.test?.[r] ?? 0
    }
  }
  const slice: VerticalSlice = { rows: n, cols: d, x, featureNames: names, ...(y === undefined ? {} : { y }) }
  return { slice, ...(test === undefined ? {} : { testRows: test }), rows: index, prep }
}
