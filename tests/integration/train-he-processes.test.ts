/**
 * Issue 7, acceptance 1 (a node killed mid-round) across separate OS processes: three lenders
 * holding the natural split of credit_data, each its own process with an on-disk store, audit log
 * and imported dataset (tests/helpers/he-train-node-process.ts), train a logistic regression with
 * `secureAggregation: he`; the test process is the coordinator (the real job runner) and the
 * key-holder, each on its own libp2p host, all over TCP on 127.0.0.1. One lender is killed (SIGKILL)
 * in round 2 after its ciphertext reached the coordinator's sum; the round and the job complete
 * over the two survivors.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { JobConfig } from '../../configs/job.ts'
import type { FederationManifest } from '../../configs/federation.ts'
import { runJob } from '../../coordinator/jobs/run-job.ts'
import type { JobRecord, RoundRecord } from '../../coordinator/jobs/types.ts'
import { importDataset } from '../../node/data/import.ts'
import { loadDatasetSpec } from '../../node/data/spec.ts'
import { initNodeHome, openNodeHome } from '../../node/home.ts'
import { readPolicy, writePolicy } from '../../node/policy/policy-store.ts'
import { createHeKeyring, registerHeKeyholder } from '../../node/runners/he-agg-keyholder.ts'
import type { HeKeyholderHandle, HeKeyring } from '../../node/runners/he-agg-keyholder.ts'
import type { AuditLog } from '../../platform/audit/audit-log.ts'
import { addMember, readManifest } from '../../platform/federation/manifest.ts'
import { createHost } from '../../platform/net/libp2p-host.ts'
import type { CohortLibp2p } from '../../platform/net/libp2p-host.ts'
import { createLibp2pTransport } from '../../platform/net/libp2p-transport.ts'
import type { NodeStore } from '../../platform/storage/db.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import { decodeHeAgg, HeAggRequestSchema, MAX_HE_AGG_VECTOR_BYTES } from '../../protocols/he-agg/messages.ts'
import type { Transport } from '../../protocols/transport.ts'
import { writePartyCsv } from '../../simulations/demo/party-csv.ts'
import { memoryAudit, simIdentity } from '../../simulations/secagg-federation.ts'
import { REPO, startScript } from '../helpers/cli.ts'
import { createMemoryJobStore } from '../helpers/memory-job-store.ts'

const DATASET = join(REPO, 'datasets/credit_data')
const FEDERATION = 'he-proc'

interface Proc {
  org: string
  dir: string
  peerId: string
  child: ChildProcess
  addr: string
}

const root = mkdtempSync(join(tmpdir(), 'cohort-he-proc-'))
const procs: Proc[] = []
const hosts: CohortLibp2p[] = []
let manifest: FederationManifest
let coordinator: { peerId: string; transport: Transport; audit: AuditLog; store: NodeStore }
let keyholder: { keyring: HeKeyring; handle: HeKeyholderHandle; audit: AuditLog; store: NodeStore }
let job: JobRecord
let rounds: RoundRecord[]
let victim: Proc
let fitSum2 = ''
let jobMs = 0

async function startProc(org: string, dir: string, peerId: string, manifestPath: string): Promise<Proc> {
  const script = join(REPO, 'tests/helpers/he-train-node-process.ts')
  const { child, match } = await startScript(script, [dir, manifestPath], /READY (\S+)/, 120_000)
  return { org, dir, peerId, child, addr: match[1]! }
}

const alive = (p: Proc) => p.child.exitCode === null && p.child.signalCode === null

async function stopAll() {
  for (const p of procs) if (alive(p)) p.child.kill('SIGTERM')
  await Promise.all(procs.map((p) => (alive(p) ? new Promise((r) => p.child.once('exit', r)) : undefined)))
}

async function host(privateKey: Parameters<typeof createHost>[0]['privateKey']): Promise<CohortLibp2p> {
  const h = await createHost({
    privateKey,
    isMember: (p) => manifest.members.some((m) => m.peerId === p),
    onRefused: () => {}
  })
  hosts.push(h)
  return h
}

beforeAll(async () => {
  const manifestPath = join(root, 'federation.json')
  const cid = await simIdentity()
  const kid = await simIdentity()
  addMember(
    manifestPath,
    { org: 'coordinator', peerId: cid.peerId, roles: ['coordinator'] },
    { federation: FEDERATION }
  )
  addMember(manifestPath, { org: 'keyholder', peerId: kid.peerId, roles: ['keyholder'] })
  const partition = JSON.parse(
    readFileSync(join(DATASET, 'partitions/horizontal_natural.json'), 'utf8')
  ) as Record<string, number[]>
  const schema = loadDatasetSpec(join(DATASET, 'spec.json'))
  const homes: Array<{ org: string; dir: string; peerId: string }> = []
  for (const [org, rows] of Object.entries(partition)) {
    const r = await initNodeHome(join(root, org), { name: org })
    addMember(manifestPath, { org, peerId: r.peerId, roles: ['node'] })
    const csv = join(root, `${org}.csv`)
    await writePartyCsv(join(DATASET, 'data.csv'), rows, csv)
    const home = await openNodeHome(r.dir)
    try {
      await importDataset(home, { name: 'credit_data', schema, csv, actor: 'cli' })
      const current = await readPolicy(home.store, home.config.policy)
      const policy = { ...current, federations: [FEDERATION], minNoiseMultiplier: 0, minParticipants: 2 }
      await writePolicy(home.store, home.audit, current, policy, 'cli')
    } finally {
      await home.close()
    }
    homes.push({ org, dir: r.dir, peerId: r.peerId })
  }
  manifest = readManifest(manifestPath)
  procs.push(...(await Promise.all(homes.map((h) => startProc(h.org, h.dir, h.peerId, manifestPath)))))

  const kh = await host(kid.privateKey)
  const khLog = await memoryAudit(kid)
  const keyring = await createHeKeyring(kid, khLog.audit, { keyId: 'key-1' })
  keyholder = {
    keyring,
    audit: khLog.audit,
    store: khLog.store,
    handle: await registerHeKeyholder(createLibp2pTransport(kh), {
      identity: kid,
      audit: khLog.audit,
      manifest: () => manifest,
      keyring,
      minParticipants: 2,
      store: khLog.store
    })
  }
  const ch = await host(cid.privateKey)
  for (const p of procs)
    await ch.dial(multiaddr(p.addr.includes('/p2p/') ? p.addr : `${p.addr}/p2p/${p.peerId}`))
  await ch.dial(kh.getMultiaddrs()[0]!)
  const coordLog = await memoryAudit(cid)
  coordinator = { peerId: cid.peerId, transport: createLibp2pTransport(ch), ...coordLog }

  // The coordinator SIGKILLs the victim the moment it would challenge it in round 2's fit sum: the
  // victim trained, encrypted and sent its ciphertext, which is already in the running sum.
  victim = procs[0]!
  const killing: Transport = {
    ...coordinator.transport,
    self: coordinator.transport.self,
    async request(peer, protocol, body, options) {
      if (protocol === PROTOCOLS.heAgg && peer === victim.peerId && alive(victim)) {
        const req = decodeHeAgg(HeAggRequestSchema, body, MAX_HE_AGG_VECTOR_BYTES)
        if (req.phase === 'challenge' && req.jobId.includes('/fit/') && req.round === 2) {
          fitSum2 = req.jobId
          victim.child.kill('SIGKILL')
          await new Promise((r) => victim.child.once('exit', r))
        }
      }
      return coordinator.transport.request(peer, protocol, body, options)
    }
  }
  const jobs = createMemoryJobStore()
  const at = new Date().toISOString()
  const id = `job-he-proc-${process.pid}`
  await jobs.putJob({
    id,
    config: JobConfig.parse({
      name: 'credit risk, HE, processes',
      model: { kind: 'logreg', rounds: 3 },
      data: { dataset: 'credit_data' },
      secureAggregation: 'he',
      he: { keyFingerprint: keyring.current().announcement.keyFingerprint },
      minParticipants: 2,
      deadlines: { phaseMs: 10_000 }
    }),
    status: 'pending',
    createdAt: at,
    updatedAt: at,
    round: 0,
    participants: [],
    declined: []
  })
  const t0 = performance.now()
  job = await runJob(
    { transport: killing, store: jobs, manifest: () => manifest, audit: coordinator.audit, log: () => {} },
    id
  )
  jobMs = performance.now() - t0
  rounds = await jobs.listRounds(id)
  console.log(
    `he, 3 node processes, one killed in round 2: ${job.status} in ${Math.round(jobMs)} ms, AUC ${job.metrics?.auc?.toFixed(4)}, survivors ${rounds.map((r) => r.survivors.length).join(',')}`
  )
}, 120_000)

afterAll(async () => {
  await stopAll()
  await keyholder?.handle.close()
  keyholder?.keyring.dispose()
  for (const h of hosts) await h.stop()
  await keyholder?.store.close()
  await coordinator?.store.close()
  rmSync(root, { recursive: true, force: true })
})

describe('an HE job across separate node processes over libp2p', () => {
  it('completes round 2 over the two survivors after one node is killed (SIGKILL) mid-round', async () => {
    expect(fitSum2).not.toBe('')
    expect(victim.child.signalCode).toBe('SIGKILL')
    expect(job.status).toBe('completed')
    expect(rounds.map((r) => r.round)).toEqual([1, 2, 3])
    expect(rounds[0]!.survivors).toHaveLength(3)
    expect(rounds[1]!.survivors).toHaveLength(2)
    expect(rounds[1]!.dropped).toEqual([victim.peerId])
    expect(rounds[2]!.survivors).not.toContain(victim.peerId)
    expect(rounds[2]!.survivors).toHaveLength(2)
    expect(job.metrics!.auc!).toBeGreaterThan(0.7)
    const decrypted = (await keyholder.audit.read()).filter(
      (e) => e.kind === 'he-agg-decrypted' && (e.body as { jobId: string }).jobId === fitSum2
    )
    expect(decrypted).toHaveLength(1)
    expect((decrypted[0]!.body as { count: number; contributors: string[] }).contributors).not.toContain(
      victim.peerId
    )
  })

  it("every node's on-disk audit log verifies afterwards; the killed one had sent its round-2 ciphertext", async () => {
    await stopAll()
    for (const p of procs) {
      const home = await openNodeHome(p.dir)
      try {
        expect((await home.audit.verify()).ok, p.org).toBe(true)
        const sent = (await home.audit.read()).filter((e) => e.kind === 'he-agg-input-sent')
        expect(sent.some((e) => (e.body as { jobId: string }).jobId === fitSum2)).toBe(true)
      } finally {
        await home.close()
      }
    }
  })
})
