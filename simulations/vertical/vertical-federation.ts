/**
 * A vertical federation from the production pieces: one node per party with its own memory-level
 * store holding only its columns (imported through the node's real import path; see
 * ./party-schema.ts), a ledger under the party's policy, the real vertical participant with its PSI
 * party, and a coordinator whose job store is the coordinator's real store and whose runner is the
 * real `runJob` (which hands vertical jobs to coordinator/jobs/vertical-run.ts). Transport: the
 * in-process loopback network or real libp2p hosts on 127.0.0.1 (every node dials every other: the
 * parties talk to each other, not only to the coordinator).
 */
import type { FederationManifest } from '../../configs/federation.ts'
import { JobConfig } from '../../configs/job.ts'
import type { NodePolicy } from '../../configs/node-config.ts'
import { runJob } from '../../coordinator/jobs/run-job.ts'
import type { JobRecord } from '../../coordinator/jobs/types.ts'
import { createJobStore } from '../../coordinator/store/job-store.ts'
import type { CoordinatorJobStore } from '../../coordinator/store/job-store.ts'
import { createPsiPool } from '../../crypto/psi/psi-pool.ts'
import { importDataset } from '../../node/data/import.ts'
import type { DatasetSchema } from '../../node/data/schema.ts'
import { budgetCapFor } from '../../node/jobs/dataset-policy.ts'
import { createLedger } from '../../node/ledger/ledger.ts'
import type { Ledger } from '../../node/ledger/ledger.ts'
import { registerVerticalParticipant } from '../../node/runners/vertical-participant.ts'
import type { VerticalParticipantHandle } from '../../node/runners/vertical-participant.ts'
import type { AuditLog } from '../../platform/audit/audit-log.ts'
import type { NodeStore } from '../../platform/storage/db.ts'
import type { Transport } from '../../protocols/transport.ts'
import { seededIdentity, SIM_FEDERATION } from '../harness/sim-federation.ts'
import type { LoopbackHooks, LoopbackNetwork } from '../loopback-transport.ts'
import { memoryAudit } from '../secagg-federation.ts'
import type { SimIdentity } from '../secagg-federation.ts'
import { simTransports } from '../harness/sim-transports.ts'

/**
 * One node.
 * @example
 * fed.node('lender').policy = { ...p, allowedFeatures: ['Time'] }
 */
export interface VerticalNode {
  readonly org: string
  readonly identity: SimIdentity
  readonly store: NodeStore
  readonly audit: AuditLog
  readonly ledger: Ledger
  readonly transport: Transport
  readonly vertical: VerticalParticipantHandle
  readonly dataset: string
  readonly rows: number
  /** The node's policy, read on every request (tests change it). */
  policy: NodePolicy
}

/**
 * A party: its CSV bytes (header included) and the schema of the columns it stores.
 * @example
 * const p: VerticalPartyData = { schema: partySchema(full, ['Income'], false), csv }
 */
export interface VerticalPartyData {
  schema: DatasetSchema
  csv: Uint8Array
  /** Dataset name on this node. @default options.dataset */
  dataset?: string
}

/**
 * Options of {@link createVerticalFederation}.
 * @example
 * await createVerticalFederation({ seed: 1, dataset: 'credit', parties, policy: () => p })
 */
export interface VerticalFederationOptions {
  seed: number | string
  dataset: string
  parties: Record<string, VerticalPartyData>
  policy: (org: string) => NodePolicy
  transport?: 'loopback' | 'libp2p'
  hooks?: LoopbackHooks
  /** Per-request timeout inside a session. @default 60000 */
  timeoutMs?: number
  log?: (line: string) => void
}

/**
 * A running federation.
 * @example
 * const job = await fed.run((await fed.submit(config)).id)
 */
export interface VerticalFederation {
  readonly manifest: FederationManifest
  readonly nodes: readonly VerticalNode[]
  readonly coordinator: SimIdentity & { transport: Transport; audit: AuditLog; jobs: CoordinatorJobStore }
  readonly net: LoopbackNetwork | undefined
  node(org: string): VerticalNode
  orgOf(peerId: string): string
  /** Stores a pending job (validated by the job schema) and returns it. */
  submit(config: unknown, id?: string): Promise<JobRecord>
  run(jobId: string, options?: { signal?: AbortSignal }): Promise<JobRecord>
  close(): Promise<void>
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes
}

let jobCounter = 0

/**
 * Builds and starts the federation.
 * @example
 * const fed = await createVerticalFederation({ seed: 1, dataset: 'credit', parties, policy: () => p })
 */
export async function createVerticalFederation(o: VerticalFederationOptions): Promise<VerticalFederation> {
  const orgs = Object.keys(o.parties)
  const coordId = await seededIdentity(o.seed, 'coordinator')
  const ids = new Map<string, SimIdentity>()
  for (const org of orgs) ids.set(org, await seededIdentity(o.seed, `node/${org}`))
  const manifest: FederationManifest = {
    federation: SIM_FEDERATION,
    version: 1,
    members: [
      { org: 'coordinator', peerId: coordId.peerId, multiaddrs: [], roles: ['coordinator'] },
      ...orgs.map((org) => ({ org, peerId: ids.get(org)!.peerId, multiaddrs: [], roles: ['node' as const] }))
    ]
  }
  const byPeer = new Map(manifest.members.map((m) => [m.peerId, m.org]))
  const { net, hosts, transportOf, stopHosts } = simTransports(o.transport ?? 'loopback', byPeer, o.hooks)
  const closers: Array<() => Promise<unknown> | unknown> = []
  const pool = createPsiPool({ size: 2 })
  closers.push(() => pool.close())
  const close = async () => {
    for (const c of closers.reverse()) await c()
    await stopHosts()
  }
  try {
    const nodes: VerticalNode[] = []
    for (const org of orgs) {
      const identity = ids.get(org)!
      const party = o.parties[org]!
      const dataset = party.dataset ?? o.dataset
      const { audit, store } = await memoryAudit(identity)
      closers.push(() => store.close())
      const imported = await importDataset(
        { store, audit },
        { name: dataset, schema: party.schema, csv: once(party.csv), actor: 'simulation' }
      )
      const node = {
        org,
        identity,
        store,
        audit,
        dataset,
        rows: imported.manifest.rows,
        policy: o.policy(org)
      } as VerticalNode
      const ledger = createLedger(
        store,
        audit,
        budgetCapFor(() => node.policy)
      )
      const transport = await transportOf(identity)
      const vertical = await registerVerticalParticipant(transport, {
        identity,
        store,
        audit,
        ledger,
        policy: () => node.policy,
        manifest: () => manifest,
        psiPool: pool,
        ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
        ...(o.log === undefined ? {} : { log: (l: string) => o.log!(`[${org}] ${l}`) })
      })
      closers.push(() => vertical.close())
      Object.assign(node, { ledger, transport, vertical })
      nodes.push(node)
    }
    const { audit: coordAudit, store: coordStore } = await memoryAudit(coordId)
    closers.push(() => coordStore.close())
    const coordinator = {
      ...coordId,
      transport: await transportOf(coordId),
      audit: coordAudit,
      jobs: createJobStore(coordStore)
    }
    // Over libp2p the parties of a session talk to each other: every peer dials every earlier one
    // (the coordinator, last, dials every node, so its own requests find a connection at once).
    for (let j = 1; j < hosts.length; j++)
      for (let i = 0; i < j; i++) await hosts[j]!.dial(hosts[i]!.getMultiaddrs()[0]!)
    return {
      manifest,
      nodes,
      coordinator,
      net,
      node(org) {
        const n = nodes.find((x) => x.org === org)
        if (n === undefined) throw new Error(`no vertical node ${org}`)
        return n
      },
      orgOf: (peerId) => byPeer.get(peerId) ?? peerId,
      async submit(config, id) {
        const at = new Date().toISOString()
        const job: JobRecord = {
          id: id ?? `vjob-${process.pid}-${++jobCounter}`,
          config: JobConfig.parse(config),
          status: 'pending',
          createdAt: at,
          updatedAt: at,
          round: 0,
          participants: [],
          declined: []
        }
        await coordinator.jobs.putJob(job)
        return job
      },
      run(jobId, options = {}) {
        return runJob(
          {
            transport: coordinator.transport,
            store: coordinator.jobs,
            manifest: () => manifest,
            audit: coordAudit,
            log: o.log ?? (() => {})
          },
          jobId,
          options.signal === undefined ? {} : { signal: options.signal }
        )
      },
      close
    }
  } catch (err) {
    await close().catch(() => undefined)
    throw err
  }
}
