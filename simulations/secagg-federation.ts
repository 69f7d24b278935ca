/**
 * An in-process SecAgg federation for simulations, the dev command and tests: N parties with fresh
 * Ed25519 identities, a coordinator, a federation manifest naming them, one memory-level audit log
 * per party, and the real participant runner registered on a loopback transport for each party.
 * Inputs are seeded test vectors (PRG of a hash of the seed and the party number), so a run is
 * reproducible; keys, masks and seeds inside the protocol stay fresh and random.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { MemoryLevel } from 'memory-level'
import type { FederationManifest } from '../configs/federation.ts'
import { sha256 } from '../crypto/hash.ts'
import { prgExpand } from '../crypto/prg.ts'
import type { RingVector } from '../crypto/ring.ts'
import { createAuditLog } from '../platform/audit/audit-log.ts'
import type { AuditLog } from '../platform/audit/audit-log.ts'
import { registerSecaggParticipant } from '../node/runners/secagg-participant.ts'
import type { SecaggParticipantHandle, SecaggParticipantInit } from '../node/runners/secagg-participant.ts'
import { storeOn } from '../platform/storage/db.ts'
import type { NodeStore, RootDb } from '../platform/storage/db.ts'
import { signWithIdentityKey } from '../crypto/sign-identity.ts'
import type { Transport } from '../protocols/transport.ts'
import { createLoopbackNetwork } from './loopback-transport.ts'
import type { LoopbackHooks, LoopbackNetwork } from './loopback-transport.ts'

/** A party's identity. */
export interface SimIdentity {
  peerId: string
  privateKey: Ed25519PrivateKey
}

/** One simulated node. */
export interface SimParty {
  identity: SimIdentity
  audit: AuditLog
  store: NodeStore
  transport: Transport
  handle: SecaggParticipantHandle
}

/** The federation. */
export interface SecaggFederation {
  net: LoopbackNetwork
  coordinator: SimIdentity & { transport: Transport }
  parties: SimParty[]
  manifest: FederationManifest
  /** Input of each party, by peer id, for the round's (jobId, round). */
  inputs: Map<string, RingVector>
  close(): Promise<void>
}

/** Options of {@link createSecaggFederation}. */
export interface SecaggFederationOptions {
  parties: number
  d: number
  /** @default 32 */
  ringBits?: number
  /** Seed of the test vectors. @default 'cohort-dev' */
  seed?: string
  hooks?: LoopbackHooks
  runner?: SecaggParticipantInit
  /** Replace a party's input provider (e.g. a wrong-length vector). */
  inputProvider?: (peerId: string, fallback: RingVector) => RingVector
}

/**
 * A fresh Ed25519 identity.
 *
 * @example
 * const id = await simIdentity()
 */
export async function simIdentity(): Promise<SimIdentity> {
  const privateKey = await generateKeyPair('Ed25519')
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() }
}

/**
 * A node store with an audit log signed by `identity`, on memory-level.
 *
 * @example
 * const { audit } = await memoryAudit(id)
 */
export async function memoryAudit(identity: SimIdentity): Promise<{ audit: AuditLog; store: NodeStore }> {
  const root = new MemoryLevel<string, Uint8Array>({
    keyEncoding: 'utf8',
    valueEncoding: 'view'
  }) as unknown as RootDb
  await root.open()
  const store = storeOn(root)
  const audit = createAuditLog(store, {
    peerId: identity.peerId,
    sign: (data) => signWithIdentityKey(identity.privateKey, data)
  })
  return { audit, store }
}

/**
 * The seeded test vector of party `i`.
 *
 * @example
 * const x = seededInput('cohort-dev', 3, 1000, 32)
 */
export function seededInput(seed: string, i: number, d: number, ringBits: number): RingVector {
  return prgExpand(sha256(new TextEncoder().encode(`cohort/sim-input/${seed}/${i}`)), d, { k: ringBits })
}

/**
 * Builds the federation and registers every participant runner.
 *
 * @example
 * const fed = await createSecaggFederation({ parties: 10, d: 100 })
 * await fed.close()
 */
export async function createSecaggFederation(opts: SecaggFederationOptions): Promise<SecaggFederation> {
  const ringBits = opts.ringBits ?? 32
  const seed = opts.seed ?? 'cohort-dev'
  const net = createLoopbackNetwork(opts.hooks ?? {})
  const coordinatorId = await simIdentity()
  const ids = await Promise.all(Array.from({ length: opts.parties }, () => simIdentity()))
  const manifest: FederationManifest = {
    federation: 'cohort-sim',
    version: 1,
    members: [
      { org: 'coordinator', peerId: coordinatorId.peerId, multiaddrs: [], roles: ['coordinator'] },
      ...ids.map((id, i) => ({
        org: `org-${i}`,
        peerId: id.peerId,
        multiaddrs: [],
        roles: ['node' as const]
      }))
    ]
  }
  const inputs = new Map<string, RingVector>()
  const parties: SimParty[] = []
  for (const [i, identity] of ids.entries()) {
    const x = seededInput(seed, i, opts.d, ringBits)
    inputs.set(identity.peerId, x)
    const { audit, store } = await memoryAudit(identity)
    const transport = net.transport(identity.peerId)
    const handle = await registerSecaggParticipant(
      transport,
      {
        identity,
        audit,
        manifest: () => manifest,
        inputProvider: async () => opts.inputProvider?.(identity.peerId, x) ?? x
      },
      opts.runner
    )
    parties.push({ identity, audit, store, transport, handle })
  }
  return {
    net,
    coordinator: { ...coordinatorId, transport: net.transport(coordinatorId.peerId) },
    parties,
    manifest,
    inputs,
    async close() {
      for (const p of parties) {
        await p.handle.close()
        await p.store.close()
      }
    }
  }
}
