import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { SSEStreamingApi } from 'hono/streaming'
import { z } from 'zod'
import { pathParams, queryParams } from '../../../platform/api/middleware/validate.ts'
import { JobNotFoundError } from '../../errors.ts'
import type { JobRecord, JobStatus, RoundRecord } from '../../jobs/types.ts'
import { FINAL_STATUSES } from '../../scheduler/job-scheduler.ts'
import type { JobEvent } from '../../scheduler/job-scheduler.ts'
import { JOB_ID_PATTERN } from '../../store/job-store.ts'
import { API_ACTOR } from '../context.ts'
import type { CoordinatorApiContext } from '../context.ts'
import { parseJobFile } from '../job-file.ts'
import { jobView } from '../views.ts'

const JobParam = z.object({ id: z.string().regex(JOB_ID_PATTERN, 'not a job id') })
const STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const
const ListQuery = z.object({
  /** Comma-separated statuses. */
  status: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined || s === '') return undefined
      const list = s.split(',').map((x) => x.trim())
      const bad = list.filter((x) => !(STATUSES as readonly string[]).includes(x))
      if (bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown status ${bad.join(', ')}; use ${STATUSES.join(', ')}`
        })
        return z.NEVER
      }
      return list as JobStatus[]
    })
})
const EventsQuery = z.object({
  /** Replay completed rounds after this one (0 = all). */
  after: z.coerce.number().int().min(0).default(0)
})

/** How often an idle event stream sends a comment, so proxies and clients see it is alive. */
export const EVENTS_HEARTBEAT_MS = 15_000

/** The `data` of a `round` event on `GET /v1/jobs/:id/events`. */
export interface RoundEventData {
  round: RoundRecord
  job: { id: string; status: JobStatus; round: number; rounds: number }
}

async function streamEvents(
  stream: SSEStreamingApi,
  ctx: CoordinatorApiContext,
  id: string,
  after: number
): Promise<void> {
  const { jobs } = ctx
  const pending: JobEvent[] = []
  let wake: (() => void) | undefined
  let closed = false
  const off = jobs.subscribe(id, (e) => {
    pending.push(e)
    wake?.()
  })
  stream.onAbort(() => {
    closed = true
    wake?.()
  })
  let last = after
  const writeRound = async (round: RoundRecord, job: JobRecord) => {
    if (round.round <= last) return
    last = round.round
    const data: RoundEventData = {
      round,
      job: { id: job.id, status: job.status, round: job.round, rounds: job.config.model.rounds }
    }
    await stream.writeSSE({ event: 'round', id: String(round.round), data: JSON.stringify(data) })
  }
  try {
    // Subscribed first, then read: an event in between is both stored and queued, and `last` dedupes it.
    for (const r of await jobs.store.listRounds(id)) await writeRound(r, (await jobs.store.getJob(id))!)
    let job = (await jobs.store.getJob(id))!
    await stream.writeSSE({ event: 'status', data: JSON.stringify(jobView(job)) })
    while (!closed && !FINAL_STATUSES.has(job.status)) {
      if (pending.length === 0) {
        const idle = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), EVENTS_HEARTBEAT_MS)
          wake = () => {
            clearTimeout(timer)
            resolve(false)
          }
        })
        wake = undefined
        if (idle && !closed) await stream.write(': keep-alive\n\n')
        continue
      }
      const e = pending.shift()!
      if (e.type === 'round') await writeRound(e.round, e.job)
      else if (e.job.status !== job.status || FINAL_STATUSES.has(e.job.status)) {
        job = e.job
        await stream.writeSSE({ event: 'status', data: JSON.stringify(jobView(job)) })
      } else job = e.job
    }
    if (!closed) await stream.writeSSE({ event: 'end', data: JSON.stringify(jobView(job)) })
  } finally {
    off()
  }
}

/**
 * `POST /` submit a job file (JSON or YAML body) → 201 `{ job }`; `GET /?status=` list;
 * `GET /:id`; `GET /:id/rounds`; `POST /:id/cancel`; `GET /:id/events?after=N`, a server-sent event
 * stream: `round` per completed round (replaying those after N first), `status` when the status
 * changes, and `end` with the final job, after which the server closes the stream.
 *
 * @example
 * app.route('/v1/jobs', jobsRoutes(ctx))
 */
export function jobsRoutes(ctx: CoordinatorApiContext): Hono {
  const { jobs } = ctx
  const mustGet = async (id: string) => {
    const job = await jobs.store.getJob(id)
    if (job === undefined) throw new JobNotFoundError(id)
    return job
  }
  return new Hono()
    .post('/', async (c) => {
      const config = parseJobFile(await c.req.text(), c.req.header('Content-Type') ?? '')
      const job = await jobs.submit(config, { actor: API_ACTOR })
      return c.json({ job: jobView(job) }, 201)
    })
    .get('/', queryParams(ListQuery), async (c) => {
      const { status } = c.req.valid('query')
      const list = await jobs.store.listJobs(status === undefined ? {} : { status })
      return c.json({ jobs: list.map(jobView) })
    })
    .get('/:id', pathParams(JobParam), async (c) => {
      return c.json({ job: jobView(await mustGet(c.req.valid('param').id)) })
    })
    .get('/:id/rounds', pathParams(JobParam), async (c) => {
      const { id } = c.req.valid('param')
      await mustGet(id)
      return c.json({ rounds: await jobs.store.listRounds(id) })
    })
    .post('/:id/cancel', pathParams(JobParam), async (c) => {
      const job = await jobs.cancel(c.req.valid('param').id, { actor: API_ACTOR })
      return c.json({ job: jobView(job) })
    })
    .get('/:id/events', pathParams(JobParam), queryParams(EventsQuery), async (c) => {
      const { id } = c.req.valid('param')
      const { after } = c.req.valid('query')
      await mustGet(id)
      return streamSSE(c, (stream) => streamEvents(stream, ctx, id, after))
    })
}
