import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initCoordinatorHome } from '../../coordinator/home.ts'
import { importDataset } from '../../node/data/import.ts'
import { loadDatasetSpec } from '../../node/data/spec.ts'
import { initNodeHome, openNodeHome } from '../../node/home.ts'
import { readPolicy, writePolicy } from '../../node/policy/policy-store.ts'
import { addMember, readManifest } from '../../platform/federation/manifest.ts'
import { freePort } from '../../simulations/demo/free-port.ts'
import { writePartyCsv } from '../../simulations/demo/party-csv.ts'
import { exited, REPO, runCli, startCli, until } from '../helpers/cli.ts'

/**
 * `secureAggregation: he` as deployed: every party a `cohort ... start` process. A fourth node with
 * the `keyholder` role creates its BFV key on first use (`cohort node he-key`), the fingerprint is
 * pinned in the manifest (`federation add-member --he-key`) and in the job; the key-holder is killed
 * -9 and restarted between two jobs and still decrypts under the same key; a job pinning a key the
 * manifest does not name is refused before any node encrypts.
 */
const DATASET = join(REPO, 'datasets/credit_data')

const CLI_TIMEOUT = 90_000
const run = (args: string[]) => runCli(args, { timeoutMs: CLI_TIMEOUT })
const start = (args: string[], ready: RegExp) => startCli(args, ready, 120_000)
const poll = <T>(what: string, fn: () => Promise<T | undefined>) => until(what, fn, 45_000)

describe('HE aggregation with a key-holder node (separate processes, credit_data natural split)', () => {
  const root = mkdtempSync(join(tmpdir(), 'cohort-he-e2e-'))
  const manifest = join(root, 'federation.json')
  const coordDir = join(root, 'coord')
  const khDir = join(root, 'keyholder')
  const partition = JSON.parse(
    readFileSync(join(DATASET, 'partitions/horizontal_natural.json'), 'utf8')
  ) as Record<string, number[]>
  const nodes = Object.keys(partition).map((org) => ({ org, dir: join(root, org) }))
  const children: ChildProcess[] = []
  let keyholder: { child: ChildProcess; output: () => string }
  let fingerprint = ''
  let khToken = ''

  const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const { url, token } = JSON.parse(readFileSync(join(coordDir, 'api.json'), 'utf8')) as {
      url: string
      token: string
    }
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    return (await (await fetch(`${url}${path}`, { ...init, headers })).json()) as T
  }
  const jobFile = (name: string, keyFingerprint: string) => {
    const path = join(root, `${name}.json`)
    const job = {
      name,
      model: { kind: 'logreg', rounds: 3, localEpochs: 2 },
      data: { dataset: 'credit' },
      secureAggregation: 'he',
      he: { keyFingerprint },
      minParticipants: 3
    }
    writeFileSync(path, JSON.stringify(job))
    return path
  }
  const startKeyholder = async () => {
    keyholder = await start(['node', 'start', '--dir', khDir], /admin API on/)
    children.push(keyholder.child)
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
    for (const n of nodes) {
      const addr = `/ip4/127.0.0.1/tcp/${await freePort()}`
      const r = await initNodeHome(n.dir, { name: n.org, listen: [addr], federation: manifest })
      addMember(manifest, { org: n.org, peerId: r.peerId, multiaddrs: [addr], roles: ['node'] })
      const csv = join(root, `${n.org}.csv`)
      await writePartyCsv(join(DATASET, 'data.csv'), partition[n.org]!, csv)
      const home = await openNodeHome(n.dir)
      try {
        await importDataset(home, { name: 'credit', schema, csv, actor: 'cli' })
        const current = await readPolicy(home.store, home.config.policy)
        const policy = { ...current, federations: ['lenders'], minNoiseMultiplier: 0 }
        await writePolicy(home.store, home.audit, current, policy, 'cli')
      } finally {
        await home.close()
      }
    }
    const khAddr = `/ip4/127.0.0.1/tcp/${await freePort()}`
    const kh = await initNodeHome(khDir, { name: 'keyholder', listen: [khAddr], federation: manifest })
    khToken = kh.token
    const key = await run(['node', 'he-key', '--dir', khDir])
    expect(key.stderr).toBe('')
    fingerprint = (JSON.parse(key.stdout) as { keyFingerprint: string }).keyFingerprint
    const add = await run([
      'federation',
      'add-member',
      '--file',
      manifest,
      '--org',
      'keyholder',
      '--peer-id',
      kh.peerId,
      '--multiaddr',
      khAddr,
      '--roles',
      'keyholder',
      '--he-key',
      fingerprint
    ])
    expect(add.code).toBe(0)
    await Promise.all([
      start(['coordinator', 'start', '--dir', coordDir], /coordinator API on/).then((p) =>
        children.push(p.child)
      ),
      startKeyholder(),
      ...nodes.map((n) =>
        start(['node', 'start', '--dir', n.dir], /admin API on/).then((p) => children.push(p.child))
      )
    ])
    await poll('three connected nodes', async () => {
      const s = await api<{ connected: number }>('/v1/status')
      return s.connected >= 3 ? s : undefined
    })
  }, 300_000)

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    rmSync(root, { recursive: true, force: true })
  })

  it('the key is created once, kept 0600 in the node home and pinned in the manifest', async () => {
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/)
    expect(readManifest(manifest).members.find((m) => m.org === 'keyholder')?.heKeyFingerprint).toBe(
      fingerprint
    )
    expect(keyholder.output()).toContain(`fingerprint ${fingerprint}`)
    const { readdirSync } = await import('node:fs')
    const files = readdirSync(join(khDir, 'he-keys')).filter((f) => f.endsWith('.seal'))
    expect(files).toHaveLength(1)
    expect(statSync(join(khDir, 'he-keys', files[0]!)).mode & 0o777).toBe(0o600)
  })

  it('trains through HE sums the key-holder decrypts, and again after the key-holder is killed -9', async () => {
    const first = await run(['job', 'submit', jobFile('he-1', fingerprint), '--dir', coordDir, '--follow'])
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    expect(Number(/final metrics: auc (0\.\d+)/.exec(first.stdout)?.[1])).toBeGreaterThan(0.78)

    keyholder.child.kill('SIGKILL')
    await exited(keyholder.child)
    await startKeyholder()
    expect(keyholder.output()).toContain(`fingerprint ${fingerprint}`)
    const second = await run(['job', 'submit', jobFile('he-2', fingerprint), '--dir', coordDir, '--follow'])
    expect(second.code).toBe(0)
    expect(second.stdout.split('\n').filter((l) => l.startsWith('round '))).toHaveLength(3)

    // The key-holder's log (through its admin API: the node is running) has every decryption.
    const { url } = JSON.parse(readFileSync(join(khDir, 'api.json'), 'utf8')) as { url: string }
    const page = (await (
      await fetch(`${url}/v1/audit?from=0&limit=1000`, { headers: { authorization: `Bearer ${khToken}` } })
    ).json()) as { entries: Array<{ kind: string; body: { contributors?: unknown[] } }> }
    const decrypted = page.entries.filter((e) => e.kind === 'he-agg-decrypted')
    // Per job: statistics, then a fit and an evaluation per round (1 + 2 x 3), each decrypted once.
    expect(decrypted).toHaveLength(14)
  })

  it('a job pinning a key the manifest does not name is refused before anything is encrypted', async () => {
    const r = await run([
      'job',
      'submit',
      jobFile('he-wrong', 'ab'.repeat(32)),
      '--dir',
      coordDir,
      '--follow'
    ])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/manifest pins keyholder's HE key/)
  })
})
