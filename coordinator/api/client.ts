import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { CohortError } from '../../crypto/cohort-error.ts'
import type { CoordinatorStatus } from '../coordinator.ts'
import { COORDINATOR_FILES } from '../home.ts'
import type { ModelRecord, RoundRecord } from '../jobs/types.ts'
import type { ModelSummary } from '../store/job-store.ts'
import type { RoundEventData } from './routes/jobs.ts'
import type { JobView } from './views.ts'

/** One event of `GET /v1/jobs/:id/events`. */
export type JobStreamEvent =
  | { event: 'round'; data: RoundEventData }
  | { event: 'status'; data: JobView }
  | { event: 'end'; data: JobView }

/** A client of the coordinator's API; errors carry the server's `code` and message. */
export interface CoordinatorClient {
  readonly url: string
  submit(text: string, mediaType: string): Promise<JobView>
  list(status?: readonly string[]): Promise<JobView[]>
  get(id: string): Promise<JobView>
  rounds(id: string): Promise<RoundRecord[]>
  cancel(id: string): Promise<JobView>
  /** The job's event stream until its `end` event (or the signal aborts). */
  events(id: string, options?: { after?: number; signal?: AbortSignal }): AsyncIterable<JobStreamEvent>
  models(jobId?: string): Promise<ModelSummary[]>
  model(jobId: string, version?: number): Promise<ModelRecord>
  status(): Promise<CoordinatorStatus>
}

/** Where the API is: an explicit URL and token, or a coordinator directory's `api.json`. */
export interface EndpointOptions {
  api?: string
  token?: string
  dir?: string
}

/**
 * Resolves the API URL and token: `--api` with `--token` (or `COHORT_TOKEN`), or `--dir` of a running
 * coordinator, whose `api.json` (mode 0600) holds the URL and a per-start session token.
 *
 * @example
 * const { url, token } = resolveEndpoint({ dir: '/var/lib/cohort-coord' })
 */
export function resolveEndpoint(
  o: EndpointOptions,
  env: NodeJS.ProcessEnv = process.env
): { url: string; token: string } {
  if (o.api !== undefined) {
    const token = o.token ?? env.COHORT_TOKEN
    if (token === undefined || token === '')
      throw new CohortError('--api needs --token TOKEN (or COHORT_TOKEN in the environment)', 'COHORT_USAGE')
    return { url: o.api, token }
  }
  if (o.dir === undefined)
    throw new CohortError('say which coordinator: --dir DIR, or --api URL with --token TOKEN', 'COHORT_USAGE')
  const path = join(resolve(o.dir), COORDINATOR_FILES.endpoint)
  if (!existsSync(path))
    throw new CohortError(
      `no coordinator is running in ${resolve(o.dir)} (no ${COORDINATOR_FILES.endpoint}); start it with "cohort coordinator start --dir ${o.dir}"`,
      'COHORT_COORDINATOR_NOT_RUNNING'
    )
  let endpoint: { url?: unknown; token?: unknown }
  try {
    endpoint = JSON.parse(readFileSync(path, 'utf8')) as { url?: unknown; token?: unknown }
  } catch (err) {
    throw new CohortError(`cannot read ${path}: ${(err as Error).message}`, 'COHORT_COORDINATOR_NOT_RUNNING')
  }
  if (typeof endpoint.url !== 'string' || typeof endpoint.token !== 'string')
    throw new CohortError(
      `${path} has no url and token; restart the coordinator`,
      'COHORT_COORDINATOR_NOT_RUNNING'
    )
  return { url: endpoint.url, token: o.token ?? endpoint.token }
}

async function* parseEventStream(
  body: ReadableStream<Uint8Array>
): AsyncIterable<{ event: string; data: string }> {
  const decoder = new TextDecoder()
  let buffer = ''
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n')
    let cut = buffer.indexOf('\n\n')
    while (cut >= 0) {
      const block = buffer.slice(0, cut)
      buffer = buffer.slice(cut + 2)
      cut = buffer.indexOf('\n\n')
      let event = 'message'
      const data: string[] = []
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim()
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
      }
      if (data.length > 0) yield { event, data: data.join('\n') }
    }
  }
}

/**
 * A client of the coordinator's API over HTTP (`fetch`).
 *
 * @example
 * const client = coordinatorClient(url, token)
 * const job = await client.submit(readFileSync('job.yaml', 'utf8'), 'application/yaml')
 * for await (const e of client.events(job.id)) console.log(e.event)
 */
export function coordinatorClient(baseUrl: string, token: string): CoordinatorClient {
  async function send(
    method: string,
    path: string,
    init: { body?: string; type?: string; signal?: AbortSignal } = {}
  ) {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` }
    if (init.type !== undefined) headers['content-type'] = init.type
    let res: Response
    try {
      res = await fetch(new URL(path, baseUrl), {
        method,
        headers,
        body: init.body,
        signal: init.signal ?? AbortSignal.timeout(60_000)
      })
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err
      const cause = (err as { cause?: { code?: string } }).cause?.code
      throw new CohortError(
        `cannot reach the coordinator at ${baseUrl} (${cause ?? (err as Error).message}); is it running?`,
        'COHORT_COORDINATOR_UNREACHABLE'
      )
    }
    if (!res.ok) {
      const text = await res.text()
      let err: { code?: string; message?: string } | undefined
      try {
        err = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error
      } catch {}
      throw new CohortError(
        err?.message ?? `HTTP ${res.status} from ${method} ${path}`,
        err?.code ?? 'COHORT_API_ERROR'
      )
    }
    return res
  }
  const json = async <T>(method: string, path: string, init?: { body?: string; type?: string }) =>
    (await (await send(method, path, init)).json()) as T
  const enc = encodeURIComponent

  return {
    url: baseUrl,
    async submit(text, mediaType) {
      return (await json<{ job: JobView }>('POST', '/v1/jobs', { body: text, type: mediaType })).job
    },
    async list(status) {
      const q = status === undefined || status.length === 0 ? '' : `?status=${enc(status.join(','))}`
      return (await json<{ jobs: JobView[] }>('GET', `/v1/jobs${q}`)).jobs
    },
    async get(id) {
      return (await json<{ job: JobView }>('GET', `/v1/jobs/${enc(id)}`)).job
    },
    async rounds(id) {
      return (await json<{ rounds: RoundRecord[] }>('GET', `/v1/jobs/${enc(id)}/rounds`)).rounds
    },
    async cancel(id) {
      return (await json<{ job: JobView }>('POST', `/v1/jobs/${enc(id)}/cancel`)).job
    },
    async *events(id, options = {}) {
      const signal = options.signal ?? new AbortController().signal
      const res = await send('GET', `/v1/jobs/${enc(id)}/events?after=${options.after ?? 0}`, { signal })
      for await (const e of parseEventStream(res.body!)) {
        if (e.event !== 'round' && e.event !== 'status' && e.event !== 'end') continue
        const event = { event: e.event, data: JSON.parse(e.data) } as JobStreamEvent
        yield event
        if (event.event === 'end') return
      }
    },
    async models(jobId) {
      return (
        await json<{ models: ModelSummary[] }>(
          'GET',
          `/v1/models${jobId === undefined ? '' : `?job=${enc(jobId)}`}`
        )
      ).models
    },
    async model(jobId, version) {
      const q = version === undefined ? '' : `?version=${version}`
      return (await json<{ model: ModelRecord }>('GET', `/v1/models/${enc(jobId)}${q}`)).model
    },
    status: () => json<CoordinatorStatus>('GET', '/v1/status')
  }
}
