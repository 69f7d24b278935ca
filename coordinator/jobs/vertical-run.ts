/**
 * The runner of a vertical job (configs/job.ts `vertical:`), over `/cohort/vertical-job/1.0.0`:
 *
 *   offer (every party must accept) → the label node leads the PSI (reveal: intersection; the
 *   aligned index stays on each node) → every node reports `aligned` → feature nodes start their
 *   protocol party, then the label node → poll until every node is `done` → the label party's
 *   aggregate metrics are the job's
 *
 * The coordinator never sees rows, ids or weights: each node keeps its model slice. A vertical job
 * has no rounds; a runner that stops mid-job starts it over from the offer at the next runJob (PSI
 * and training are idempotent per job at the nodes; a node that restarted has forgotten the job and
 * is offered it again). Aborts and failures follow run-job.ts: a cancel tells the nodes and throws,
 * a stop throws, a failure is written as `failed` and returned.
 */
import { isCohortError } from '../../crypto/cohort-error.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import {
  decodeVerticalReply,
  encodeVertical,
  VERTICAL_WIRE_VERSION
} from '../../protocols/vertical/job-wire.ts'
import type { VerticalReply, VerticalRequest } from '../../protocols/vertical/job-wire.ts'
import { JobNotFoundError } from '../errors.ts'
import { RoundFailedError, TooFewParticipantsError } from './errors.ts'
import { participantsOf } from './offer-phase.ts'
import { createRuntime } from './runtime.ts'
import type { JobRuntime } from './runtime.ts'
import type { Declined, JobRecord, Metrics, RunJob } from './types.ts'
import { checkVerticalRunnable, verticalParties, verticalSummaryFor } from './vertical-plan.ts'
import type { VerticalParticipant } from './vertical-plan.ts'
import { settleJobError } from './job-failure.ts'

const FINAL = new Set(['completed', 'failed', 'cancelled'])
const POLL_MS = 150
/** Consecutive unanswered status polls after which a node counts as gone. */
const MAX_MISSED = 5
const now = () => new Date().toISOString()

type Outcome<K extends VerticalReply['kind']> =
  | { peer: VerticalParticipant; reply: Extract<VerticalReply, { kind: K }> }
  | { peer: VerticalParticipant; error: { code: string; message: string } }

async function ask<K extends VerticalReply['kind']>(
  rt: JobRuntime,
  job: JobRecord,
  peer: VerticalParticipant,
  req: VerticalRequest,
  expected: readonly K[]
): Promise<Outcome<K>> {
  try {
    const frame = await rt.transport.request(peer.peerId, PROTOCOLS.verticalJob, encodeVertical(req), {
      signal: AbortSignal.any([rt.signal, AbortSignal.timeout(job.config.deadlines.phaseMs)])
    })
    return { peer, reply: decodeVerticalReply(frame, expected, job.id) }
  } catch (err) {
    rt.signal.throwIfAborted()
    const code = isCohortError(err) ? err.code : 'COHORT_INTERNAL'
    return { peer, error: { code, message: (err as Error)?.message ?? String(err) } }
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t)
        reject(signal.reason)
      },
      { once: true }
    )
  })

/**
 * Polls every party's status until each reports `until` (or `done`); a `failed` node or a node that
 * stops answering fails the job with its reason. Returns the last status of each party.
 */
async function waitFor(
  rt: JobRuntime,
  job: JobRecord,
  parties: readonly VerticalParticipant[],
  until: 'aligned' | 'done',
  deadlineMs: number
): Promise<Map<string, Extract<VerticalReply, { kind: 'status' }>>> {
  const end = Date.now() + deadlineMs
  const missed = new Map<string, number>()
  const last = new Map<string, Extract<VerticalReply, { kind: 'status' }>>()
  for (;;) {
    const outcomes = await Promise.all(
      parties.map((p) =>
        ask(rt, job, p, { v: VERTICAL_WIRE_VERSION, jobId: job.id, kind: 'status' }, ['status'])
      )
    )
    for (const o of outcomes) {
      if ('error' in o) {
        const n = (missed.get(o.peer.org) ?? 0) + 1
        missed.set(o.peer.org, n)
        if (n >= MAX_MISSED || o.error.code === 'COHORT_VERTICAL_STATE')
          throw new RoundFailedError(
            `${o.peer.org} does not answer for job ${job.id}: ${o.error.message} [${o.error.code}]`
          )
        continue
      }
      missed.delete(o.peer.org)
      if (o.reply.phase === 'failed') {
        const e = o.reply.error ?? { code: 'COHORT_INTERNAL', message: 'no reason given' }
        throw new RoundFailedError(`${o.peer.org} failed in job ${job.id}: ${e.message} [${e.code}]`)
      }
      last.set(o.peer.org, o.reply)
    }
    const done = parties.every((p) => {
      const ph = last.get(p.org)?.phase
      return ph === 'done' || (until === 'aligned' && (ph === 'aligned' || ph === 'training'))
    })
    if (done) return last
    if (Date.now() > end)
      throw new RoundFailedError(
        `job ${job.id} did not reach ${until} at every party within ${deadlineMs} ms`
      )
    await sleep(POLL_MS, rt.signal)
  }
}

/**
 * Runs (or starts over) a vertical job; see the module comment.
 *
 * @example
 * const job = await runVerticalJob(ctx, 'job-20250101-abcdefgh')
 * job.metrics // { auc: 0.86, ks: 0.57, logloss: 0.41, … }
 */
export const runVerticalJob: RunJob = async (ctx, jobId, options = {}) => {
  const signal = options.signal ?? new AbortController().signal
  const rt = createRuntime(ctx, signal)
  const stored = await ctx.store.getJob(jobId)
  if (stored === undefined) throw new JobNotFoundError(jobId)
  if (FINAL.has(stored.status)) return stored
  let job: JobRecord = stored
  let parties: VerticalParticipant[] = []
  const save = async (patch: Partial<JobRecord>) => {
    job = { ...job, ...patch, updatedAt: now() }
    await ctx.store.putJob(job)
  }
  const t0 = performance.now()
  try {
    checkVerticalRunnable(job.config)
    if (job.status !== 'running') await save({ status: 'running' })
    parties = verticalParties(job, participantsOf(job, rt))
    const offers = await Promise.all(
      parties.map((p) =>
        ask(
          rt,
          job,
          p,
          { v: VERTICAL_WIRE_VERSION, jobId, kind: 'offer', job: verticalSummaryFor(job, parties, p) },
          ['accepted', 'declined']
        )
      )
    )
    const declined: Declined[] = []
    for (const o of offers) {
      const { org, peerId } = o.peer
      if ('error' in o)
        declined.push({
          org,
          peerId,
          code: o.error.code,
          reason: `no answer to the offer: ${o.error.message}`,
          round: 0
        })
      else if (o.reply.kind === 'declined')
        declined.push({ org, peerId, code: o.reply.code, reason: o.reply.reason, round: 0 })
    }
    for (const d of declined) rt.log(`${d.org} declined job ${jobId}: ${d.reason} [${d.code}]`)
    const accepted = parties.filter((p) => !declined.some((d) => d.peerId === p.peerId))
    await save({ participants: accepted.map(({ org, peerId }) => ({ org, peerId })), declined, round: 0 })
    if (declined.length > 0) {
      const why = declined.map((d) => `${d.org}: ${d.reason} [${d.code}]`).join('; ')
      throw new TooFewParticipantsError(`a vertical job needs every party; declined: ${why}`)
    }
    await ctx.audit.append(
      'vertical-job-accepted',
      { jobId, parties: parties.map((p) => `${p.org}:${p.role}`) },
      { actor: rt.transport.self }
    )

    const label = parties[0]!
    const summaryOf = (p: VerticalParticipant) => verticalSummaryFor(job, parties, p)
    const psi = await ask(
      rt,
      job,
      label,
      { v: VERTICAL_WIRE_VERSION, jobId, kind: 'psi', job: summaryOf(label) },
      ['started']
    )
    if ('error' in psi)
      throw new RoundFailedError(
        `${label.org} could not start the PSI: ${psi.error.message} [${psi.error.code}]`
      )
    const aligned = await waitFor(rt, job, parties, 'aligned', job.config.deadlines.trainMs)
    const sizes = new Set([...aligned.values()].map((s) => s.intersectionSize))
    if (sizes.size !== 1)
      throw new RoundFailedError(`the parties report different intersection sizes: ${[...sizes].join(', ')}`)
    const intersection = [...sizes][0] ?? 0
    const psiMs = performance.now() - t0
    rt.log(`job ${jobId}: PSI aligned ${intersection} customers across ${parties.length} parties`)
    await ctx.audit.append(
      'vertical-job-aligned',
      { jobId, intersectionSize: intersection },
      { actor: rt.transport.self }
    )

    // Feature parties first, so their handlers are up when the label party sends its plan.
    for (const group of [parties.slice(1), [label]]) {
      const started = await Promise.all(
        group.map((p) =>
          ask(rt, job, p, { v: VERTICAL_WIRE_VERSION, jobId, kind: 'train', job: summaryOf(p) }, ['started'])
        )
      )
      for (const s of started)
        if ('error' in s)
          throw new RoundFailedError(
            `${s.peer.org} could not start training: ${s.error.message} [${s.error.code}]`
          )
    }
    const done = await waitFor(rt, job, parties, 'done', job.config.deadlines.trainMs)
    const metrics: Metrics = {
      ...(done.get(label.org)?.metrics ?? {}),
      intersection,
      psiMs: Math.round(psiMs),
      totalMs: Math.round(performance.now() - t0)
    }
    await ctx.audit.append('vertical-job-completed', { jobId, metrics }, { actor: rt.transport.self })
    rt.log(
      `job ${jobId} completed: ${Object.entries(metrics)
        .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(4)}`)
        .join(' ')}`
    )
    await save({ status: 'completed', metrics })
    return job
  } catch (err) {
    await settleJobError({ rt, jobId, err, tell: (reason) => tellNodes(rt, job, parties, reason), save })
    return job
  }
}

async function tellNodes(
  rt: JobRuntime,
  job: JobRecord,
  parties: readonly VerticalParticipant[],
  reason: string
) {
  const body = encodeVertical({ v: VERTICAL_WIRE_VERSION, jobId: job.id, kind: 'cancel', reason })
  await Promise.all(
    parties.map((p) =>
      rt.ctx.transport
        .request(p.peerId, PROTOCOLS.verticalJob, body, { signal: AbortSignal.timeout(2_000) })
        .catch(() => undefined)
    )
  )
}
