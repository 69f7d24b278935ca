/**
 * TEST ONLY: an HE aggregation federation on any transport: a coordinator, a key-holder running
 * the real keyholder runner with a fresh keyring, and n nodes running the real participant runner
 * with seeded integer updates. Memory-level audit logs for everyone.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { FederationManifest } from '../../configs/federation.ts'
import { getHeContext } from '../../crypto/he/index.ts'
import type { HeContext } from '../../crypto/he/index.ts'
import type { AuditLog } from '../../platform/audit/audit-log.ts'
import { createHeKeyring, registerHeKeyholder } from '../../node/runners/he-agg-keyholder.ts'
import type { HeKeyholderHandle, HeKeyring } from '../../node/runners/he-agg-keyholder.ts'
import { registerHeAggParticipant } from '../../node/runners/he-agg-participant.ts'
import type { HeAggParticipantHandle } from '../../node/runners/he-agg-participant.ts'
import type { Transport } from '../../protocols/transport.ts'
import { memoryAudit } from '../../simulations/secagg-federation.ts'

export interface Ident {
  peerId: string
  privateKey: Ed25519PrivateKey
}
export interface HeNode extends Ident {
  audit: AuditLog
  handle: HeAggParticipantHandle
  input: (round: number) => Float64Array
}
export interface HeFederation {
  ctx: HeContext
  manifest: FederationManifest
  coordinator: Ident & { transport: Transport }
  keyholder: Ident & { audit: AuditLog; keyring: HeKeyring; handle: HeKeyholderHandle }
  nodes: HeNode[]
  /** The fingerprint every node's job configuration pins (changeable for rotation tests). */
  pin: { fingerprint: string }
  length: number
  close(): Promise<void>
}

export async function identities(n: number): Promise<Ident[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const privateKey = await generateKeyPair('Ed25519')
      return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() }
    })
  )
}

/** Seeded signed integers in [-1000, 1000] for node i, round r. */
export function update(i: number, round: number, length: number): Float64Array {
  return Float64Array.from(
    { length },
    (_, j) => (((((i + 1) * 7919 + j * 31 + round * 104729) % 2001) + 2001) % 2001) - 1000
  )
}

export async function heFederation(opts: {
  nodes: number
  length: number
  /** [coordinator, keyholder, ...nodes] identities (e.g. of libp2p hosts). */
  ids?: Ident[]
  transportFor: (peerId: string) => Transport
  minParticipants?: number
}): Promise<HeFederation> {
  const ctx = await getHeContext('bfv-8192')
  const ids = opts.ids ?? (await identities(opts.nodes + 2))
  const [c, k, ...ns] = ids as [Ident, Ident, ...Ident[]]
  const manifest: FederationManifest = {
    federation: 'he-int',
    version: 1,
    members: [
      { org: 'coordinator', peerId: c.peerId, multiaddrs: [], roles: ['coordinator'] },
      { org: 'keyholder', peerId: k.peerId, multiaddrs: [], roles: ['keyholder'] },
      ...ns.map((x, i) => ({ org: `bank-${i}`, peerId: x.peerId, multiaddrs: [], roles: ['node' as const] }))
    ]
  }
  const khLog = await memoryAudit(k)
  const keyring = await createHeKeyring(k, khLog.audit, { context: ctx, keyId: 'key-1' })
  const pin = { fingerprint: keyring.current().announcement.keyFingerprint }
  const khHandle = await registerHeKeyholder(opts.transportFor(k.peerId), {
    identity: k,
    audit: khLog.audit,
    manifest: () => manifest,
    keyring,
    minParticipants: opts.minParticipants ?? 2,
    store: khLog.store
  })
  const nodes: HeNode[] = []
  const stores = [khLog.store]
  for (const [i, x] of ns.entries()) {
    const log = await memoryAudit(x)
    stores.push(log.store)
    const input = (round: number) => update(i, round, opts.length)
    const handle = await registerHeAggParticipant(opts.transportFor(x.peerId), {
      identity: x,
      audit: log.audit,
      manifest: () => manifest,
      context: ctx,
      jobConfig: async () => ({ pinnedFingerprint: pin.fingerprint, minParticipants: 2 }),
      inputProvider: async (_job, round) => input(round)
    })
    nodes.push({ ...x, audit: log.audit, handle, input })
  }
  return {
    ctx,
    manifest,
    coordinator: { ...c, transport: opts.transportFor(c.peerId) },
    keyholder: { ...k, audit: khLog.audit, keyring, handle: khHandle },
    nodes,
    pin,
    length: opts.length,
    async close() {
      for (const n of nodes) await n.handle.close()
      await khHandle.close()
      keyring.dispose()
      for (const s of stores) await s.close()
    }
  }
}
