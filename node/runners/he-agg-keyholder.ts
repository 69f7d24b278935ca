/**
 * The key-holder side of `/cohort/he-agg/1.0.0`: holds the federation's HE key sets (a keyring with
 * rotation), publishes signed announcements of the public keys, and decrypts sums under the rules
 * of the decryptor machine (protocols/he-agg/decryptor.ts). It never receives an individual
 * ciphertext; every decryption, with its contributors and the non-collusion statement, is in its
 * audit log before the plaintext leaves; each (job, round) is decrypted at most once.
 *
 * The key-holder must be a manifest member with role `keyholder` and never `coordinator`: the
 * runner refuses to register otherwise.
 */
import type { PrivateKey } from '@libp2p/interface'
import type { FederationManifest } from '../../configs/federation.ts'
import { isCohortError } from '../../crypto/cohort-error.ts'
import { generateKeys, getHeContext, publicKeyFingerprint } from '../../crypto/he/index.ts'
import type { HeContext, HeKeySet } from '../../crypto/he/index.ts'
import { MalformedMessageError } from '../../protocols/errors.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import { heAggDecryptorMachine } from '../../protocols/he-agg/decryptor.ts'
import { HeAggReplayError, HeAggRoleError } from '../../protocols/he-agg/errors.ts'
import { announceKey, assertKeyholderRoles } from '../../protocols/he-agg/key-announcement.ts'
import type { KeyAnnouncement } from '../../protocols/he-agg/key-announcement.ts'
import {
  decodeHeAgg,
  encodeHeAgg,
  HE_AGG_WIRE_VERSION,
  HeAggRequestSchema,
  MAX_HE_AGG_VECTOR_BYTES,
  packFloat64
} from '../../protocols/he-agg/messages.ts'
import type { HeAggRequest } from '../../protocols/he-agg/messages.ts'
import type { Transport } from '../../protocols/transport.ts'
import type { AuditLog } from '../../platform/audit/audit-log.ts'
import type { NodeStore } from '../../platform/storage/db.ts'
import { rolesFrom } from './he-agg-participant.ts'

/**
 * The key-holder's key sets, by key id; `current` is what `key` requests are answered with.
 * @example
 * const ring: HeKeyring = await createHeKeyring(identity, audit); await ring.rotate()
 */
export interface HeKeyring extends Disposable {
  readonly context: HeContext
  current(): { keyId: string; announcement: KeyAnnouncement }
  get(keyId: string): HeKeySet | undefined
  /** All key sets, for the decryptor. */
  readonly keys: ReadonlyMap<string, HeKeySet>
  /** Generates a new key set under a new key id and makes it current (old ids keep working until retired). */
  rotate(keyId?: string): Promise<KeyAnnouncement>
  /** Frees and forgets a key id (rounds naming it can no longer be decrypted). */
  retire(keyId: string): void
  dispose(): void
}

/**
 * Options of {@link createHeKeyring}.
 * @example
 * const o: HeKeyringOptions = { restore: loadKeySets(dir, ctx).sets, persist: (id, set) => saveKeySet(dir, id, set, { current: true }) }
 */
export interface HeKeyringOptions {
  context?: HeContext
  /** Id of the first generated key (tests); ignored when keys are restored. */
  keyId?: string
  /** Key sets from an earlier run, oldest first; the last (or `restoreCurrent`) becomes current. */
  restore?: ReadonlyArray<{ keyId: string; set: HeKeySet }>
  restoreCurrent?: string
  /** Called with every newly generated key set before it is announced or used. */
  persist?: (keyId: string, set: HeKeySet) => void | Promise<void>
}

/**
 * Creates a keyring with a first key set (or the restored ones), audit-logging each key generation (`he-key-generated`:
 * key id, fingerprint — the value jobs and manifests pin).
 *
 * @example
 * using ring = await createHeKeyring({ peerId, privateKey }, audit)
 * ring.current().announcement.keyFingerprint // pin this in the job
 */
export async function createHeKeyring(
  identity: { peerId: string; privateKey: PrivateKey },
  audit: Pick<AuditLog, 'append'>,
  options: HeKeyringOptions = {}
): Promise<HeKeyring> {
  const context = options.context ?? (await getHeContext('bfv-8192'))
  const keys = new Map<string, HeKeySet>()
  const announcements = new Map<string, KeyAnnouncement>()
  let currentId = ''
  for (const r of options.restore ?? []) {
    keys.set(r.keyId, r.set)
    announcements.set(r.keyId, await announceKey(identity, r.keyId, r.set))
    currentId = r.keyId
  }
  if (options.restoreCurrent !== undefined) {
    if (!keys.has(options.restoreCurrent))
      throw new HeAggReplayError(
        `restored current key ${options.restoreCurrent} is not among the restored keys`
      )
    currentId = options.restoreCurrent
  }
  const rotate = async (keyId?: string): Promise<KeyAnnouncement> => {
    const id =
      keyId ??
      `he-${new Date().toISOString().replace(/[:.]/g, '')}-${Buffer.from(crypto.getRandomValues(new Uint8Array(4))).toString('hex')}`
    if (keys.has(id)) throw new HeAggReplayError(`key id ${id} exists already`)
    const set = generateKeys(context)
    try {
      // Durable before announced: a sum under this key must stay decryptable after a restart.
      await options.persist?.(id, set)
      const announcement = await announceKey(identity, id, set)
      await audit.append('he-key-generated', {
        keyId: id,
        preset: context.preset.id,
        keyFingerprint: publicKeyFingerprint(set.publicKey),
        previous: currentId === '' ? null : currentId
      })
      keys.set(id, set)
      announcements.set(id, announcement)
      currentId = id
      return announcement
    } catch (err) {
      set.dispose()
      throw err
    }
  }
  if (currentId === '') await rotate(options.keyId)
  const dispose = () => {
    for (const k of keys.values()) k.dispose()
    keys.clear()
  }
  return {
    context,
    keys,
    current: () => ({ keyId: currentId, announcement: announcements.get(currentId)! }),
    get: (id) => keys.get(id),
    rotate,
    retire(id) {
      keys.get(id)?.dispose()
      keys.delete(id)
      announcements.delete(id)
    },
    dispose,
    [Symbol.dispose]: dispose
  }
}

/**
 * What the key-holder runner needs.
 * @example
 * registerHeKeyholder(transport, { identity, audit, manifest: () => m, keyring, minParticipants: 3 } satisfies HeKeyholderDeps)
 */
export interface HeKeyholderDeps {
  identity: { readonly peerId: string }
  audit: Pick<AuditLog, 'append'>
  manifest: () => FederationManifest
  keyring: HeKeyring
  /** Smallest number of contributions we ever decrypt a sum of (>= 2). */
  minParticipants: number
  /** Remembers decrypted rounds across restarts (protocolState sublevel); in memory without it. */
  store?: NodeStore
}

/**
 * A registered key-holder.
 * @example
 * const kh: HeKeyholderHandle = await registerHeKeyholder(transport, deps); await kh.close()
 */
export interface HeKeyholderHandle {
  /** Decryptions served since start. */
  decryptions(): number
  close(): Promise<void>
}

function roundRegister(store: NodeStore | undefined) {
  const memory = new Set<string>()
  const key = (jobId: string, round: number) => `he-agg-decrypted!${jobId}!${round}`
  return {
    async has(jobId: string, round: number): Promise<boolean> {
      if (memory.has(key(jobId, round))) return true
      return store === undefined ? false : (await store.protocolState.get(key(jobId, round))) !== undefined
    },
    async add(jobId: string, round: number): Promise<void> {
      memory.add(key(jobId, round))
      await store?.protocolState.put(key(jobId, round), { at: Date.now() })
    }
  }
}

/**
 * Registers the key-holder on `transport`.
 *
 * @throws HeAggRoleError when this node is not a `keyholder` member or is also a `coordinator`
 * @example
 * const kh = await registerHeKeyholder(transport, { identity, audit, manifest: () => m, keyring, minParticipants: 3 })
 */
export async function registerHeKeyholder(
  transport: Transport,
  deps: HeKeyholderDeps
): Promise<HeKeyholderHandle> {
  const rolesOf = rolesFrom(deps.manifest)
  assertKeyholderRoles(rolesOf, deps.identity.peerId)
  const register = roundRegister(deps.store)
  const inFlight = new Set<string>()
  let served = 0

  async function handle(req: HeAggRequest, from: string): Promise<Uint8Array> {
    if (req.phase === 'key') return encodeHeAgg(deps.keyring.current().announcement)
    if (req.phase !== 'decrypt')
      throw new HeAggRoleError(`the key-holder does not serve he-agg ${req.phase} requests`)
    const roundKey = `${req.jobId}\u0000${req.round}`
    if (inFlight.has(roundKey) || (await register.has(req.jobId, req.round))) {
      throw new HeAggReplayError(
        `job ${req.jobId} round ${req.round} was already decrypted (or is being decrypted)`
      )
    }
    inFlight.add(roundKey)
    try {
      const state = heAggDecryptorMachine.init({
        self: deps.identity.peerId,
        context: deps.keyring.context,
        rolesOf,
        keys: deps.keyring.keys,
        minParticipants: deps.minParticipants
      })
      const out = heAggDecryptorMachine.step(state, { phase: 'decrypt', from, request: req }).output
      // The decryption is on the log (and the round burned) before the plaintext leaves.
      for (const rec of out.audit)
        await deps.audit.append(rec.kind, rec.body, { actor: from, round: req.round })
      await register.add(req.jobId, req.round)
      served++
      return encodeHeAgg({
        v: HE_AGG_WIRE_VERSION,
        values: packFloat64(out.values!),
        contributors: out.contributors!
      })
    } finally {
      inFlight.delete(roundKey)
    }
  }

  await transport.handle(
    PROTOCOLS.heAgg,
    async (body, from) => {
      let req: HeAggRequest | undefined
      try {
        if (!rolesOf(from).includes('coordinator'))
          throw new HeAggRoleError(`${from} is not a coordinator of this federation`)
        try {
          req = decodeHeAgg(HeAggRequestSchema, body, MAX_HE_AGG_VECTOR_BYTES)
        } catch (err) {
          throw isCohortError(err) ? err : new MalformedMessageError('the he-agg request does not decode')
        }
        return await handle(req, from)
      } catch (err) {
        await deps.audit.append(
          'he-agg-refused',
          {
            jobId: req !== undefined && 'jobId' in req ? req.jobId : null,
            round: req !== undefined && 'round' in req ? req.round : null,
            phase: req?.phase ?? null,
            from,
            code: isCohortError(err) ? err.code : 'COHORT_INTERNAL',
            reason: String((err as Error)?.message ?? err).slice(0, 300)
          },
          { actor: from }
        )
        throw err
      }
    },
    { maxRequestBytes: MAX_HE_AGG_VECTOR_BYTES }
  )

  return {
    decryptions: () => served,
    async close() {
      await transport.unhandle(PROTOCOLS.heAgg)
    }
  }
}
