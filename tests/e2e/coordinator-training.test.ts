import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initCoordinatorHome } from '../../coordinator/home.ts'
import { importDataset } from '../../node/data/import.ts'
import { loadDatasetSpec } from '../../node/data/spec.ts'
import { initNodeHome, openNodeHome } from '../../node/home.ts'
import { readPolicy, writePolicy } from '../../node/policy/policy-store.ts'
import { addMember } from '../../platform/federation/manifest.ts'
import { freePort } from '../../simulations/demo/free-port.ts'
import { writePartyCsv } from '../../simulations/demo/party-csv.ts'
import { exited, REPO, runCli, startCli, until } from '../helpers/cli.ts'

/**
 * The real job runner end to end, every party a separate process: a coordinator and three lenders
 * holding the natural split of credit_data train a logistic regression through SecAgg+, the
 * coordinator is killed (-9) mid-job and resumes, a node whose policy caps ε below the job's
 * declines with a reason the user sees, and each node scores its own customers locally.
 */
const DATASET = join(REPO, 'datasets/credit_data')

const run = (args: string[]) => runCli(args, { timeoutMs: 45_000 })
const start = async (args: string[], ready: RegExp) => (await startCli(args, ready)).child

describe('training jobs with the real runner (separate processes, credit_data natural split)', () => {
  const root = mkdtempSync(join(tmpdir(), 'cohort-train-e2e-'))
  const manifest = join(root, 'federation.json')
  const coordDir = join(root, 'coord')
  const partition = JSON.parse(
    readFileSync(join(DATASET, 'partitions/horizontal_natural.json'), 'utf8')
  ) as Record<string, number[]>
  const nodes = Object.keys(partition).map((org) => ({
    org,
    dir: join(root, org),
    child: undefined as ChildProcess | undefined
  }))
  let coordinator: ChildProcess | undefined
  let firstJob = ''

  // Besides the CLI calls under test, the API directly: each CLI process costs seconds on a busy machine.
  const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const { url, token } = JSON.parse(readFileSync(join(coordDir, 'api.json'), 'utf8')) as {
      url: string
      token: string
    }
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    return (await (await fetch(`${url}${path}`, { ...init, headers })).json()) as T
  }
  const startCoordinator = async () => {
    coordinator = await start(['coordinator', 'start', '--dir', coordDir], /coordinator API on/)
  }
  const jobFile = (name: string, rounds: number) => {
    const path = join(root, `${name}.json`)
    const job = {
      name,
      model: { kind: 'logreg', rounds, localEpochs: 2 },
      data: { dataset: 'credit' },
      minParticipants: 3
    }
    writeFileSync(path, JSON.stringify(job))
    return path
  }

  beforeAll(async () => {
    const cAddr = `/ip4/127.0.0.1/tcp/${await freePort()}`
    const c = await initCoordinatorHome(coordDir, { name: 'coord', listen: [cAddr], federation: manifest })
    addMember(
      manifest,
      { org: 'coord', peerId: c.peerId, multiaddrs: [cAddr], roles: ['coordinator'] },
      { federation: 'lenders' }
    )
    const schema = loadDatasetSpec(join(DATASET, 'spec.json'))
    for (const [i, n] of nodes.entries()) {
      const addr = `/ip4/127.0.0.1/tcp/${await freePort()}`
      const r = await initNodeHome(n.dir, { name: n.org, listen: [addr], federation: manifest })
      addMember(manifest, { org: n.org, peerId: r.peerId, multiaddrs: [addr], roles: ['node'] })
      const csv = join(root, `${n.org}.csv`)
      await writePartyCsv(join(DATASET, 'data.csv'), partition[n.org]!, csv)
      const home = await openNodeHome(n.dir)
      try {
        await importDataset(home, { name: 'credit', schema, csv, actor: 'cli' })
        const current = await readPolicy(home.store, home.config.policy)
        // The third lender caps epsilon at 0.5; every lender lets this federation train without DP.
        const policy = {
          ...current,
          federations: ['lenders'],
          minNoiseMultiplier: 0,
          epsilonCap: i === 2 ? 0.5 : 1
        }
        await writePolicy(home.store, home.audit, current, policy, 'cli')
      } finally {
        await home.close()
      }
    }
    await Promise.all([
      startCoordinator(),
      ...nodes.map(async (n) => {
        n.child = await start(['node', 'start', '--dir', n.dir], /admin API on/)
      })
    ])
    await until('three connected nodes', async () => {
      const s = await api<{ connected: number }>('/v1/status')
      return s.connected === 3 ? s : undefined
    })
  })

  afterAll(async () => {
    for (const c of [coordinator, ...nodes.map((n) => n.child)])
      if (c !== undefined && c.exitCode === null) c.kill('SIGKILL')
    rmSync(root, { recursive: true, force: true })
  })

  it('trains a logistic regression through SecAgg+ and prints progress per round', async () => {
    const r = await run(['job', 'submit', jobFile('risk', 4), '--dir', coordDir, '--follow'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    firstJob = /submitted job (job-\S+)/.exec(r.stdout)![1]!
    const rounds = r.stdout.split('\n').filter((l) => l.startsWith('round '))
    expect(rounds).toHaveLength(4)
    for (const line of rounds)
      expect(line).toMatch(/auc 0\.\d+ {2}ks 0\.\d+ {2}accuracy 0\.\d+ {2}logloss \d\.\d+ {2}nodes 3\/3/)
    const auc = Number(/final metrics: auc (0\.\d+)/.exec(r.stdout)?.[1])
    expect(auc).toBeGreaterThan(0.78)
    const { models } = await api<{ models: Array<{ jobId: string; kind: string }> }>('/v1/models')
    expect(models).toMatchObject([{ jobId: firstJob, kind: 'logreg' }])
  })

  it('a node whose policy caps epsilon below the job declines, and the user sees why', async () => {
    const r = await run([
      'job',
      'submit',
      join(REPO, 'configs/examples/logreg-credit-dp.yaml'),
      '--dir',
      coordDir,
      '--follow'
    ])
    expect(r.code).toBe(1)
    const declined = r.stdout.split('\n').filter((l) => l.includes('declined'))
    expect(declined).toHaveLength(1)
    expect(declined[0]).toMatch(
      new RegExp(`^  ${nodes[2]!.org} declined \\(round 0\\): .*\\[COHORT_[A-Z_]+\\]$`)
    )
    expect(r.stderr).toMatch(/failed: .*\[COHORT_NOT_ENOUGH_PARTICIPANTS\]/)
  })

  it('after kill -9 mid-job the restarted coordinator finishes it with every round exactly once', async () => {
    const body = readFileSync(jobFile('resume', 12), 'utf8')
    const { id } = (await api<{ job: { id: string } }>('/v1/jobs', { method: 'POST', body })).job
    const killedAfter = await until('three rounds', async () => {
      const { job } = await api<{ job: { round: number } }>(`/v1/jobs/${id}`)
      return job.round >= 3 ? job.round : undefined
    })
    coordinator!.kill('SIGKILL')
    await exited(coordinator!)
    await startCoordinator()
    const follow = await run(['job', 'follow', id, '--dir', coordDir])
    expect(follow.code).toBe(0)
    const { job } = await api<{ job: { status: string; round: number } }>(`/v1/jobs/${id}`)
    const { rounds } = await api<{ rounds: Array<{ round: number }> }>(`/v1/jobs/${id}/rounds`)
    expect(job).toMatchObject({ status: 'completed', round: 12 })
    expect(rounds.map((x) => x.round)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1))
    expect(killedAfter).toBeLessThan(12)
  })

  it('each node scores its own customers locally with the published model', async () => {
    for (const n of nodes) n.child!.kill('SIGTERM')
    for (const n of nodes) expect(await exited(n.child!)).toBe(0)
    const out = join(root, 'scores.csv')
    const r = await run(['score', '--dir', nodes[0]!.dir, '--model', firstJob, '--out', out])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const lines = readFileSync(out, 'utf8').trim().split('\n')
    expect(lines[0]).toBe('id,risk')
    expect(lines).toHaveLength(partition[nodes[0]!.org]!.length + 1)
    const risks = lines.slice(1).map((l) => Number(l.split(',')[1]))
    expect(risks.every((p) => p > 0 && p < 1)).toBe(true)
    const audit = JSON.parse(
      (await run(['audit', 'list', '--dir', nodes[0]!.dir, '--limit', '100000', '--json'])).stdout
    ) as Array<{ kind: string }>
    const kinds = audit.map((e) => e.kind)
    expect(kinds).toContain('model-received')
    expect(kinds.at(-1)).toBe('dataset-scored')
  })
})
