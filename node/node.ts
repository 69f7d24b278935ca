import { peerIdFromString } from '@libp2p/peer-id'
import type { FederationManifest } from '../configs/federation.ts'
import { HOME_FILES, openNodeHome } from './home.ts'
import type { NodeHome } from './home.ts'
import { gcOrphanRows } from './data/dataset-store.ts'
import { createFederationHost } from '../platform/daemon/federation-host.ts'
import { watchManifest } from '../platform/daemon/watch-manifest.ts'
import { readManifest } from '../platform/federation/manifest.ts'
import type { CohortLibp2p } from '../platform/net/libp2p-host.ts'
import type { Transport } from '../protocols/transport.ts'
import { registerNodeParticipants } from './participants.ts'
import type { NodeParticipants } from './participants.ts'

export interface PeerView {
  peerId: string
  org?: string
  roles: string[]
  member: boolean
  connected: boolean
  addrs: string[]
}

/** A running node: its home, libp2p host and federation view. */
export interface CohortNode {
  readonly home: NodeHome
  readonly libp2p: CohortLibp2p
  /** Request/response over libp2p; the protocol participants (secagg, train) are registered on it. */
  readonly transport: Transport
  readonly participants: NodeParticipants
  manifest(): FederationManifest
  peers(): PeerView[]
  /** Dials every member with a known address (except self); returns how many connected. */
  connectMembers(options?: { signal?: AbortSignal }): Promise<number>
  ping(peerId: string, options?: { signal?: AbortSignal }): Promise<number>
  stop(): Promise<void>
}

export interface StartOptions {
  /** Log a line per event (for `cohort node start`). */
  log?: (line: string) => void
}

/**
 * Starts a node from its directory: opens the store (taking the lock), loads the manifest, starts
 * libp2p with the membership gater, and audit-logs start, admissions and refusals.
 */
export async function startNode(dir: string, opts: StartOptions = {}): Promise<CohortNode> {
  const log = opts.log ?? (() => {})
  const home = await openNodeHome(dir)
  let manifest: FederationManifest
  try {
    manifest = readManifest(home.federationPath)
  } catch (err) {
    await home.close()
    throw err
  }
  const self = home.identity.peerId
  // Rows of an import that a crash interrupted were never visible; reclaim their space.
  const gc = await gcOrphanRows(home.store)
  if (gc.chunks > 0) {
    log(`removed ${gc.chunks} row chunks of ${gc.generations} interrupted or replaced imports`)
    await home.audit.append('orphan-rows-removed', gc, { actor: 'node' })
  }
  const host = await createFederationHost({
    role: 'node',
    home,
    pidFile: HOME_FILES.pid,
    manifest: () => manifest,
    log
  })
  const { libp2p, transport } = host
  const unwatch = watchManifest(home.federationPath, log, (m) => {
    manifest = m
  })

  await host.start()
  let participants: NodeParticipants
  try {
    participants = await registerNodeParticipants({ home, transport, manifest: () => manifest, log })
  } catch (err) {
    unwatch()
    await libp2p.stop()
    await home.close()
    throw err
  }

  let stopped = false
  const node: CohortNode = {
    home,
    libp2p,
    transport,
    participants,
    manifest: () => manifest,
    peers() {
      const connected = new Set(libp2p.getPeers().map((p) => p.toString()))
      const view: PeerView[] = manifest.members
        .filter((m) => m.peerId !== self)
        .map((m) => ({
          peerId: m.peerId,
          org: m.org,
          roles: m.roles,
          member: true,
          connected: connected.has(m.peerId),
          addrs: m.multiaddrs
        }))
      return view
    },
    connectMembers: (options) => host.connectMembers(options),
    ping(peerId, options = {}) {
      return libp2p.services.ping.ping(peerIdFromString(peerId), {
        signal: options.signal ?? AbortSignal.timeout(5_000)
      })
    },
    async stop() {
      if (stopped) return
      stopped = true
      unwatch()
      await participants.close()
      await host.stop()
      await home.close()
      log('node stopped')
    }
  }
  return node
}
