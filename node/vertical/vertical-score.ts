/**
 * Federated scoring with a vertical logistic-regression model, at the label node: it asks each feature
 * node to serve partial scores of the job's aligned customers (`serve`, over
 * `/cohort/vertical-job/1.0.0`; a feature node serves only the label party of its stored model), runs
 * the protocol's label-side scoring, and closes the serving sessions. Only the label node learns the
 * scores; the rows are the job's PSI-aligned customers.
 */
import { isCohortError } from '../../crypto/cohort-error.ts'
import type { AuditLog } from '../../platform/audit/audit-log.ts'
import type { NodeStore } from '../../platform/storage/db.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import type { Transport } from '../../protocols/transport.ts'
import {
  decodeVerticalReply,
  encodeVertical,
  VERTICAL_WIRE_VERSION
} from '../../protocols/vertical/job-wire.ts'
import type { VerticalLrModel } from '../../protocols/vertical/lr/index.ts'
import { readDatasetIds } from '../psi/dataset-ids.ts'
import { loadAlignedSlice } from './aligned-slice.ts'
import { VerticalStateError } from './errors.ts'
import { getVerticalModel } from './model-store.ts'
import { verticalLr } from './protocols.ts'

/**
 * Scores of the aligned customers, in the PSI's common order.
 * @example
 * const { ids, values } = await scoreVerticalModel(deps, jobId)
 */
export interface VerticalScoreResult {
  jobId: string
  dataset: string
  /** Ids of the label node's aligned rows. */
  ids: string[]
  /** Dataset row numbers of the aligned rows. */
  rows: Uint32Array
  /** Probability of the positive class per aligned row. */
  values: Float64Array
}

/** What scoring needs from the node. */
export interface VerticalScoreDeps {
  identity: { readonly peerId: string }
  store: NodeStore
  audit: Pick<AuditLog, 'append'>
  transport: Transport
  timeoutMs?: number
}

/**
 * Scores the job's aligned customers with this (label) node's stored vertical model.
 *
 * @throws VerticalDataError (no such model) | VerticalStateError (not the label party, k-means) |
 *   RemoteError (a feature node refused to serve)
 * @example
 * const r = await scoreVerticalModel(deps, 'job-20250101-abcdefgh')
 */
export async function scoreVerticalModel(
  deps: VerticalScoreDeps,
  jobId: string,
  options: { signal?: AbortSignal } = {}
): Promise<VerticalScoreResult> {
  const record = await getVerticalModel(deps.store, jobId)
  if (record.descriptor.role !== 'label')
    throw new VerticalStateError(`this node holds a feature slice of ${jobId}; score at the label node`)
  if (record.descriptor.kind !== 'vertical-logreg')
    throw new VerticalStateError(
      `federated scoring is for vertical logistic regression; ${jobId} is ${record.descriptor.kind}`
    )
  const aligned = await loadAlignedSlice(deps.store, {
    jobId,
    dataset: record.dataset,
    features: record.prep.features,
    label: false,
    prep: record.prep,
    ...(options.signal === undefined ? {} : { signal: options.signal })
  })
  const sessionId = `${jobId}.score.${Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString('hex')}`
  const feature = record.parties.filter((p) => p.role === 'feature')
  const timeoutMs = deps.timeoutMs ?? 60_000
  const ask = (peer: string, kind: 'serve' | 'serve-stop') =>
    deps.transport
      .request(
        peer,
        PROTOCOLS.verticalJob,
        encodeVertical({ v: VERTICAL_WIRE_VERSION, jobId, kind, sessionId }),
        {
          ...(options.signal === undefined ? { timeoutMs } : { signal: options.signal })
        }
      )
      .then((frame) => decodeVerticalReply(frame, kind === 'serve' ? ['started'] : ['cancelled'], jobId))
  let values: Float64Array
  try {
    await Promise.all(feature.map((p) => ask(p.peerId, 'serve')))
    const rows = new Uint32Array(aligned.slice.rows)
    for (let i = 0; i < rows.length; i++) rows[i] = i
    const { scoreVerticalLabel } = await verticalLr()
    values = await scoreVerticalLabel({
      transport: deps.transport,
      sessionId,
      parties: record.parties.map((p) => ({ peer: p.peerId, name: p.org, role: p.role })),
      slice: aligned.slice,
      model: record.model as VerticalLrModel,
      rows,
      timeoutMs,
      ...(options.signal === undefined ? {} : { signal: options.signal })
    })
  } finally {
    await Promise.all(
      feature.map((p) => ask(p.peerId, 'serve-stop').catch((err) => (isCohortError(err) ? err : undefined)))
    )
  }
  const all = await readDatasetIds(deps.store, record.dataset)
  const ids = Array.from(aligned.rows, (r) => all[r]!)
  await deps.audit.append(
    'vertical-scored',
    { jobId, sessionId, rows: values.length, with: feature.map((p) => p.org) },
    { actor: 'node' }
  )
  return { jobId, dataset: record.dataset, ids, rows: aligned.rows, values }
}
