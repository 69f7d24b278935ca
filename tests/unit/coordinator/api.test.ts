import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify as toYaml } from 'yaml'
import { createCoordinatorApp } from '../../../coordinator/api/app.ts'
import { initCoordinatorHome, openCoordinatorHome } from '../../../coordinator/home.ts'
import type { CoordinatorHome } from '../../../coordinator/home.ts'
import { createJobScheduler } from '../../../coordinator/scheduler/job-scheduler.ts'
import type { JobScheduler } from '../../../coordinator/scheduler/job-scheduler.ts'
import { createJobStore } from '../../../coordinator/store/job-store.ts'
import { hashToken, newToken } from '../../../platform/api/token.ts'
import type { Transport } from '../../../protocols/transport.ts'
import { fakeRunJob } from '../../helpers/fake-run-job.ts'
import { manifestWith } from './fixtures.ts'

interface ErrorBody {
  error: { code: string; message: string; details?: { issues?: Array<{ path: string; message: string }> } }
}

const JOB = {
  name: 'risk',
  model: { kind: 'logreg', rounds: 3 },
  data: { dataset: 'credit' },
  minParticipants: 2
}

/** Reads a server-sent event stream to its end: [{ event, data }]. */
async function readEvents(res: Response): Promise<Array<{ event: string; data: unknown }>> {
  const text = await res.text()
  return text
    .split('\n\n')
    .filter((block) => block.includes('data:'))
    .map((block) => {
      const lines = block.split('\n')
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message'
      const data = lines
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n')
      return { event, data: JSON.parse(data) as unknown }
    })
}

describe('coordinator API', () => {
  const root = mkdtempSync(join(tmpdir(), 'cohort-coord-api-'))
  let home: CoordinatorHome
  let jobs: JobScheduler
  let app: Hono
  let auth: Record<string, string>
  const session = newToken()
  const logs: string[] = []

  beforeAll(async () => {
    const init = await initCoordinatorHome(join(root, 'coord'), { name: 'coordinator' })
    home = await openCoordinatorHome(init.dir)
    const manifest = await manifestWith(3, init.peerId)
    jobs = createJobScheduler({
      store: createJobStore(home.store),
      runJob: fakeRunJob({ roundMs: 30 }),
      transport: { self: init.peerId } as unknown as Transport,
      manifest: () => manifest,
      audit: home.audit
    })
    await jobs.start()
    app = createCoordinatorApp({
      home,
      jobs,
      status: () => ({
        name: 'coordinator',
        peerId: init.peerId,
        federation: manifest.federation,
        addrs: [],
        nodes: [],
        connected: 0,
        jobs: { running: jobs.running(), queued: jobs.queued(), runner: jobs.runner() }
      }),
      sessionTokenSha256: hashToken(session),
      log: (l) => logs.push(l)
    })
    auth = { Authorization: `Bearer ${init.token}` }
  })
  afterAll(async () => {
    await jobs.stop()
    await home.close()
    rmSync(root, { recursive: true, force: true })
  })

  const submit = (body: string, type = 'application/json', headers = auth) =>
    app.request('/v1/jobs', { method: 'POST', headers: { ...headers, 'Content-Type': type }, body })

  it('GET /health is open; /v1 needs the admin token or the session token', async () => {
    const health = await app.request('/health')
    expect(await health.json()).toMatchObject({ ok: true, role: 'coordinator', name: 'coordinator' })
    const anon = await app.request('/v1/jobs')
    expect(anon.status).toBe(401)
    expect(anon.headers.get('www-authenticate')).toBe('Bearer realm="cohort-coordinator"')
    expect(((await anon.json()) as ErrorBody).error.code).toBe('COHORT_UNAUTHORIZED')
    const wrong = await app.request('/v1/jobs', { headers: { Authorization: `Bearer ${newToken()}` } })
    expect(wrong.status).toBe(401)
    expect((await app.request('/v1/jobs', { headers: auth })).status).toBe(200)
    expect((await app.request('/v1/jobs', { headers: { Authorization: `Bearer ${session}` } })).status).toBe(
      200
    )
  })

  it('submits a JSON job file, runs it, and serves it, its rounds and its model', async () => {
    const res = await submit(JSON.stringify(JOB))
    expect(res.status).toBe(201)
    const { job } = (await res.json()) as { job: { id: string; status: string; rounds: number } }
    expect(job).toMatchObject({ status: 'pending', rounds: 3 })
    expect(job).not.toHaveProperty('global')
    await jobs.settled(job.id)

    const got = (await (await app.request(`/v1/jobs/${job.id}`, { headers: auth })).json()) as {
      job: Record<string, unknown>
    }
    expect(got.job).toMatchObject({ id: job.id, status: 'completed', round: 3 })
    expect(got.job).not.toHaveProperty('global')
    const rounds = (await (await app.request(`/v1/jobs/${job.id}/rounds`, { headers: auth })).json()) as {
      rounds: Array<{ round: number }>
    }
    expect(rounds.rounds.map((r) => r.round)).toEqual([1, 2, 3])
    const models = (await (await app.request(`/v1/models?job=${job.id}`, { headers: auth })).json()) as {
      models: Array<Record<string, unknown>>
    }
    expect(models.models).toHaveLength(1)
    expect(models.models[0]).not.toHaveProperty('params')
    const model = (await (await app.request(`/v1/models/${job.id}`, { headers: auth })).json()) as {
      model: { params: string; version: number }
    }
    expect(model.model.version).toBe(1)
    expect(new Float64Array(new Uint8Array(Buffer.from(model.model.params, 'base64')).buffer)).toEqual(
      new Float64Array([3, 1.5])
    )
    const list = (await (await app.request('/v1/jobs?status=completed', { headers: auth })).json()) as {
      jobs: Array<{ id: string }>
    }
    expect(list.jobs.map((j) => j.id)).toContain(job.id)
  })

  it('takes YAML job files too', async () => {
    const res = await submit(toYaml(JOB), 'application/yaml')
    expect(res.status).toBe(201)
    const { job } = (await res.json()) as { job: { id: string } }
    await jobs.settled(job.id)
  })

  it('refuses an invalid job file with 400 and the zod issues, naming the bad fields', async () => {
    const res = await submit(JSON.stringify({ ...JOB, model: { kind: 'kmeans' }, dp: { clipNorm: 1 } }))
    expect(res.status).toBe(400)
    const { error } = (await res.json()) as ErrorBody
    expect(error.code).toBe('COHORT_REQUEST_INVALID')
    expect(error.message).toMatch(/^the job file is invalid: /)
    expect(error.message).toContain('model.k')
    const paths = error.details!.issues!.map((i) => i.path)
    expect(paths).toContain('model.k')
    expect(paths.some((p) => p.startsWith('dp'))).toBe(true)
  })

  it('refuses unparsable files, other media types, and jobs that do not fit the federation', async () => {
    const badJson = await submit('{ nope')
    expect(badJson.status).toBe(400)
    expect(((await badJson.json()) as ErrorBody).error.message).toMatch(/not valid JSON/)
    const badYaml = await submit('a: [1, 2', 'text/yaml')
    expect(badYaml.status).toBe(400)
    expect(((await badYaml.json()) as ErrorBody).error.message).toMatch(/not valid YAML/)
    const csv = await submit('a,b', 'text/csv')
    expect(csv.status).toBe(415)
    expect(((await csv.json()) as ErrorBody).error.code).toBe('COHORT_UNSUPPORTED_MEDIA_TYPE')
    const unknownOrg = await submit(JSON.stringify({ ...JOB, participants: ['bank-a', 'acme'] }))
    expect(unknownOrg.status).toBe(400)
    const err = ((await unknownOrg.json()) as ErrorBody).error
    expect(err.code).toBe('COHORT_JOB_INVALID')
    expect(err.message).toContain('acme')
  })

  it('an unauthenticated submit is refused before anything is stored', async () => {
    const before = (await jobs.store.listJobs()).length
    const res = await submit(JSON.stringify(JOB), 'application/json', {})
    expect(res.status).toBe(401)
    expect((await jobs.store.listJobs()).length).toBe(before)
  })

  it('cancels a job (409 once it has ended) and answers 404 for unknown jobs and models', async () => {
    const { job } = (await (
      await submit(JSON.stringify({ ...JOB, model: { kind: 'logreg', rounds: 50 } }))
    ).json()) as {
      job: { id: string }
    }
    const cancel = await app.request(`/v1/jobs/${job.id}/cancel`, { method: 'POST', headers: auth })
    expect(cancel.status).toBe(200)
    expect(((await cancel.json()) as { job: { status: string } }).job.status).toBe('cancelled')
    const again = await app.request(`/v1/jobs/${job.id}/cancel`, { method: 'POST', headers: auth })
    expect(again.status).toBe(409)
    expect(((await again.json()) as ErrorBody).error.code).toBe('COHORT_JOB_FINISHED')
    for (const path of ['/v1/jobs/job-nope', '/v1/jobs/job-nope/rounds', '/v1/jobs/job-nope/events']) {
      const res = await app.request(path, { headers: auth })
      expect(res.status).toBe(404)
      expect(((await res.json()) as ErrorBody).error.code).toBe('COHORT_JOB_NOT_FOUND')
    }
    const model = await app.request('/v1/models/job-nope', { headers: auth })
    expect(model.status).toBe(404)
    expect(((await model.json()) as ErrorBody).error.code).toBe('COHORT_MODEL_NOT_FOUND')
    const badId = await app.request('/v1/jobs/bad!id', { headers: auth })
    expect(badId.status).toBe(400)
    const badStatus = await app.request('/v1/jobs?status=done', { headers: auth })
    expect(badStatus.status).toBe(400)
  })

  it('streams a job: every round once, then end; replays from ?after=', async () => {
    const { job } = (await (await submit(JSON.stringify(JOB))).json()) as { job: { id: string } }
    const live = await readEvents(await app.request(`/v1/jobs/${job.id}/events`, { headers: auth }))
    const rounds = live
      .filter((e) => e.event === 'round')
      .map((e) => (e.data as { round: { round: number } }).round.round)
    expect(rounds).toEqual([1, 2, 3])
    expect(live.at(-1)).toMatchObject({ event: 'end', data: { id: job.id, status: 'completed', round: 3 } })
    const replay = await readEvents(await app.request(`/v1/jobs/${job.id}/events?after=2`, { headers: auth }))
    expect(replay.map((e) => e.event)).toEqual(['round', 'status', 'end'])
    expect((replay[0]!.data as { round: { round: number } }).round.round).toBe(3)
  })

  it('GET /v1/status answers from the running coordinator', async () => {
    const res = await app.request('/v1/status', { headers: auth })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ name: 'coordinator', jobs: { runner: 'installed' } })
    const stopped = createCoordinatorApp({ home, jobs, log: () => {} })
    const r2 = await stopped.request('/v1/status', { headers: auth })
    expect(r2.status).toBe(503)
    expect(((await r2.json()) as ErrorBody).error.code).toBe('COHORT_COORDINATOR_NOT_RUNNING')
  })

  it('audit-logs API writes and serves a verifiable audit log', async () => {
    const page = (await (await app.request('/v1/audit?limit=1000', { headers: auth })).json()) as {
      entries: Array<{ kind: string; actor: string; body: { path?: string } }>
    }
    const kinds = page.entries.map((e) => e.kind)
    expect(kinds[0]).toBe('coordinator-initialized')
    expect(kinds).toContain('job-submitted')
    const writes = page.entries.filter((e) => e.kind === 'api-write')
    expect(writes.length).toBeGreaterThanOrEqual(4)
    expect(writes.every((e) => e.actor === 'coordinator-api')).toBe(true)
    expect(page.entries.find((e) => e.kind === 'job-submitted')?.actor).toBe('coordinator-api')
    const verify = (await (await app.request('/v1/audit/verify', { headers: auth })).json()) as {
      ok: boolean
    }
    expect(verify.ok).toBe(true)
  })
})
