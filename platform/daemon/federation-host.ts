/**
 * The libp2p side of a daemon (a node or the coordinator): a host that admits only federation
 * members, the request/response transport on it, audit records of admissions and refusals, the
 * pid file and the started/stopped audit entries. The manifest is read through a getter, so a
 * reload (see watch-manifest.ts) takes effect for the next connection.
 */
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import type { FederationManifest } from '../../configs/federation.ts'
import type { Transport } from '../../protocols/transport.ts'
import type { AuditLog } from '../audit/audit-log.ts'
import { findMember } from '../federation/manifest.ts'
import type { NodeIdentity } from '../identity/identity.ts'
import { createHost } from '../net/libp2p-host.ts'
import type { CohortLibp2p } from '../net/libp2p-host.ts'
import { createLibp2pTransport } from '../net/libp2p-transport.ts'
import type { RefusedPeer } from '../net/membership-gater.ts'

/** Refusals of one peer are audit-logged at most once per this interval, so a dialler cannot flood the log. */
const REFUSAL_LOG_INTERVAL_MS = 60_000

/** What {@link createFederationHost} needs from the daemon. */
export interface FederationHostInit {
  /** Names the daemon in audit kinds (`${role}-started`), actors and log lines. */
  role: 'node' | 'coordinator'
  home: {
    readonly dir: string
    readonly config: { readonly name: string; readonly listen: string[] }
    readonly identity: NodeIdentity
    readonly audit: AuditLog
  }
  /** File name (in `home.dir`) holding the pid while the host runs. */
  pidFile: string
  /** The current manifest. */
  manifest(): FederationManifest
  log(line: string): void
}

/** A daemon's libp2p host, not yet listening. */
export interface FederationHost {
  readonly libp2p: CohortLibp2p
  readonly transport: Transport
  /** Starts listening, writes the pid file and audit-logs `${role}-started`; returns the listen addresses. */
  start(): Promise<string[]>
  /** Dials every member with a known address (except self) not yet connected; returns how many are connected. */
  connectMembers(options?: { signal?: AbortSignal }): Promise<number>
  /** Stops libp2p, waits for pending audit writes, audit-logs `${role}-stopped` and removes the pid file. */
  stop(): Promise<void>
}

/**
 * Creates the host with the membership gater and the transport.
 *
 * @example
 * const host = await createFederationHost({ role: 'node', home, pidFile: 'node.pid', manifest: () => manifest, log })
 * await host.start()
 */
export async function createFederationHost(init: FederationHostInit): Promise<FederationHost> {
  const { role, home, log } = init
  const self = home.identity.peerId
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
  const isMember = (peerId: string) => peerId !== self && findMember(init.manifest(), peerId) !== undefined

  const libp2p = await createHost({
    privateKey: home.identity.privateKey,
    listen: home.config.listen,
    isMember,
    onRefused
  })
  libp2p.addEventListener('peer:connect', (evt) => {
    const peerId = evt.detail.toString()
    const org = findMember(init.manifest(), peerId)?.org
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
  const pidPath = join(home.dir, init.pidFile)

  return {
    libp2p,
    transport,
    async start() {
      await libp2p.start()
      const addrs = libp2p.getMultiaddrs().map((a) => a.toString())
      writeFileSync(pidPath, `${process.pid}\n`)
      const manifest = init.manifest()
      await home.audit.append(
        `${role}-started`,
        { peerId: self, addrs, federation: manifest.federation, members: manifest.members.length },
        { actor: role }
      )
      log(`${role} ${home.config.name} started as ${self}`)
      for (const a of addrs) log(`listening on ${a}`)
      return addrs
    },
    async connectMembers(options = {}) {
      let ok = 0
      for (const m of init.manifest().members) {
        if (m.peerId === self || m.multiaddrs.length === 0) continue
        if (libp2p.getConnections().some((c) => c.remotePeer.toString() === m.peerId)) {
          ok++
          continue
        }
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
    async stop() {
      await libp2p.stop()
      await Promise.allSettled([...pending])
      await home.audit.append(`${role}-stopped`, { peerId: self }, { actor: role })
      rmSync(pidPath, { force: true })
    }
  }
}
