/**
 * In-process PSI parties for the dev command (`cohort psi run`), benches and tests: each party gets
 * a fresh Ed25519 identity, a memory-level store with its own signed audit log, and the real
 * {@link registerPsiParty} runner on a transport the caller provides (the loopback network, or
 * libp2p hosts). The federation manifest names every party with role `node`.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { MemoryLevel } from 'memory-level'
import type { FederationManifest } from '../../configs/federation.ts'
import type { PsiPool } from '../../crypto/psi/psi-pool.ts'
import type { PsiNormalisation, PsiReveal } from '../../protocols/psi/plan.ts'
import type { Transport } from '../../protocols/transport.ts'
import { createAuditLog } from '../../platform/audit/audit-log.ts'
import type { AuditLog } from '../../platform/audit/audit-log.ts'
import { storeOn } from '../../platform/storage/db.ts'
import type { NodeStore, RootDb } from '../../platform/storage/db.ts'
import { registerPsiParty } from './psi-party.ts'
import type { PsiJobInput, PsiPartyHandle } from './psi-party.ts'
import type { PsiPartyResult } from './psi-session.ts'

/**
 * One in-process party.
 * @example
 * const spec: LocalPsiPartySpec = { name: 'lender', ids, reveal: 'size' }
 */
export interface LocalPsiPartySpec {
  name: string
  ids: readonly string[]
  /** What this party learns. @default 'intersection' */
  reveal?: PsiReveal
  /** Overrides the job input (e.g. another salt, a stricter policy). */
  input?: Partial<PsiJobInput>
}

/**
 * Options of {@link createLocalPsiParties}.
 * @example
 * createLocalPsiParties({ parties, transportFor: (p) => net.transport(p) } satisfies LocalPsiOptions)
 */
export interface LocalPsiOptions {
  parties: readonly LocalPsiPartySpec[]
  /** The transport of a peer id (e.g. a loopback network's `transport`). */
  transportFor: (peerId: string) => Transport
  /** The job's salt. @default 32 random bytes */
  salt?: Uint8Array
  /** One pool for every party (fairer on few cores than one pool each). */
  pool?: PsiPool
  /** Worker threads per party when no shared pool is given. */
  poolSize?: number
  /** Identity keys of the parties (same order), e.g. of libp2p hosts already created. @default fresh keys */
  keys?: readonly Ed25519PrivateKey[]
}

/**
 * A running in-process party.
 * @example
 * const [leader]: LocalPsiParty[] = local.parties
 */
export interface LocalPsiParty {
  name: string
  peerId: string
  privateKey: Ed25519PrivateKey
  store: NodeStore
  audit: AuditLog
  transport: Transport
  handle: PsiPartyHandle
  reveal: PsiReveal
}

/**
 * The parties and their manifest.
 * @example
 * const local: LocalPsiParties = await createLocalPsiParties(options)
 */
export interface LocalPsiParties {
  parties: LocalPsiParty[]
  manifest: FederationManifest
  salt: Uint8Array
  /** Runs a session led by parties[0]; resolves with every party's result, by name. */
  run(options?: {
    jobId?: string
    batchPoints?: number
    normalisation?: PsiNormalisation
    timeoutMs?: number
  }): Promise<Map<string, PsiPartyResult>>
  close(): Promise<void>
}

/**
 * Builds the parties and registers every runner. The manifest may be extended by the caller (e.g.
 * a non-member test) through `manifest.members`.
 *
 * @example
 * const net = createLoopbackNetwork()
 * const local = await createLocalPsiParties({ parties, transportFor: (p) => net.transport(p) })
 * const results = await local.run({ jobId: 'psi-dev' })
 * await local.close()
 */
export async function createLocalPsiParties(options: LocalPsiOptions): Promise<LocalPsiParties> {
  const salt = options.salt ?? crypto.getRandomValues(new Uint8Array(32))
  const keys = options.keys ?? (await Promise.all(options.parties.map(() => generateKeyPair('Ed25519'))))
  const peerIds = keys.map((k) => peerIdFromPrivateKey(k).toString())
  const manifest: FederationManifest = {
    federation: 'cohort-psi-local',
    version: 1,
    members: options.parties.map((p, i) => ({
      org: p.name,
      peerId: peerIds[i]!,
      multiaddrs: [],
      roles: ['node']
    }))
  }
  const parties: LocalPsiParty[] = []
  for (const [i, spec] of options.parties.entries()) {
    const root = new MemoryLevel<string, Uint8Array>({
      keyEncoding: 'utf8',
      valueEncoding: 'view'
    }) as unknown as RootDb
    await root.open()
    const store = storeOn(root)
    const key = keys[i]!
    const audit = createAuditLog(store, { peerId: peerIds[i]!, sign: (d) => key.sign(d) })
    const transport = options.transportFor(peerIds[i]!)
    const input: PsiJobInput = { salt, ids: spec.ids, dataset: spec.name, ...spec.input }
    const handle = await registerPsiParty(
      transport,
      {
        identity: { peerId: peerIds[i]! },
        audit,
        store,
        manifest: () => manifest,
        sessionInput: async () => input
      },
      {
        ...(options.pool === undefined ? {} : { pool: options.pool }),
        ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize })
      }
    )
    parties.push({
      name: spec.name,
      peerId: peerIds[i]!,
      privateKey: key,
      store,
      audit,
      transport,
      handle,
      reveal: spec.reveal ?? 'intersection'
    })
  }
  return {
    parties,
    manifest,
    salt,
    async run(runOptions = {}) {
      const leader = parties[0]!
      const sessionId = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex')
      const followers = parties
        .slice(1)
        .map((p) => p.handle.result(sessionId).then((r) => [p.name, r] as const))
      for (const f of followers) f.catch(() => undefined)
      const mine = await leader.handle.lead({
        jobId: runOptions.jobId ?? 'psi-local',
        sessionId,
        parties: parties.map((p) => p.peerId),
        reveal: parties.map((p) => p.reveal),
        ...(runOptions.batchPoints === undefined ? {} : { batchPoints: runOptions.batchPoints }),
        ...(runOptions.normalisation === undefined ? {} : { normalisation: runOptions.normalisation }),
        ...(runOptions.timeoutMs === undefined ? {} : { timeoutMs: runOptions.timeoutMs })
      })
      const out = new Map<string, PsiPartyResult>([[leader.name, mine]])
      for (const [name, r] of await Promise.all(followers)) out.set(name, r)
      return out
    },
    async close() {
      for (const p of parties) {
        await p.handle.close()
        await p.store.close()
      }
    }
  }
}
