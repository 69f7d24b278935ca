/**
 * The job runner (`RunJob`, coordinator/jobs/types.ts): drives a training job over the
 * `/cohort/train/1.0.0` and `/cohort/secagg/2.0.0` protocols until it completes, fails or is
 * aborted.
 *
 *   offer → (≥ minParticipants accepted) → federated feature statistics → rounds:
 *   fit → secure sum → strategy.aggregateFit → evaluation → secure sum → completeRound (atomic)
 *   → publish the final model
 *
 * Everything the runner needs to continue lives in the job record: participants, declines, the
 * feature statistics, the last completed round and its global parameters. `completeRound` writes
 * the round and the job in one batch, so a runner that dies mid-round resumes at `job.round + 1`
 * from the parameters of `job.round`: no round is aggregated into the model twice. Nodes serve a
 * re-requested round from their cache, so its privacy cost is not charged twice either.
 *
 * Abort: the signal's reason decides. `JobCancelledError` = a cancel (nodes are told to forget the
 * job; the scheduler marks it cancelled); any other reason (`CoordinatorStoppingError`, a test's
 * simulated kill) = a stop: the job stays `running` and resumes at the next runJob. Either way the
 * runner throws the reason. Failures (too few nodes, a phase failing on every attempt) are written
 * as `failed` with the error and returned.
 */
import { PROTOCOLS } from '../../protocols/ids.ts'
import { encodeTrain, TRAIN_WIRE_VERSION } from '../../protocols/training/wire.ts'
import { JobNotFoundError } from '../errors.ts'
import { checkRunnable, fromBase64F64, jobModel, summaryFor, toBase64F64 } from './job-plan.ts'
import { setupHe } from './he-setup.ts'
import { offerPhase } from './offer-phase.ts'
import { ensureEnough, offeredOf, statsPhase } from './phases.ts'
import type { Roster } from './phases.ts'
import { publishModel } from './publish.ts'
import { trainRound } from './round.ts'
import { createRuntime } from './runtime.ts'
import type { JobRuntime } from './runtime.ts'
import type { JobRecord, RunJob } from './types.ts'
import { runVerticalJob } from './vertical-run.ts'
import { settleJobError } from './job-failure.ts'

const FINAL = new Set(['completed', 'failed', 'cancelled'])
const now = () => new Date().toISOString()

/**
 * Runs (or resumes) a job; see the module comment.
 *
 * @example
 * const job = await runJob({ transport, store, manifest: () => m, audit, log: console.log }, 'job-20250101-abcdefgh')
 * job.status // 'completed'
 */
export const runJob: RunJob = async (ctx, jobId, options = {}) => {
  const signal = options.signal ?? new AbortController().signal
  const rt = createRuntime(ctx, signal)
  const stored = await ctx.store.getJob(jobId)
  if (stored === undefined) throw new JobNotFoundError(jobId)
  if (FINAL.has(stored.status)) return stored
  // Vertical jobs (parties hold different columns) have their own runner: PSI, then a peer-to-peer session.
  if (stored.config.vertical !== undefined) return runVerticalJob(ctx, jobId, options)
  let job: JobRecord = stored
  const roster: Roster = { participants: [...job.participants], declined: [...job.declined] }
  const save = async (patch: Partial<JobRecord>) => {
    job = {
      ...job,
      ...patch,
      participants: [...roster.participants],
      declined: [...roster.declined],
      updatedAt: now()
    }
    await ctx.store.putJob(job)
  }
  try {
    checkRunnable(job.config)
    if (job.status !== 'running') await save({ status: 'running' })
    if (job.config.secureAggregation === 'he') rt.he = await setupHe(rt, job.config)
    if (job.featureStats === undefined || job.global === undefined)
      await prepare(rt, job, roster, save, () => job)
    ensureEnough(job, roster)
    const columns = job.featureStats!.columns ?? []
    const summary = summaryFor(job.config, roster.participants[0]!.org, offeredOf(roster))
    const model = jobModel(job, summary, columns)
    let global = model.spec.unflatten(fromBase64F64(job.global!))
    for (let r = job.round + 1; r <= job.config.model.rounds; r++) {
      const out = await trainRound(rt, job, roster, model, r, global)
      global = out.global
      const next: JobRecord = {
        ...job,
        round: r,
        global: toBase64F64(model.spec.flatten(global)),
        participants: [...roster.participants],
        declined: [...roster.declined],
        metrics: out.record.metrics,
        updatedAt: now()
      }
      await ctx.store.completeRound(out.record, next)
      job = next
      await ctx.audit.append(
        'job-round-completed',
        {
          jobId,
          round: r,
          survivors: out.record.survivors.length,
          dropped: out.record.dropped.length,
          metrics: out.record.metrics
        },
        { actor: rt.transport.self, round: r }
      )
      rt.log(
        `job ${jobId} round ${r}/${job.config.model.rounds}: ${summarize(out.record.metrics)} (${out.record.survivors.length} nodes, ${Math.round(out.record.timings.total!)} ms)`
      )
      ctx.onRound?.(out.record, job)
    }
    const metrics = job.metrics ?? {}
    await publishModel(rt, job, roster, model.spec, global, metrics)
    await save({ status: 'completed', metrics })
    return job
  } catch (err) {
    await settleJobError({ rt, jobId, err, tell: (reason) => tellNodes(rt, job, roster, reason), save })
    return job
  }
}

async function prepare(
  rt: JobRuntime,
  first: JobRecord,
  roster: Roster,
  save: (patch: Partial<JobRecord>) => Promise<void>,
  current: () => JobRecord
): Promise<void> {
  // Offers are idempotent and cost no budget: a job that stopped before its statistics were
  // computed starts over from the offer.
  const offer = await offerPhase(rt, first)
  roster.participants = offer.accepted
  roster.declined = offer.declined
  for (const d of offer.declined) rt.log(`${d.org} declined job ${first.id}: ${d.reason} [${d.code}]`)
  ensureEnough(first, roster)
  await save({ round: 0 })
  const featureStats = await statsPhase(rt, current(), roster, offer.features, offer.columns)
  const job = { ...current(), featureStats }
  const summary = summaryFor(job.config, roster.participants[0]!.org, offeredOf(roster))
  const model = jobModel(job, summary, offer.columns)
  await save({ featureStats, global: toBase64F64(model.spec.flatten(model.init())) })
}

async function tellNodes(rt: JobRuntime, job: JobRecord, roster: Roster, reason: string): Promise<void> {
  const body = encodeTrain({ v: TRAIN_WIRE_VERSION, jobId: job.id, kind: 'cancel', reason })
  await Promise.all(
    roster.participants.map((p) =>
      rt.ctx.transport
        .request(p.peerId, PROTOCOLS.train, body, { signal: AbortSignal.timeout(2_000) })
        .catch(() => undefined)
    )
  )
}

function summarize(metrics: Record<string, number>): string {
  const keys = ['auc', 'ks', 'accuracy', 'logloss', 'inertia', 'testInertia']
  return keys
    .filter((k) => metrics[k] !== undefined)
    .map((k) => `${k}=${metrics[k]!.toFixed(4)}`)
    .join(' ')
}
