/**
 * The node's homomorphic-aggregation services: every node serves the he-agg participant (it
 * encrypts its own summands for `secureAggregation: he` jobs); a node whose manifest entry has the
 * `keyholder` role also serves the key-holder with its keys restored from `<home>/he-keys`
 * (generated and written there on first start).
 */
import type { FederationManifest } from '../../configs/federation.ts'
import { getHeContext, publicKeyFingerprint } from '../../crypto/he/index.ts'
import { HeAggParamsError } from '../../protocols/he-agg/errors.ts'
import type { Transport } from '../../protocols/transport.ts'
import type { NodeHome } from '../home.ts'
import type { InputStash } from '../jobs/input-stash.ts'
import { createHeKeyring, registerHeKeyholder } from '../runners/he-agg-keyholder.ts'
import type { HeKeyholderHandle, HeKeyring } from '../runners/he-agg-keyholder.ts'
import { registerHeAggParticipant } from '../runners/he-agg-participant.ts'
import type { HeAggParticipantHandle } from '../runners/he-agg-participant.ts'
import { loadKeySets, saveKeySet } from './keyring-files.ts'

/** What {@link registerHeServices} needs from the running node. */
export interface HeServicesDeps {
  home: NodeHome
  transport: Transport
  manifest: () => FederationManifest
  stash: InputStash
  /** Fewest contributions the key-holder ever decrypts a sum of (the node policy's minParticipants). */
  minParticipants: () => number
  log: (line: string) => void
}

/** Registered HE services; close them before stopping libp2p. */
export interface HeServices {
  readonly participant: HeAggParticipantHandle
  /** Present on key-holder nodes. */
  readonly keyholder?: { handle: HeKeyholderHandle; keyring: HeKeyring }
  close(): Promise<void>
}

/**
 * Opens (or creates) the key-holder keyring persisted in the node home.
 * @example
 * using ring = await openPersistentKeyring(home)
 * ring.current().announcement.keyFingerprint
 */
export async function openPersistentKeyring(home: NodeHome): Promise<HeKeyring> {
  const context = await getHeContext('bfv-8192')
  const { sets, current } = loadKeySets(home.dir, context)
  return createHeKeyring(home.identity, home.audit, {
    context,
    restore: sets,
    ...(current === undefined ? {} : { restoreCurrent: current }),
    persist: (keyId, set) => saveKeySet(home.dir, keyId, set, { current: true })
  })
}

/**
 * Registers the he-agg participant and, on a key-holder, the key-holder.
 * @example
 * const he = await registerHeServices({ home, transport, manifest, stash, minParticipants: () => 3, log })
 */
export async function registerHeServices(deps: HeServicesDeps): Promise<HeServices> {
  const { home, transport, manifest, stash } = deps
  const participant = await registerHeAggParticipant(transport, {
    identity: home.identity,
    audit: home.audit,
    manifest,
    jobConfig: async (jobId) => {
      const job = await stash.heJobConfig(jobId)
      if (job === undefined) return undefined
      // The manifest is the trust root: a coordinator cannot point nodes at a key of its choosing.
      const pinned = manifest()
        .members.filter((m) => m.roles.includes('keyholder') && m.heKeyFingerprint !== undefined)
        .map((m) => m.heKeyFingerprint)
      if (pinned.length > 0 && !pinned.includes(job.pinnedFingerprint))
        throw new HeAggParamsError(
          `job ${jobId} pins HE key ${job.pinnedFingerprint.slice(0, 16)}…, which no key-holder of the manifest has`
        )
      return job
    },
    inputProvider: stash.heInputProvider
  })
  const self = manifest().members.find((m) => m.peerId === home.identity.peerId)
  if (self?.roles.includes('keyholder') !== true) {
    return { participant, close: () => participant.close() }
  }
  let keyring: HeKeyring | undefined
  try {
    keyring = await openPersistentKeyring(home)
    const handle = await registerHeKeyholder(transport, {
      identity: home.identity,
      audit: home.audit,
      manifest,
      keyring,
      minParticipants: Math.max(2, deps.minParticipants()),
      store: home.store
    })
    const { keyId } = keyring.current()
    deps.log(
      `HE key-holder: key ${keyId}, fingerprint ${publicKeyFingerprint(keyring.get(keyId)!.publicKey)}`
    )
    const ring = keyring
    return {
      participant,
      keyholder: { handle, keyring: ring },
      async close() {
        await Promise.allSettled([participant.close(), handle.close()])
        ring.dispose()
      }
    }
  } catch (err) {
    keyring?.dispose()
    await participant.close()
    throw err
  }
}
