/**
 * The federation of a simulation, built from the production pieces: one node per party with its
 * own memory-level store holding only its rows (imported through the node's real import path), a
 * ledger under the party's policy, the real SecAgg+ (or HE) and training participants sharing an
 * input stash, and a coordinator whose job store is the coordinator's real store. Transport:
 * the in-process loopback network, or real libp2p hosts (TCP, Noise, yamux, membership gater) on
 * 127.0.0.1. Identities are derived from the scenario's seed, so peer ids — and everything ordered
 * by them — are the same on every run.
 */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { FederationManifest } from '../../configs/federation.ts'
import { NodePolicy } from '../../configs/node-config.ts'
import type { RandomSource } from '../../crypto/dp/random.ts'
import { createJobStore } from '../../coordinator/store/job-store.ts'
import type { CoordinatorJobStore } from '../../coordinator/store/job-store.ts'
import { importDataset } from '../../node/data/import.ts'
import type { DatasetSchema } from '../../node/data/schema.ts'
import { budgetCapFor } from '../../node/jobs/dataset-policy.ts'
import { createInputStash } from '../../node/jobs/input-stash.ts'
import type { InputStash } from '../../node/jobs/input-stash.ts'
import { createLedger } from '../../node/ledger/ledger.ts'
import type { Ledger } from '../../node/ledger/ledger.ts'
import { createHeKeyring, registerHeKeyholder } from '../../node/runners/he-agg-keyholder.ts'
import type { HeKeyring } from '../../node/runners/he-agg-keyholder.ts'
import { registerHeAggParticipant } from '../../node/runners/he-agg-participant.ts'
import { registerSecaggParticipant } from '../../node/runners/secagg-participant.ts'
import { registerTrainParticipant } from '../../node/runners/train-participant.ts'
import type { AuditLog } from '../../platform/audit/audit-log.ts'
import type { NodeStore } from '../../platform/storage/db.ts'
import type { Transport } from '../../protocols/transport.ts'
import type { LoopbackHooks, LoopbackNetwork } from '../loopback-transport.ts'
import { memoryAudit } from '../secagg-federation.ts'
import type { SimIdentity } from '../secagg-federation.ts'
import { seedBytes32, simRandom } from '../rng.ts'
import { simTransports } from './sim-transports.ts'

/**
 * Federation id of every simulation (the nodes' policies admit it).
 * @example
 * simPolicy({}, { allowPlaintext: false, delta: 1e-5 }).federations // [SIM_FEDERATION]
 */
export const SIM_FEDERATION = 'cohort-sim'

/**
 * One simulated node.
 * @example
 * const spent = await node.ledger.report({ dataset: 'credit_data' })
 */
export interface SimNode {
  readonly org: string
  readonly identity: SimIdentity
  readonly store: NodeStore
  readonly audit: AuditLog
  readonly ledger: Ledger
  readonly transport: Transport
  readonly policy: NodePolicy
  readonly rows: number
}

/**
 * The coordinator side.
 * @example
 * await runJob({ transport: fed.coordinator.transport, store: fed.coordinator.jobs, ... }, id)
 */
export interface SimCoordinator extends SimIdentity {
  readonly transport: Transport
  readonly audit: AuditLog
  readonly store: NodeStore
  readonly jobs: CoordinatorJobStore
}

/**
 * A running simulated federation.
 * @example
 * const fed = await createSimFederation(options); try { ... } finally { await fed.close() }
 */
export interface SimFederation {
  readonly manifest: FederationManifest
  readonly nodes: readonly SimNode[]
  readonly coordinator: SimCoordinator
  /** The loopback network (undefined over libp2p). */
  readonly net: LoopbackNetwork | undefined
  /** The key-holder's pinned public-key fingerprint (`secureAggregation: he`). */
  readonly heKeyFingerprint: string | undefined
  node(org: string): SimNode
  /** The org of a peer id (the coordinator is `coordinator`). */
  orgOf(peerId: string): string
  close(): Promise<void>
}

/**
 * Options of {@link createSimFederation}.
 * @example
 * await createSimFederation({ seed: 1, dataset: 'credit_data', schema, parties: { a: csvBytes }, policy: () => p })
 */
export interface SimFederationOptions {
  seed: number | string
  dataset: string
  schema: DatasetSchema
  /** Party -> its rows as CSV bytes (header included). */
  parties: Record<string, Uint8Array>
  policy: (org: string) => NodePolicy
  transport?: 'loopback' | 'libp2p'
  hooks?: LoopbackHooks
  /** Start the HE key-holder and the he-agg participants. */
  he?: boolean
  /** Wraps a node's input stash (malicious parties). @default unchanged */
  stashFor?: (org: string, stash: InputStash) => InputStash
  /** Node randomness (training order, DP noise). @default seeded by `seed` and the org */
  rngFor?: (org: string) => RandomSource
  log?: (line: string) => void
  /** Called after each node is ready (progress of a large build). */
  onNode?: (org: string, done: number, total: number) => void
}

/**
 * A seeded Ed25519 identity (simulations only: real nodes generate theirs from the CSPRNG).
 *
 * @example
 * const id = await seededIdentity(1, 'lender_a')
 */
export async function seededIdentity(seed: number | string, label: string): Promise<SimIdentity> {
  const privateKey = await generateKeyPairFromSeed('Ed25519', seedBytes32(seed, `identity/${label}`))
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() }
}

/**
 * A permissive node policy for a simulation, over which a scenario's `policy:` block applies.
 *
 * @example
 * simPolicy({ epsilonCap: 2 }, { allowPlaintext: true })
 */
export function simPolicy(
  over: Record<string, unknown>,
  base: { allowPlaintext: boolean; delta: number }
): NodePolicy {
  return NodePolicy.parse({
    federations: [SIM_FEDERATION],
    epsilonCap: 1e6,
    delta: base.delta,
    minNoiseMultiplier: 0,
    minParticipants: 2,
    allowPlaintext: base.allowPlaintext,
    ...over
  })
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes
}

/**
 * Builds and starts the federation.
 *
 * @example
 * const fed = await createSimFederation({ seed, dataset: table.name, schema: table.schema, parties, policy })
 */
export async function createSimFederation(o: SimFederationOptions): Promise<SimFederation> {
  const orgs = Object.keys(o.parties)
  const coordId = await seededIdentity(o.seed, 'coordinator')
  const khId = await seededIdentity(o.seed, 'keyholder')
  const ids = new Map<string, SimIdentity>()
  for (const org of orgs) ids.set(org, await seededIdentity(o.seed, `node/${org}`))
  const manifest: FederationManifest = {
    federation: SIM_FEDERATION,
    version: 1,
    members: [
      { org: 'coordinator', peerId: coordId.peerId, multiaddrs: [], roles: ['coordinator'] },
      ...(o.he === true
        ? [{ org: 'keyholder', peerId: khId.peerId, multiaddrs: [], roles: ['keyholder' as const] }]
        : []),
      ...orgs.map((org) => ({ org, peerId: ids.get(org)!.peerId, multiaddrs: [], roles: ['node' as const] }))
    ]
  }
  const byPeer = new Map(manifest.members.map((m) => [m.peerId, m.org]))
  const { net, hosts, transportOf, stopHosts } = simTransports(o.transport ?? 'loopback', byPeer, o.hooks)
  const closers: Array<() => Promise<void> | void> = []
  const close = async () => {
    for (const c of closers.reverse()) await c()
    await stopHosts()
  }
  try {
    const nodes: SimNode[] = []
    for (const [i, org] of orgs.entries()) {
      const identity = ids.get(org)!
      const { audit, store } = await memoryAudit(identity)
      closers.push(() => store.close())
      const imported = await importDataset(
        { store, audit },
        { name: o.dataset, schema: o.schema, csv: once(o.parties[org]!), actor: 'simulation' }
      )
      const policy = o.policy(org)
      const ledger = createLedger(
        store,
        audit,
        budgetCapFor(() => policy)
      )
      const transport = await transportOf(identity)
      const real = createInputStash()
      const stash = o.stashFor?.(org, real) ?? real
      const secagg = await registerSecaggParticipant(transport, {
        identity,
        audit,
        manifest: () => manifest,
        inputProvider: real.inputProvider
      })
      closers.push(() => secagg.close())
      if (o.he === true) {
        const he = await registerHeAggParticipant(transport, {
          identity,
          audit,
          manifest: () => manifest,
          jobConfig: real.heJobConfig,
          inputProvider: real.heInputProvider
        })
        closers.push(() => he.close())
      }
      const train = await registerTrainParticipant(transport, {
        identity,
        store,
        audit,
        ledger,
        policy: () => policy,
        manifest: () => manifest,
        stash,
        rng: o.rngFor?.(org) ?? simRandom(`${o.seed}/node/${org}`),
        ...(o.log === undefined ? {} : { log: (l: string) => o.log!(`[${org}] ${l}`) })
      })
      closers.push(() => train.close())
      nodes.push({ org, identity, store, audit, ledger, transport, policy, rows: imported.manifest.rows })
      o.onNode?.(org, i + 1, orgs.length)
    }
    let heKeyFingerprint: string | undefined
    if (o.he === true) {
      const { audit, store } = await memoryAudit(khId)
      closers.push(() => store.close())
      const keyring: HeKeyring = await createHeKeyring(khId, audit, { keyId: 'sim-key-1' })
      closers.push(() => keyring.dispose())
      const handle = await registerHeKeyholder(await transportOf(khId), {
        identity: khId,
        audit,
        manifest: () => manifest,
        keyring,
        minParticipants: 2,
        store
      })
      closers.push(() => handle.close())
      heKeyFingerprint = keyring.current().announcement.keyFingerprint
    }
    const { audit: coordAudit, store: coordStore } = await memoryAudit(coordId)
    closers.push(() => coordStore.close())
    const coordinator: SimCoordinator = {
      ...coordId,
      transport: await transportOf(coordId),
      audit: coordAudit,
      store: coordStore,
      jobs: createJobStore(coordStore)
    }
    // Over libp2p the coordinator dials every member (nodes never dial each other: SecAgg's star).
    if (hosts.length > 0) {
      const self = hosts.at(-1)!
      for (const h of hosts.slice(0, -1)) await self.dial(h.getMultiaddrs()[0]!)
    }
    return {
      manifest,
      nodes,
      coordinator,
      net,
      heKeyFingerprint,
      node(org) {
        const n = nodes.find((x) => x.org === org)
        if (n === undefined) throw new Error(`no simulated node ${org}`)
        return n
      },
      orgOf: (peerId) => byPeer.get(peerId) ?? peerId,
      close
    }
  } catch (err) {
    await close().catch(() => undefined)
    throw err
  }
}
