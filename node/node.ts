import { rmSync, watch, writeFileSync } from 'node:fs'
import type { FSWatcher } from 'node:fs'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { FederationManifest } from '../configs/federation.ts'
import { HOME_FILES, openNodeHome } from './home.ts'
import type { NodeHome } from './home.ts'
import { gcOrphanRows } from './data/dataset-store.ts'
import { findMember, readManifest } from '../platform/federation/manifest.ts'
import { createHost } from '../platform/net/libp2p-host.ts'
import type { CohortLibp2p } from '../platform/net/libp2p-host.ts'
import { createLibp2pTransport } from '../platform/net/libp2p-transport.ts'
import type { RefusedPeer } from '../platform/net/membership-gater.ts'
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

/** Refusals of one peer are audit-logged at most once per this interval, so a dialler cannot flood the log. */
const REFUSAL_LOG_INTERVAL_MS = 60_000

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
  const lastRefusalLog = new Map<string, number>()
  const pending = new Set<Promise<unknown>>()
  const track = (p: Promise<unknown>) => {
    const q = p
      .catch((err) => log(`audit write failed: ${(err as Error).message}`))
      .finally(() => pending.delete(q))
    pending.add(q)
  }
  const rateLimited = (key: string) => {
    const now = Date.now()
    if (now - (lastRefusalLog.get(key) ?? 0) < REFUSAL_LOG_INTERVAL_MS) return true
    lastRefusalLog.set(key, now)
    return false
  }
  const onRefused = (r: RefusedPeer) => {
    if (rateLimited(r.peerId)) return
    log(`refused ${r.direction} connection from non-member ${r.peerId}`)
    track(
      home.audit.append('peer-refused', { ...r, reason: 'not in federation manifest' }, { actor: r.peerId })
    )
  }
  const isMember = (peerId: string) => peerId !== self && findMember(manifest, peerId) !== undefined

  const libp2p = await createHost({
    privateKey: home.identity.privateKey,
    listen: home.config.listen,
    isMember,
    onRefused
  })
  libp2p.addEventListener('peer:connect', (evt) => {
    const peerId = evt.detail.toString()
    const org = findMember(manifest, peerId)?.org
    log(`connected to ${org ?? '?'} (${peerId})`)
    track(home.audit.append('peer-admitted', { peerId, org }, { actor: peerId }))
  })
  // Refused or failed inbound requests (oversized or malformed frames, handler refusals), at most
  // once per (peer, protocol, code) per interval. Handlers may also log their own refusal kind.
  const transport = createLibp2pTransport(libp2p, {
    onInboundError: (e) => {
      if (rateLimited(`${e.from}\u0000${e.protocol}\u0000${e.code}`)) return
      log(`refused ${e.protocol} request from ${e.from}: ${e.code}`)
      track(home.audit.append('protocol-refused', e, { actor: e.from }))
    }
  })

  let watcher: FSWatcher | undefined
  try {
    watcher = watch(home.federationPath, () => {
      try {
        manifest = readManifest(home.federationPath)
        log(`federation manifest reloaded: ${manifest.members.length} members`)
      } catch (err) {
        log(`manifest reload failed, keeping the previous one: ${(err as Error).message}`)
      }
    })
  } catch {}

  await libp2p.start()
  const addrs = libp2p.getMultiaddrs().map((a) => a.toString())
  writeFileSync(join(home.dir, HOME_FILES.pid), `${process.pid}\n`)
  await home.audit.append(
    'node-started',
    { peerId: self, addrs, federation: manifest.federation, members: manifest.members.length },
    { actor: 'node' }
  )
  log(`node ${home.config.name} started as ${self}`)
  for (const a of addrs) log(`listening on ${a}`)
  let participants: NodeParticipants
  try {
    participants = await registerNodeParticipants({ home, transport, manifest: () => manifest, log })
  } catch (err) {
    watcher?.close()
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
    async connectMembers(options = {}) {
      let ok = 0
      for (const m of manifest.members) {
        if (m.peerId === self || m.multiaddrs.length === 0) continue
        for (const a of m.multiaddrs) {
          try {
            await libp2p.dial(multiaddr(a.includes('/p2p/') ? a : `${a}/p2p/${m.peerId}`), {
              signal: options.signal ?? AbortSignal.timeout(5_000)
            })
            ok++
            break
          } catch (err) {
            log(`could not reach ${m.org} at ${a}: ${(err as Error).message}`)
          }
        }
      }
      return ok
    },
    ping(peerId, options = {}) {
      return libp2p.services.ping.ping(peerIdFromString(peerId), {
        signal: options.signal ?? AbortSignal.timeout(5_000)
      })
    },
    async stop() {
      if (stopped) return
      stopped = true
      watcher?.close()
      await participants.close()
      await libp2p.stop()
      await Promise.allSettled([...pending])
      await home.audit.append('node-stopped', { peerId: self }, { actor: 'node' })
      rmSync(join(home.dir, HOME_FILES.pid), { force: true })
      await home.close()
      log('node stopped')
    }
  }
  return node
}
