import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { CohortError } from '../../crypto/cohort-error.ts'
import { exportAudit, parseAuditExport, verifyAuditExport } from '../../platform/audit/export.ts'
import { addMember } from '../../platform/federation/manifest.ts'
import { HOME_FILES, initNodeHome, openNodeHome } from '../../node/home.ts'
import { adminClient } from './admin-client.ts'
import type { AdminClient } from './admin-client.ts'
import { initCoordinatorHome } from '../../coordinator/home.ts'
import { freePort } from './free-port.ts'
import { writePartyCsv } from './party-csv.ts'
import { baselineLines, printBudgets, runDemoJobs } from './train-jobs.ts'
import type { DemoJob, JobOutcome } from './train-jobs.ts'

export interface DemoOptions {
  /** Working directory for node directories and files; wiped first. */
  dir: string
  /** Folder of the vendored dataset (data.csv, spec.json, partitions/). */
  dataset: string
  /** How many parties of the natural partition become nodes. */
  nodes: number
  /** argv prefix that runs the `cohort` CLI (node binary + cli/main.ts). */
  cli: string[]
  /** Training jobs to run through a coordinator after the imports; none = no coordinator. */
  jobs: DemoJob[]
  /** Epsilon cap each node's policy sets for its dataset. */
  epsilonCap: number
  log: (line: string) => void
}

interface DemoNode {
  org: string
  dir: string
  token: string
  peerId: string
  listen: string
  child?: ChildProcess
  api?: AdminClient
}

export interface DemoResult {
  jobs: JobOutcome[]
  nodes: Array<{
    org: string
    peerId: string
    rows: number
    connectedTo: string[]
    auditEntries: number
    auditOk: boolean
    exportOk: boolean
  }>
}

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const v = await fn()
      if (v !== undefined) return v
    } catch {}
    if (Date.now() > deadline)
      throw new CohortError(`demo: timed out waiting for ${what}`, 'COHORT_DEMO_TIMEOUT')
    await new Promise((r) => setTimeout(r, 200))
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())))
}

/**
 * The main demo for now: a local federation of company nodes, each a separate `cohort node start`
 * process on 127.0.0.1, that connect over libp2p (members only), import their own slice of a real
 * dataset through the admin API, and whose signed audit logs verify online and, after shutdown,
 * offline from an export.
 */
export async function runLocalFederationDemo(opts: DemoOptions): Promise<DemoResult> {
  const { log } = opts
  const dir = resolve(opts.dir)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const spec = join(resolve(opts.dataset), 'spec.json')
  const partition = JSON.parse(
    readFileSync(join(resolve(opts.dataset), 'partitions/horizontal_natural.json'), 'utf8')
  ) as Record<string, number[]>
  const orgs = Object.keys(partition).slice(0, opts.nodes)
  if (orgs.length < 2) throw new CohortError('demo: need at least two parties', 'COHORT_USAGE')
  const manifestPath = join(dir, 'federation.json')

  const train = opts.jobs.length > 0
  log(`1/7 initialising ${train ? 'a coordinator and ' : ''}${orgs.length} company nodes in ${dir}`)
  const nodes: DemoNode[] = []
  let coordinator: { dir: string; peerId: string; child?: ChildProcess } | undefined
  if (train) {
    const listen = `/ip4/127.0.0.1/tcp/${await freePort()}`
    const r = await initCoordinatorHome(join(dir, 'coordinator'), {
      name: 'coordinator',
      listen: [listen],
      federation: manifestPath
    })
    addMember(
      manifestPath,
      { org: 'coordinator', peerId: r.peerId, multiaddrs: [listen], roles: ['coordinator'] },
      { federation: 'cohort-demo' }
    )
    coordinator = { dir: r.dir, peerId: r.peerId }
    log(`    ${'coordinator'.padEnd(26)} ${r.peerId}`)
  }
  for (const org of orgs) {
    const listen = `/ip4/127.0.0.1/tcp/${await freePort()}`
    const r = await initNodeHome(join(dir, org), { name: org, listen: [listen], federation: manifestPath })
    nodes.push({ org, dir: r.dir, token: r.token, peerId: r.peerId, listen })
    addMember(
      manifestPath,
      { org, peerId: r.peerId, multiaddrs: [listen], roles: ['node'] },
      { federation: 'cohort-demo' }
    )
    log(`    ${org.padEnd(26)} ${r.peerId}`)
  }

  log('2/7 starting every party as its own process (libp2p TCP + Noise + yamux, members only)')
  const children: ChildProcess[] = []
  const connectedTo = new Map<string, string[]>()
  const jobs: JobOutcome[] = []
  const rows = new Map<string, number>()
  const stopAll = async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM')
    await Promise.all(children.map(exited))
  }
  try {
    for (const n of nodes) {
      const logFile = join(dir, `${n.org}.log`)
      const child = spawn(opts.cli[0]!, [...opts.cli.slice(1), 'node', 'start', '--dir', n.dir], {
        stdio: ['ignore', 'ignore', 'pipe']
      })
      const chunks: Buffer[] = []
      child.stderr!.on('data', (d: Buffer) => chunks.push(d))
      child.once('exit', () => writeFileSync(logFile, Buffer.concat(chunks)))
      children.push(child)
      n.child = child
    }
    if (coordinator !== undefined) {
      const child = spawn(
        opts.cli[0]!,
        [...opts.cli.slice(1), 'coordinator', 'start', '--dir', coordinator.dir],
        { stdio: ['ignore', 'ignore', 'pipe'] }
      )
      const chunks: Buffer[] = []
      child.stderr!.on('data', (d: Buffer) => chunks.push(d))
      child.once('exit', () => writeFileSync(join(dir, 'coordinator.log'), Buffer.concat(chunks)))
      children.push(child)
      coordinator.child = child
    }
    for (const n of nodes) {
      const endpoint = await waitFor(`${n.org}'s admin API`, () => {
        if (n.child!.exitCode !== null)
          throw new CohortError(`${n.org} exited early; see ${n.dir}.log`, 'COHORT_DEMO_NODE_FAILED')
        const p = join(n.dir, HOME_FILES.endpoint)
        return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as { url: string }) : undefined
      })
      n.api = adminClient(endpoint.url, n.token)
      log(`    ${n.org.padEnd(26)} admin API ${endpoint.url}`)
    }

    log('3/7 waiting for every member to connect, then pinging')
    for (const n of nodes) {
      const peers = await waitFor(`${n.org} to connect to every member`, async () => {
        const list = (await n.api!.get<{ peers: Array<{ org?: string; connected: boolean }> }>('/v1/peers'))
          .peers
        return list.every((p) => p.connected) ? list : undefined
      })
      connectedTo.set(
        n.org,
        peers.map((p) => p.org ?? '?')
      )
      for (const other of nodes) {
        if (other === n) continue
        // (the coordinator is a member too; nodes dial it, it never sees their data)
        const r = await n.api!.post<{ rttMs: number }>(`/v1/peers/${other.peerId}/ping`)
        log(`    ${n.org} -> ${other.org}: connected, ping ${r.rttMs} ms`)
      }
    }

    log('4/7 each company sets its policy and imports its own customers through its admin API')
    for (const n of nodes) {
      const { policy } = await n.api!.get<{ policy: Record<string, unknown> }>('/v1/policy')
      await n.api!.put('/v1/policy', { ...policy, federations: ['cohort-demo'], epsilonCap: opts.epsilonCap })
      const csv = join(dir, `${n.org}.csv`)
      await writePartyCsv(join(resolve(opts.dataset), 'data.csv'), partition[n.org]!, csv)
      const body = Readable.toWeb(createReadStream(csv)) as ReadableStream<Uint8Array>
      await n.api!.post(`/v1/datasets/credit?spec=${encodeURIComponent(spec)}`, body, 'text/csv')
      const d = await n.api!.get<{ rows: number }>('/v1/datasets/credit')
      rows.set(n.org, d.rows)
      log(`    ${n.org.padEnd(26)} imported ${d.rows} rows of credit_data`)
    }

    log(
      `5/7 ${train ? 'training through the coordinator: SecAgg+ on every round, DP at every node' : 'no training jobs requested'}`
    )
    if (coordinator !== undefined) {
      const coordDir = coordinator.dir
      const endpoint = await waitFor('the coordinator API', () => {
        const p = join(coordDir, 'api.json')
        return existsSync(p)
          ? (JSON.parse(readFileSync(p, 'utf8')) as { url: string; token: string })
          : undefined
      })
      jobs.push(...(await runDemoJobs(endpoint, opts.jobs, log)))
      log('    for comparison (scikit-learn on the same preprocessing, datasets/credit_data/baselines.json):')
      for (const line of baselineLines(resolve(opts.dataset))) log(line)
      log('    privacy budget at each company (its own ledger, charged before anything left the node):')
      await printBudgets(nodes, log)
    }

    log("6/7 verifying each node's signed, hash-chained audit log through its API")
    for (const n of nodes) {
      const v = await n.api!.get<{ ok: boolean; entries: number }>('/v1/audit/verify')
      log(`    ${n.org.padEnd(26)} audit ${v.ok ? 'OK' : 'INVALID'} (${v.entries} entries)`)
      if (!v.ok) throw new CohortError(`audit log of ${n.org} does not verify`, 'COHORT_AUDIT_INVALID')
    }
  } finally {
    await stopAll()
  }

  log('7/7 all stopped; verifying audit logs offline and from signed exports')
  const result: DemoResult = { jobs, nodes: [] }
  for (const n of nodes) {
    const home = await openNodeHome(n.dir)
    try {
      const v = await home.audit.verify()
      const text = await exportAudit(home.store, home.identity)
      const exportPath = join(dir, `${n.org}.audit.json`)
      writeFileSync(exportPath, text)
      const ev = await verifyAuditExport(parseAuditExport(text), n.peerId)
      log(
        `    ${n.org.padEnd(26)} ${v.entries} entries, chain ${v.ok ? 'OK' : 'INVALID'}, export ${ev.ok ? 'OK' : 'INVALID'} -> ${exportPath}`
      )
      result.nodes.push({
        org: n.org,
        peerId: n.peerId,
        rows: rows.get(n.org) ?? 0,
        connectedTo: connectedTo.get(n.org) ?? [],
        auditEntries: v.entries,
        auditOk: v.ok,
        exportOk: ev.ok
      })
    } finally {
      await home.close()
    }
  }
  return result
}
