import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initCoordinatorHome } from '../../coordinator/home.ts'
import { importDataset } from '../../node/data/import.ts'
import { loadDatasetSpec } from '../../node/data/spec.ts'
import { initNodeHome, openNodeHome } from '../../node/home.ts'
import { readPolicy, writePolicy } from '../../node/policy/policy-store.ts'
import { addMember } from '../../platform/federation/manifest.ts'
import { exactAuc } from '../../protocols/evaluation/exact-metrics.ts'
import { freePort } from '../../simulations/demo/free-port.ts'
import { exited, REPO, runCli, startCli, until } from '../helpers/cli.ts'

/**
 * A vertical job as deployed, every party a `cohort ... start` process over libp2p on 127.0.0.1: the
 * three parties of datasets/credit_data/partitions/vertical.json each import only their own columns
 * of only the customers vertical_overlap.json gives them, with a spec they wrote for those columns.
 * The coordinator runs configs/examples/vertical-logreg-credit.yaml (PSI, then CKKS training); the
 * stopped lender scores the aligned customers with the feature nodes serving partial scores; local
 * `cohort score` refuses the vertical slice; a feature node's audit shows what it released.
 */
const DATASET = join(REPO, 'datasets/credit_data')
const JOB_FILE = join(REPO, 'configs/examples/vertical-logreg-credit.yaml')
const CLI_TIMEOUT = 100_000
const poll = <T>(what: string, fn: () => Promise<T | undefined>) => until(what, fn, 45_000)

/** The minimal spec (docs/datasets.md) of a party holding `columns` of credit_data. */
function partySpec(columns: readonly string[], full: Record<string, unknown>): object {
  const spec = full as {
    target: { column: string; positive_label: string; levels: string[] }
    columns: Array<{ name: string; encoding: string; levels?: string[] }>
  }
  const out: Array<Record<string, unknown>> = []
  for (const name of columns) {
    if (name === 'uid' || name === spec.target.column) continue
    const c = spec.columns.find((x) => x.name === name)!
    out.push(
      c.encoding === 'numeric' ? { name, type: 'number' } : { name, type: 'category', levels: c.levels }
    )
  }
  return {
    id: 'uid',
    index: 'row_index',
    columns: out,
    split: { modulus: 5, test: 0 },
    ...(columns.includes(spec.target.column)
      ? {
          target: {
            column: spec.target.column,
            levels: spec.target.levels,
            positive: spec.target.positive_label
          }
        }
      : {})
  }
}

/** data.csv cut to `columns` (plus row_index, which the split rule reads) and the rows of `uids`. */
function partyCsv(lines: readonly string[], columns: readonly string[], uids: ReadonlySet<string>): string {
  const header = lines[0]!.split(',')
  const keep = ['row_index', ...columns].map((c) => header.indexOf(c))
  const uid = header.indexOf('uid')
  const out = [keep.map((i) => header[i]).join(',')]
  for (const line of lines.slice(1)) {
    const f = line.split(',')
    if (uids.has(f[uid]!)) out.push(keep.map((i) => f[i]).join(','))
  }
  return `${out.join('\n')}\n`
}

describe('a vertical job as deployed (separate processes, credit_data vertical split)', () => {
  const root = mkdtempSync(join(tmpdir(), 'cohort-vertical-e2e-'))
  const manifest = join(root, 'federation.json')
  const coordDir = join(root, 'coord')
  const groups = JSON.parse(readFileSync(join(DATASET, 'partitions/vertical.json'), 'utf8')) as Record<
    string,
    string[]
  >
  const overlap = JSON.parse(
    readFileSync(join(DATASET, 'partitions/vertical_overlap.json'), 'utf8')
  ) as Record<string, string[]>
  const lines = readFileSync(join(DATASET, 'data.csv'), 'utf8').trim().split('\n')
  const sets = Object.values(overlap).map((ids) => new Set(ids))
  const shared = [...sets[0]!].filter((id) => sets.every((s) => s.has(id)))
  const nodes = Object.keys(groups).map((org) => ({
    org,
    dir: join(root, org),
    token: '',
    child: undefined as ChildProcess | undefined
  }))
  const lender = nodes.find((n) => n.org === 'lender')!
  const children: ChildProcess[] = []
  let jobId = ''

  const api = async <T>(dir: string, path: string, token?: string): Promise<T> => {
    const f = JSON.parse(readFileSync(join(dir, 'api.json'), 'utf8')) as { url: string; token?: string }
    const res = await fetch(`${f.url}${path}`, {
      headers: { authorization: `Bearer ${token ?? f.token}` }
    })
    return (await res.json()) as T
  }

  beforeAll(async () => {
    const t0 = performance.now()
    const cAddr = `/ip4/127.0.0.1/tcp/${await freePort()}`
    const c = await initCoordinatorHome(coordDir, { name: 'coord', listen: [cAddr], federation: manifest })
    addMember(
      manifest,
      { org: 'coord', peerId: c.peerId, multiaddrs: [cAddr], roles: ['coordinator'] },
      { federation: 'credit-vertical' }
    )
    const full = JSON.parse(readFileSync(join(DATASET, 'spec.json'), 'utf8')) as Record<string, unknown>
    for (const n of nodes) {
      const addr = `/ip4/127.0.0.1/tcp/${await freePort()}`
      const r = await initNodeHome(n.dir, { name: n.org, listen: [addr], federation: manifest })
      n.token = r.token
      addMember(manifest, { org: n.org, peerId: r.peerId, multiaddrs: [addr], roles: ['node'] })
      const csv = join(root, `${n.org}.csv`)
      const specPath = join(root, `${n.org}.spec.json`)
      writeFileSync(csv, partyCsv(lines, groups[n.org]!, new Set(overlap[n.org])))
      writeFileSync(specPath, JSON.stringify(partySpec(groups[n.org]!, full)))
      const home = await openNodeHome(n.dir)
      try {
        const imported = await importDataset(home, {
          name: 'credit',
          schema: loadDatasetSpec(specPath),
          csv,
          actor: 'cli'
        })
        expect(imported.manifest.rows).toBe(overlap[n.org]!.length)
        const current = await readPolicy(home.store, home.config.policy)
        const policy = { ...current, federations: ['credit-vertical'], minNoiseMultiplier: 0 }
        await writePolicy(home.store, home.audit, current, policy, 'cli')
      } finally {
        await home.close()
      }
    }
    await Promise.all([
      startCli(['coordinator', 'start', '--dir', coordDir], /coordinator API on/, 60_000).then((p) =>
        children.push(p.child)
      ),
      ...nodes.map(async (n) => {
        const p = await startCli(['node', 'start', '--dir', n.dir], /admin API on/, 60_000)
        n.child = p.child
        children.push(p.child)
      })
    ])
    await poll('three connected nodes', async () => {
      const s = await api<{ connected: number }>(coordDir, '/v1/status')
      return s.connected >= 3 ? s : undefined
    })
    console.log(`vertical e2e setup: ${(performance.now() - t0).toFixed(0)} ms`)
  }, 120_000)

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    rmSync(root, { recursive: true, force: true })
  })

  it('trains the example job: PSI over the parties, then the model, with the metrics printed', async () => {
    const t0 = performance.now()
    const r = await runCli(['job', 'submit', JOB_FILE, '--dir', coordDir, '--follow'], {
      timeoutMs: CLI_TIMEOUT
    })
    console.log(`vertical e2e job: ${(performance.now() - t0).toFixed(0)} ms\n${r.stdout}`)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    jobId = /submitted job (job-\S+)/.exec(r.stdout)![1]!
    expect(Number(/final metrics: auc (0\.\d+)/.exec(r.stdout)?.[1])).toBeGreaterThan(0.8)
    const { job } = await api<{
      job: { status: string; metrics: Record<string, number>; participants: Array<{ org: string }> }
    }>(coordDir, `/v1/jobs/${jobId}`)
    expect(job.status).toBe('completed')
    expect(job.participants.map((p) => p.org).sort()).toEqual(['lender', 'payroll_provider', 'retailer'])
    expect(shared).toHaveLength(2762)
    expect(job.metrics.intersection).toBe(shared.length)
    // The held-out rows are the aligned customers the lender's split rule (row_index % 5 == 0) tests.
    expect(job.metrics.n).toBe(shared.filter((id) => Number(id.slice(1)) % 5 === 0).length)
    expect(job.metrics.auc).toBeGreaterThan(0.8)
    expect(Object.keys(job.metrics).some((k) => /weight|intercept/i.test(k))).toBe(false)
  }, 120_000)

  it('the stopped lender scores every aligned customer with the feature nodes serving', async () => {
    lender.child!.kill('SIGTERM')
    expect(await exited(lender.child!)).toBe(0)
    const out = join(root, 'scores.csv')
    const args = ['vertical', 'score', '--dir', lender.dir, '--model', jobId, '--out', out]
    const r = await runCli(args, { timeoutMs: CLI_TIMEOUT })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`scored ${shared.length} aligned customers`)
    expect(statSync(out).mode & 0o777).toBe(0o600)
    const rows = readFileSync(out, 'utf8').trim().split('\n')
    expect(rows[0]).toBe('id,risk')
    expect(rows).toHaveLength(shared.length + 1)
    const scored = rows.slice(1).map((l) => l.split(','))
    expect(new Set(scored.map(([id]) => id))).toEqual(new Set(shared))
    const risks = scored.map(([, p]) => Number(p))
    expect(risks.every((p) => p > 0 && p < 1)).toBe(true)
    // The scores rank the customers: AUC against the true labels of the aligned customers.
    const header = lines[0]!.split(',')
    const status = new Map(
      lines.slice(1).map((l) => {
        const f = l.split(',')
        return [f[header.indexOf('uid')]!, f[header.indexOf('Status')] === 'bad' ? 1 : 0] as const
      })
    )
    const labels = scored.map(([id]) => status.get(id!)!)
    expect(exactAuc(Float64Array.from(risks), labels)).toBeGreaterThan(0.8)

    const written = readFileSync(out, 'utf8')
    const again = await runCli(args, { timeoutMs: CLI_TIMEOUT })
    expect(again.code).toBe(1)
    expect(again.stderr.trim().split('\n')).toHaveLength(1)
    expect(again.stderr).toMatch(/exists; pass --force to overwrite it \[COHORT_OUTPUT_EXISTS\]/)
    expect(readFileSync(out, 'utf8')).toBe(written)
  }, 120_000)

  it('local scoring refuses the vertical slice and points to cohort vertical score', async () => {
    const out = join(root, 'local.csv')
    const r = await runCli(['score', '--dir', lender.dir, '--model', jobId, '--out', out])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/vertical model.*cohort vertical score/)
    expect(existsSync(out)).toBe(false)
  })

  it('a feature node audits what it released and served, and its ledger is untouched (no DP)', async () => {
    const retailer = nodes.find((n) => n.org === 'retailer')!
    const page = await api<{ entries: Array<{ kind: string; body: Record<string, unknown> }> }>(
      retailer.dir,
      '/v1/audit?from=0&limit=1000',
      retailer.token
    )
    const ofJob = page.entries.filter((e) => JSON.stringify(e.body ?? null).includes(jobId))
    const kinds = ofJob.map((e) => e.kind)
    for (const k of [
      'vertical-accepted',
      'psi-done',
      'vertical-started',
      'vertical-model-stored',
      'vertical-released',
      'vertical-serving',
      'vertical-served'
    ])
      expect(kinds, 'retailer audit').toContain(k)
    const released = ofJob.find((e) => e.kind === 'vertical-released')!.body
    expect(released).toMatchObject({
      role: 'feature',
      rows: shared.length,
      dp: null,
      metricsToCoordinator: []
    })
    expect((released.to as string[]).sort()).toEqual(['lender', 'payroll_provider'])
    expect(kinds.some((k) => k.startsWith('budget-'))).toBe(false)
    const { scopes } = await api<{ scopes: Array<{ spent: { epsilon: number } }> }>(
      retailer.dir,
      '/v1/budget',
      retailer.token
    )
    expect(scopes.every((s) => s.spent.epsilon === 0)).toBe(true)
  })
})
