/**
 * TEST ONLY: an in-process training federation over the loopback transport: one node per party of
 * a shared dataset's partition (each with its own memory-level store holding only its rows, imported
 * through the real import path), the real SecAgg and training participants sharing an input stash,
 * a ledger under a mutable policy, and a coordinator running the real job runner on an in-memory
 * JobStore.
 */
import { mkdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FederationManifest } from '../../configs/federation.ts'
import { JobConfig } from '../../configs/job.ts'
import { NodePolicy } from '../../configs/node-config.ts'
import { runJob } from '../../coordinator/jobs/run-job.ts'
import type { JobRecord, RoundRecord } from '../../coordinator/jobs/types.ts'
import { importDataset } from '../../node/data/import.ts'
import { loadDatasetSpec } from '../../node/data/spec.ts'
import { budgetCapFor, secaggFloor } from '../../node/jobs/dataset-policy.ts'
import { createInputStash } from '../../node/jobs/input-stash.ts'
import type { InputStash } from '../../node/jobs/input-stash.ts'
import { createLedger } from '../../node/ledger/ledger.ts'
import type { Ledger } from '../../node/ledger/ledger.ts'
import { createHeKeyring, registerHeKeyholder } from '../../node/runners/he-agg-keyholder.ts'
import type { HeKeyholderHandle, HeKeyring } from '../../node/runners/he-agg-keyholder.ts'
import { registerHeAggParticipant } from '../../node/runners/he-agg-participant.ts'
import type { HeAggParticipantHandle } from '../../node/runners/he-agg-participant.ts'
import { registerSecaggParticipant } from '../../node/runners/secagg-participant.ts'
import type { SecaggParticipantHandle } from '../../node/runners/secagg-participant.ts'
import { registerTrainParticipant } from '../../node/runners/train-participant.ts'
import type { TrainParticipantHandle } from '../../node/runners/train-participant.ts'
import type { AuditLog } from '../../platform/audit/audit-log.ts'
import { createHost } from '../../platform/net/libp2p-host.ts'
import type { CohortLibp2p } from '../../platform/net/libp2p-host.ts'
import { createLibp2pTransport } from '../../platform/net/libp2p-transport.ts'
import type { NodeStore } from '../../platform/storage/db.ts'
import type { Transport } from '../../protocols/transport.ts'
import { DATASETS_DIR } from '../../simulations/baselines/load-dataset.ts'
import { writePartyCsv } from '../../simulations/demo/party-csv.ts'
import { createLoopbackNetwork } from '../../simulations/loopback-transport.ts'
import type { LoopbackHooks, LoopbackNetwork } from '../../simulations/loopback-transport.ts'
import { memoryAudit, simIdentity } from '../../simulations/secagg-federation.ts'
import type { SimIdentity } from '../../simulations/secagg-federation.ts'
import { createMemoryJobStore } from './memory-job-store.ts'
import type { MemoryJobStore } from './memory-job-store.ts'
import { seededRandom } from './seeded-random.ts'

export const FEDERATION = 'cohort-train-test'

/**
 * Public value ranges of credit_data's numeric columns, as a data dictionary would give them (values
 * beyond are clamped for the DP statistics only; the rows themselves are not changed).
 */
export const CREDIT_RANGES = {
  Seniority: [0, 50],
  Time: [0, 80],
  Age: [18, 80],
  Expenses: [0, 200],
  Income: [0, 500],
  Assets: [0, 50000],
  Debt: [0, 10000],
  Amount: [0, 5000],
  Price: [0, 10000]
}

/** A permissive test policy: this federation, ε cap 1, no noise floor, 2 parties minimum. */
export function testPolicy(over: Partial<NodePolicy> = {}): NodePolicy {
  return NodePolicy.parse({
    federations: [FEDERATION],
    epsilonCap: 1,
    delta: 1e-5,
    minNoiseMultiplier: 0,
    minParticipants: 2,
    allowPlaintext: false,
    ...over
  })
}

export interface TrainNode {
  org: string
  identity: SimIdentity
  store: NodeStore
  audit: AuditLog
  ledger: Ledger
  transport: Transport
  stash: InputStash
  policy: NodePolicy
  secagg: SecaggParticipantHandle
  train: TrainParticipantHandle
  he?: HeAggParticipantHandle
  /** Re-registers the participants with empty memory (a node restart; the store survives). */
  restart(): Promise<void>
}

export interface TrainFederation {
  net: LoopbackNetwork
  manifest: FederationManifest
  nodes: TrainNode[]
  coordinator: SimIdentity & { transport: Transport; audit: AuditLog }
  /** With `he: true`: the key-holder (its keyring's announcement holds the fingerprint to pin). */
  keyholder?: SimIdentity & {
    keyring: HeKeyring
    handle: HeKeyholderHandle
    audit: AuditLog
    close(): Promise<void>
  }
  jobs: MemoryJobStore
  submit(config: unknown): Promise<JobRecord>
  run(
    jobId: string,
    options?: {
      signal?: AbortSignal
      onRound?: (r: RoundRecord, j: JobRecord) => void
      transport?: Transport
    }
  ): Promise<JobRecord>
  node(org: string): TrainNode
  close(): Promise<void>
}

export interface TrainFederationOptions {
  dataset?: string
  /** Party -> row indices; default: the dataset's horizontal_natural partition. */
  parties?: Record<string, number[]>
  policy?: (org: string) => NodePolicy
  hooks?: LoopbackHooks
  /** Seeded node randomness (training, noise), per org. */
  seed?: string
  /** Real libp2p hosts on 127.0.0.1 TCP (Noise, yamux, membership gater) instead of loopback. */
  libp2p?: boolean
  /** A key-holder member running the he-agg key-holder, and the he-agg participant on every node. */
  he?: boolean
  log?: (line: string) => void
}

const csvDir = join(tmpdir(), `cohort-train-test-${process.pid}`)

/** The rows of a partition file. */
export function partition(dataset: string, kind = 'horizontal_natural'): Record<string, number[]> {
  return JSON.parse(
    readFileSync(join(DATASETS_DIR, dataset, 'partitions', `${kind}.json`), 'utf8')
  ) as Record<string, number[]>
}

let jobCounter = 0

export async function createTrainFederation(o: TrainFederationOptions = {}): Promise<TrainFederation> {
  const dataset = o.dataset ?? 'credit_data'
  const parties = o.parties ?? partition(dataset)
  const net = createLoopbackNetwork(o.hooks ?? {})
  const coordId = await simIdentity()
  const khId = await simIdentity()
  const ids = new Map<string, SimIdentity>()
  for (const org of Object.keys(parties)) ids.set(org, await simIdentity())
  const manifest: FederationManifest = {
    federation: FEDERATION,
    version: 1,
    members: [
      { org: 'coordinator', peerId: coordId.peerId, multiaddrs: [], roles: ['coordinator'] },
      ...(o.he === true
        ? [{ org: 'keyholder', peerId: khId.peerId, multiaddrs: [], roles: ['keyholder' as const] }]
        : []),
      ...[...ids].map(([org, id]) => ({ org, peerId: id.peerId, multiaddrs: [], roles: ['node' as const] }))
    ]
  }
  const isMember = (p: string) => manifest.members.some((m) => m.peerId === p)
  const hosts: CohortLibp2p[] = []
  const transportOf = async (id: SimIdentity): Promise<Transport> => {
    if (o.libp2p !== true) return net.transport(id.peerId)
    const host = await createHost({ privateKey: id.privateKey, isMember, onRefused: () => {} })
    hosts.push(host)
    return createLibp2pTransport(host)
  }
  mkdirSync(csvDir, { recursive: true })
  const schema = loadDatasetSpec(join(DATASETS_DIR, dataset, 'spec.json'))
  const nodes: TrainNode[] = []
  for (const [org, rows] of Object.entries(parties)) {
    const identity = ids.get(org)!
    const { audit, store } = await memoryAudit(identity)
    const csv = join(csvDir, `${dataset}-${org}-${rows.length}-${rows[0]}.csv`)
    await writePartyCsv(join(DATASETS_DIR, dataset, 'data.csv'), rows, csv)
    await importDataset({ store, audit }, { name: dataset, schema, csv })
    const node = { org, identity, store, audit, transport: await transportOf(identity) } as TrainNode
    node.policy = o.policy?.(org) ?? testPolicy()
    node.ledger = createLedger(
      store,
      audit,
      budgetCapFor(() => node.policy)
    )
    const register = async () => {
      node.stash = createInputStash()
      node.secagg = await registerSecaggParticipant(node.transport, {
        identity,
        audit,
        manifest: () => manifest,
        inputProvider: node.stash.inputProvider,
        minParticipants: (id) => secaggFloor(node.policy, node.stash.roundOf(id))
      })
      if (o.he === true)
        node.he = await registerHeAggParticipant(node.transport, {
          identity,
          audit,
          manifest: () => manifest,
          jobConfig: node.stash.heJobConfig,
          inputProvider: node.stash.heInputProvider
        })
      node.train = await registerTrainParticipant(node.transport, {
        identity,
        store,
        audit,
        ledger: node.ledger,
        policy: () => node.policy,
        manifest: () => manifest,
        stash: node.stash,
        ...(o.seed === undefined ? {} : { rng: seededRandom(`${o.seed}/${org}`) }),
        ...(o.log === undefined ? {} : { log: (l: string) => o.log!(`[${org}] ${l}`) })
      })
    }
    await register()
    node.restart = async () => {
      await node.he?.close()
      await node.secagg.close()
      await node.train.close()
      await register()
    }
    nodes.push(node)
  }
  let keyholder: TrainFederation['keyholder']
  if (o.he === true) {
    const { audit: khAudit, store: khStore } = await memoryAudit(khId)
    const keyring = await createHeKeyring(khId, khAudit, { keyId: 'key-1' })
    const handle = await registerHeKeyholder(net.transport(khId.peerId), {
      identity: khId,
      audit: khAudit,
      manifest: () => manifest,
      keyring,
      minParticipants: 2,
      store: khStore
    })
    keyholder = {
      ...khId,
      keyring,
      handle,
      audit: khAudit,
      close: async () => {
        await handle.close()
        keyring.dispose()
        await khStore.close()
      }
    }
  }
  const { audit: coordAudit } = await memoryAudit(coordId)
  const coordinator = { ...coordId, transport: await transportOf(coordId), audit: coordAudit }
  // The coordinator dials every node (nodes never dial each other: the star of SecAgg's relay).
  for (const host of hosts.slice(0, -1)) await hosts.at(-1)!.dial(host.getMultiaddrs()[0]!)
  const jobs = createMemoryJobStore()
  return {
    net,
    manifest,
    nodes,
    coordinator,
    jobs,
    ...(keyholder === undefined ? {} : { keyholder }),
    node: (org) => nodes.find((n) => n.org === org)!,
    async submit(config) {
      const at = new Date().toISOString()
      const job: JobRecord = {
        id: `job-test-${process.pid}-${++jobCounter}`,
        config: JobConfig.parse(config),
        status: 'pending',
        createdAt: at,
        updatedAt: at,
        round: 0,
        participants: [],
        declined: []
      }
      await jobs.putJob(job)
      return job
    },
    run(jobId, options = {}) {
      return runJob(
        {
          transport: options.transport ?? coordinator.transport,
          store: jobs,
          manifest: () => manifest,
          audit: coordAudit,
          log: o.log ?? (() => {}),
          ...(options.onRound === undefined ? {} : { onRound: options.onRound })
        },
        jobId,
        options.signal === undefined ? {} : { signal: options.signal }
      )
    },
    async close() {
      await keyholder?.close()
      for (const n of nodes) {
        await n.he?.close()
        await n.secagg.close()
        await n.train.close()
        await n.store.close()
      }
      for (const h of hosts) await h.stop()
    }
  }
}
