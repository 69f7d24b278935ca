import { createHash } from 'node:crypto'
import { finalizeKMeans } from '../../protocols/strategies/fed-kmeans.ts'
import type { Metrics } from '../../protocols/strategies/strategy.ts'
import type { ModelSpec, NamedParams } from '../../protocols/training/model-spec.ts'
import { f64ToBytes, TRAIN_WIRE_VERSION } from '../../protocols/training/wire.ts'
import { prepOf, summaryFor } from './job-plan.ts'
import type { Roster } from './phases.ts'
import { requestAll } from './runtime.ts'
import type { JobRuntime } from './runtime.ts'
import type { JobRecord, ModelRecord } from './types.ts'

/** Version of the model a completed job publishes (one per job). @example MODEL_VERSION // 1 */
export const MODEL_VERSION = 1

/**
 * The final model: registered in the coordinator's store, then sent to every participant, which
 * stores it for local scoring. k-means publishes its best candidate only (finalizeKMeans).
 * Publishing is idempotent on both sides, so a coordinator restarted between the last round and the
 * publish simply publishes again.
 *
 * @example
 * const model = await publishModel(rt, job, roster, spec, global, metrics)
 */
export async function publishModel(
  rt: JobRuntime,
  job: JobRecord,
  roster: Roster,
  spec: ModelSpec<NamedParams>,
  global: NamedParams,
  metrics: Metrics
): Promise<ModelRecord> {
  const final =
    spec.kind === 'kmeans'
      ? finalizeKMeans(spec, global, Number.isInteger(metrics.best) ? metrics.best! : 0)
      : { spec, params: global }
  const bytes = f64ToBytes(final.spec.flatten(final.params))
  const model: ModelRecord = {
    jobId: job.id,
    version: MODEL_VERSION,
    kind: job.config.model.kind,
    descriptor: final.spec.descriptor,
    params: Buffer.from(bytes).toString('base64'),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    metrics,
    createdAt: new Date().toISOString()
  }
  await rt.ctx.store.putModel(model)
  const prep = prepOf(job)
  const outcomes = await requestAll(
    rt,
    job.id,
    roster.participants,
    (p) => ({
      v: TRAIN_WIRE_VERSION,
      jobId: job.id,
      kind: 'publish',
      version: MODEL_VERSION,
      name: job.config.name,
      dataset: summaryFor(job.config, p.org, 1).dataset,
      model: final.spec.descriptor as never,
      params: bytes,
      prep: prep as never,
      metrics: Object.fromEntries(Object.entries(metrics).filter(([, v]) => Number.isFinite(v)))
    }),
    ['stored', 'declined'],
    job.config.deadlines.phaseMs
  )
  for (const o of outcomes) {
    if ('error' in o)
      rt.log(`could not publish the model to ${o.peer.org}: ${o.error.message} [${o.error.code}]`)
    else if (o.reply.kind === 'declined') rt.log(`${o.peer.org} refused the model: ${o.reply.reason}`)
  }
  await rt.ctx.audit.append(
    'model-published',
    {
      jobId: job.id,
      version: MODEL_VERSION,
      sha256: model.sha256,
      to: outcomes.filter((o) => 'reply' in o && o.reply.kind === 'stored').map((o) => o.peer.org)
    },
    { actor: rt.transport.self }
  )
  return model
}
