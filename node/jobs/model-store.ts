import { createHash } from 'node:crypto'
import type { AuditLog } from '../../platform/audit/audit-log.ts'
import type { NodeStore } from '../../platform/storage/db.ts'
import type { FeaturePrep } from '../../protocols/training/feature-stats.ts'
import type { ModelDescriptor } from '../../protocols/training/model-spec.ts'
import { NodeModelNotFoundError } from './errors.ts'

/**
 * Models published to this node (the `models` sublevel), with everything local scoring needs: the
 * descriptor, the parameters, and the federated preprocessing statistics the model was trained
 * with. Key `<jobId>!<version, 8 digits>`, the coordinator registry's scheme.
 */

/**
 * A published model as the node stores it.
 * @example
 * const m: NodeModelRecord = await getNodeModel(store, 'job-20250101-abcdefgh')
 */
export interface NodeModelRecord {
  jobId: string
  version: number
  name: string
  descriptor: ModelDescriptor
  /** base64 of little-endian Float64 parameters. */
  params: string
  /** SHA-256 hex of the parameter bytes. */
  sha256: string
  prep: FeaturePrep
  /** The node's dataset the job trained on. */
  dataset: string
  metrics: Record<string, number>
  /** Peer id of the coordinator that published it. */
  coordinator: string
  receivedAt: string
}

const pad = (n: number) => String(n).padStart(8, '0')

/**
 * SHA-256 hex of parameter bytes.
 * @example
 * paramsSha256(bytes) // 'e3b0…'
 */
export function paramsSha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * Stores a published model in one batch with its `model-received` audit entry. Publishing the same
 * version again (a coordinator retrying after a restart) is a no-op when the parameters are equal.
 *
 * @example
 * await storeNodeModel(store, audit, record)
 */
export async function storeNodeModel(
  store: NodeStore,
  audit: Pick<AuditLog, 'append'>,
  m: NodeModelRecord
): Promise<void> {
  const key = `${m.jobId}!${pad(m.version)}`
  const existing = (await store.models.get(key)) as NodeModelRecord | undefined
  if (existing !== undefined && existing.sha256 === m.sha256) return
  await audit.append(
    'model-received',
    {
      jobId: m.jobId,
      version: m.version,
      kind: m.descriptor.kind,
      sha256: m.sha256,
      dataset: m.dataset,
      features: m.prep.features.length,
      coordinator: m.coordinator,
      replaced: existing?.sha256 ?? null
    },
    { actor: m.coordinator, with: [{ type: 'put', sublevel: store.models, key, value: m }] }
  )
}

/**
 * A stored model: `id` is a job id (its latest version) or `<jobId>@<version>`.
 *
 * @throws NodeModelNotFoundError
 * @example
 * const m = await getNodeModel(store, 'job-20250101-abcdefgh@1')
 */
export async function getNodeModel(store: NodeStore, id: string): Promise<NodeModelRecord> {
  const at = id.lastIndexOf('@')
  const jobId = at < 0 ? id : id.slice(0, at)
  const version = at < 0 ? undefined : Number(id.slice(at + 1))
  if (version !== undefined) {
    const m = Number.isSafeInteger(version) ? await store.models.get(`${jobId}!${pad(version)}`) : undefined
    if (m === undefined) throw new NodeModelNotFoundError(id)
    return m as NodeModelRecord
  }
  const last = await store.models.values({ gte: `${jobId}!`, lt: `${jobId}"`, reverse: true, limit: 1 }).all()
  if (last.length === 0) throw new NodeModelNotFoundError(id)
  return last[0] as NodeModelRecord
}

/**
 * Every stored model without its parameters, newest job id first.
 * @example
 * for (const m of await listNodeModels(store)) console.log(m.jobId, m.descriptor.kind)
 */
export async function listNodeModels(store: NodeStore): Promise<Array<Omit<NodeModelRecord, 'params'>>> {
  const all = (await store.models.values().all()) as NodeModelRecord[]
  return all.reverse().map(({ params: _params, ...rest }) => rest)
}
