import type { ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initNodeHome } from '../../node/home.ts'
import { addMember } from '../../platform/federation/manifest.ts'
import { freePort } from '../../simulations/demo/free-port.ts'
import { exited, REPO, runCli, startCli, until } from '../helpers/cli.ts'

/**
 * `cohort coordinator|job|model` as separate processes: a coordinator and two company nodes on
 * 127.0.0.1 over libp2p, jobs driven by the fake runner (tests/helpers/fake-run-job.ts, one round per
 * COHORT_FAKE_ROUND_MS), submitted, followed, cancelled and resumed after a kill -9.
 */
const FAKE_RUNNER = join(REPO, 'tests/helpers/fake-run-job.ts')
const ENV = { COHORT_FAKE_ROUND_MS: '250' }

const run = (args: string[], timeoutMs = 30_000) => runCli(args, { timeoutMs, env: ENV })
const start = (args: string[], ready: RegExp) => startCli(args, ready, 30_000, ENV)
const poll = <T>(what: string, fn: () => Promise<T | undefined>) => until(what, fn, 20_000, 150)

describe('cohort coordinator, job and model (separate processes)', () => {
  const root = mkdtempSync(join(tmpdir(), 'cohort-coord-e2e-'))
  const manifest = join(root, 'federation.json')
  const coordDir = join(root, 'coord')
  const nodes: Array<{ org: string; dir: string; child?: ChildProcess }> = [
    { org: 'bank-a', dir: join(root, 'bank-a') },
    { org: 'bank-b', dir: join(root, 'bank-b') }
  ]
  let coordinator: ChildProcess | undefined
  let token = ''

  const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const { url, token: session } = JSON.parse(readFileSync(join(coordDir, 'api.json'), 'utf8')) as {
      url: string
      token: string
    }
    const headers = { authorization: `Bearer ${session}`, 'content-type': 'application/json' }
    const res = await fetch(`${url}${path}`, { ...init, headers })
    return (await res.json()) as T
  }
  // Jobs the CLI has already been shown to submit go in over the API: each CLI process costs seconds.
  const submitOverApi = async (file: string) =>
    (await api<{ job: { id: string } }>('/v1/jobs', { method: 'POST', body: readFileSync(file, 'utf8') })).job
      .id
  const startCoordinator = async () => {
    const { child } = await start(
      ['coordinator', 'start', '--dir', coordDir, '--job-runner', FAKE_RUNNER],
      /coordinator API on/
    )
    coordinator = child
  }
  const jobFile = (name: string, rounds: number) => {
    const path = join(root, `${name}.json`)
    writeFileSync(
      path,
      JSON.stringify({
        name,
        model: { kind: 'logreg', rounds },
        data: { dataset: 'credit' },
        minParticipants: 2
      })
    )
    return path
  }

  beforeAll(async () => {
    const cAddr = `/ip4/127.0.0.1/tcp/${await freePort()}`
    const init = await run([
      'coordinator',
      'init',
      '--dir',
      coordDir,
      '--name',
      'coord',
      '--listen',
      cAddr,
      '--federation',
      manifest,
      '--json'
    ])
    expect(init.code).toBe(0)
    const c = JSON.parse(init.stdout) as { peerId: string; token: string }
    token = c.token
    // The rest of the set-up in-process (each CLI process costs seconds on a busy machine).
    addMember(manifest, { org: 'coord', peerId: c.peerId, multiaddrs: [cAddr], roles: ['coordinator'] })
    for (const n of nodes) {
      const addr = `/ip4/127.0.0.1/tcp/${await freePort()}`
      const r = await initNodeHome(n.dir, { name: n.org, listen: [addr], federation: manifest })
      addMember(manifest, { org: n.org, peerId: r.peerId, multiaddrs: [addr], roles: ['node'] })
    }
    await Promise.all([
      startCoordinator(),
      ...nodes.map(async (n) => {
        n.child = (await start(['node', 'start', '--dir', n.dir], /admin API on/)).child
      })
    ])
  })

  afterAll(async () => {
    for (const c of [coordinator, ...nodes.map((n) => n.child)])
      if (c !== undefined && c.exitCode === null) c.kill('SIGKILL')
    rmSync(root, { recursive: true, force: true })
  })

  it('starts, holds its lock, and sees both nodes connected', async () => {
    expect(statSync(join(coordDir, 'api.json')).mode & 0o777).toBe(0o600)
    const second = await run(['coordinator', 'start', '--dir', coordDir])
    expect(second.code).toBe(1)
    expect(second.stderr).toMatch(/in use by another process \(pid \d+\).*COHORT_COORDINATOR_LOCKED/)
    expect(second.stderr.trim().split('\n')).toHaveLength(1)
    const status = await poll('both nodes to connect', async () => {
      const s = await api<{ connected: number; nodes: Array<{ org: string; connected: boolean }> }>(
        '/v1/status'
      )
      return s.connected === 2 ? s : undefined
    })
    expect(status.nodes.map((n) => n.org)).toEqual(['bank-a', 'bank-b'])
    // The admin token printed by init works too, over --api.
    const { url } = JSON.parse(readFileSync(join(coordDir, 'api.json'), 'utf8')) as { url: string }
    const list = await run(['job', 'list', '--api', url, '--token', token, '--json'])
    expect(list.code).toBe(0)
    expect(JSON.parse(list.stdout)).toEqual([])
  })

  it('submits a job, follows it round by round to completion, and exports its model', async () => {
    const submit = await run(['job', 'submit', jobFile('risk', 4), '--dir', coordDir])
    expect(submit.code).toBe(0)
    const id = /submitted job (job-\S+)/.exec(submit.stdout)?.[1]
    expect(id).toBeDefined()
    const follow = await run(['job', 'follow', id!, '--dir', coordDir])
    expect(follow.code).toBe(0)
    const rounds = follow.stdout.split('\n').filter((l) => l.startsWith('round '))
    expect(rounds.map((l) => /^round\s+(\d+)\/4/.exec(l)?.[1])).toEqual(['1', '2', '3', '4'])
    expect(rounds[0]).toMatch(/auc 0\.51.*nodes 2\/2/)
    expect(follow.stdout).toMatch(/final metrics: auc 0\.54/)

    const status = await run(['job', 'status', id!, '--dir', coordDir, '--json'])
    const s = JSON.parse(status.stdout) as {
      job: { status: string; participants: Array<{ org: string }> }
      rounds: unknown[]
    }
    expect(s.job.status).toBe('completed')
    expect(s.job.participants.map((p) => p.org)).toEqual(['bank-a', 'bank-b'])
    expect(s.rounds).toHaveLength(4)

    const models = await run(['model', 'list', '--dir', coordDir, '--json'])
    expect((JSON.parse(models.stdout) as Array<{ jobId: string }>).map((m) => m.jobId)).toEqual([id])
    const out = join(root, 'model.json')
    const exp = await run(['model', 'export', id!, '--dir', coordDir, '--out', out])
    expect(exp.code).toBe(0)
    const doc = JSON.parse(readFileSync(out, 'utf8')) as { format: string; params: string; sha256: string }
    expect(doc.format).toBe('cohort-model/v1')
    expect(createHash('sha256').update(Buffer.from(doc.params, 'base64')).digest('hex')).toBe(doc.sha256)
    const again = await run(['model', 'export', id!, '--dir', coordDir, '--out', out])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/exists; pass --force/)
  })

  it('refuses an invalid job file with one line naming the bad field', async () => {
    const path = join(root, 'bad.yaml')
    writeFileSync(path, 'name: bad\nmodel:\n  kind: kmeans\ndata:\n  dataset: credit\n')
    const r = await run(['job', 'submit', path, '--dir', coordDir])
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/the job file is invalid: model\.k: .*\[COHORT_REQUEST_INVALID\]/)
  })

  it('cancels a running job; follow then exits non-zero', async () => {
    const id = await submitOverApi(jobFile('long', 100))
    await poll('the long job to run', async () => {
      const { job } = await api<{ job: { round: number } }>(`/v1/jobs/${id}`)
      return job.round >= 1 ? job : undefined
    })
    const cancel = await run(['job', 'cancel', id, '--dir', coordDir])
    expect(cancel.code).toBe(0)
    expect(cancel.stdout).toMatch(/cancelled after \d+ round/)
    const follow = await run(['job', 'follow', id, '--dir', coordDir])
    expect(follow.code).toBe(1)
    expect(follow.stderr).toMatch(/was cancelled \[COHORT_JOB_CANCELLED\]/)
  })

  it('after kill -9 mid-job, a restarted coordinator resumes from the last completed round', async () => {
    const id = await submitOverApi(jobFile('resume', 8))
    const before = await poll('two rounds', async () => {
      const { job } = await api<{ job: { round: number } }>(`/v1/jobs/${id}`)
      return job.round >= 2 ? job.round : undefined
    })
    coordinator!.kill('SIGKILL')
    await exited(coordinator!)
    await startCoordinator()
    const follow = await run(['job', 'follow', id, '--dir', coordDir], 40_000)
    expect(follow.code).toBe(0)
    const { job } = await api<{ job: { status: string; round: number } }>(`/v1/jobs/${id}`)
    const { rounds } = await api<{ rounds: Array<{ round: number }> }>(`/v1/jobs/${id}/rounds`)
    expect(job).toMatchObject({ status: 'completed', round: 8 })
    // Every round exactly once: none lost, none aggregated twice.
    expect(rounds.map((r) => r.round)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(before).toBeGreaterThanOrEqual(2)
    const audit = await api<{ entries: Array<{ kind: string; body: { jobId?: string; round?: number } }> }>(
      '/v1/audit?limit=1000'
    )
    const resumed = audit.entries.find((e) => e.kind === 'job-resumed' && e.body.jobId === id)
    expect(resumed?.body.round).toBeGreaterThanOrEqual(before)
    expect((await api<{ ok: boolean }>('/v1/audit/verify')).ok).toBe(true)
  })

  it('stops cleanly on SIGTERM, and the nodes logged the coordinator as an admitted peer', async () => {
    coordinator!.kill('SIGTERM')
    expect(await exited(coordinator!)).toBe(0)
    const info = await run(['coordinator', 'info', '--dir', coordDir])
    expect(info.code).toBe(0)
    expect((JSON.parse(info.stdout) as { name: string }).name).toBe('coord')
    for (const n of nodes) {
      n.child!.kill('SIGTERM')
      expect(await exited(n.child!)).toBe(0)
    }
    const list = await run(['audit', 'list', '--dir', nodes[0]!.dir, '--json'])
    const kinds = (JSON.parse(list.stdout) as Array<{ kind: string; body: { org?: string } }>).filter(
      (e) => e.kind === 'peer-admitted' && e.body.org === 'coord'
    )
    expect(kinds.length).toBeGreaterThanOrEqual(1)
  })
})
