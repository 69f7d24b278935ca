/**
 * A node's slice of a vertical model, kept in the node's `models` sublevel next to published
 * horizontal models (key `<jobId>!<version, 8 digits>`, version 1). It holds only this node's part
 * (its features' weights, or its coordinates of the centroids), the preprocessing its features were
 * standardised with and the job's parties, so a later federated scoring can rebuild the same slice.
 */
import { createHash } from 'node:crypto'
import type { AuditLog } from '../../platform/audit/audit-log.ts'
import type { NodeStore } from '../../platform/storage/db.ts'
import { VerticalDataError } from './errors.ts'

/**
 * The stored record. `descriptor`, `params`, `prep` and `dataset` follow the horizontal record's
 * names, so model listings show it; `descriptor.kind` is `vertical-logreg` or `vertical-kmeans`.
 * @example
 * const m: VerticalModelRecord = await getVerticalModel(store, jobId)
 */
export interface VerticalModelRecord {
  jobId: string
  version: 1
  name: string
  descriptor: {
    kind: 'vertical-logreg' | 'vertical-kmeans'
    role: 'label' | 'feature'
    features: number
    k?: number
  }
  /** base64 of little-endian Float64: this party's weights (logreg, then the intercept on the label party) or centroid coordinates (row-major k × features). */
  params: string
  sha256: string
  /** The full preprocessing of the dataset's encoded layout, and the job's features. */
  prep: { features: string[]; impute: Record<string, number | string>; mean: number[]; std: number[] }
  dataset: string
  /** The job's feature selection as the job named it (column or encoded names). */
  selection?: string[]
  /** The protocol's model object of this party (weights / centroids of its own features only). */
  model: unknown
  parties: Array<{ org: string; peerId: string; role: 'label' | 'feature' }>
  sessionId: string
  metrics: Record<string, number>
  coordinator: string
  receivedAt: string
}

const keyOf = (jobId: string) => `${jobId}!00000001`

/**
 * Parameters as base64 little-endian Float64 with their SHA-256.
 * @example
 * const { params, sha256 } = packParams([0.1, -2])
 */
export function packParams(values: readonly number[]): { params: string; sha256: string } {
  const bytes = Buffer.from(Float64Array.from(values).buffer)
  return { params: bytes.toString('base64'), sha256: createHash('sha256').update(bytes).digest('hex') }
}

/**
 * Stores a node's model slice in one batch with its `vertical-model-stored` audit entry.
 * @example
 * await storeVerticalModel(store, audit, record)
 */
export async function storeVerticalModel(
  store: NodeStore,
  audit: Pick<AuditLog, 'append'>,
  m: VerticalModelRecord
): Promise<void> {
  await audit.append(
    'vertical-model-stored',
    {
      jobId: m.jobId,
      kind: m.descriptor.kind,
      role: m.descriptor.role,
      features: m.descriptor.features,
      sha256: m.sha256,
      dataset: m.dataset
    },
    { actor: m.coordinator, with: [{ type: 'put', sublevel: store.models, key: keyOf(m.jobId), value: m }] }
  )
}

/**
 * The stored slice of a vertical model.
 * @throws VerticalDataError when the node holds no vertical model of that job
 * @example
 * const m = await getVerticalModel(store, 'job-20250101-abcdefgh')
 */
export async function getVerticalModel(store: NodeStore, jobId: string): Promise<VerticalModelRecord> {
  const id = jobId.endsWith('@1') ? jobId.slice(0, -2) : jobId
  const m = (await store.models.get(keyOf(id))) as VerticalModelRecord | undefined
  if (m === undefined || !String(m.descriptor?.kind).startsWith('vertical-'))
    throw new VerticalDataError(`this node holds no vertical model of job ${id}`)
  return m
}
