import { rmSync, watch, writeFileSync } from 'node:fs'
import type { FSWatcher } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { multiaddr } from '@multiformats/multiaddr'
import type { FederationManifest } from '../configs/federation.ts'
import type { Transport } from '../protocols/transport.ts'
import { findMember, readManifest } from '../platform/federation/manifest.ts'
import { createHost } from '../platform/net/libp2p-host.ts'
import type { CohortLibp2p } from '../platform/net/libp2p-host.ts'
import { createLibp2pTransport } from '../platform/net/libp2p-transport.ts'
import type { RefusedPeer } from '../platform/net/membership-gater.ts'
import { CoordinatorHomeError, JobRunnerMissingError } from './errors.ts'
import { COORDINATOR_FILES, openCoordinatorHome } from './home.ts'
import type { CoordinatorHome } from './home.ts'
import { runJob as defaultRunJob } from './jobs/run-job.ts'
import type { RunJob } from './jobs/types.ts'
import { createJobScheduler } from './scheduler/job-scheduler.ts'
import type { JobScheduler } from './scheduler/job-scheduler.ts'
import { createJobStore } from './store/job-store.ts'

/** One federation member as the coordinator sees it. */
export interface MemberView {
  org: string
  peerId: string
  roles: string[]
  connected: boolean
  addrs: string[]
}

/** `GET /v1/status`: who this coordinator is, which nodes are connected, what is running. */
export interface CoordinatorStatus {
  name: string
  peerId: string
  federation: string
  addrs: string[]
  nodes: MemberView[]
  /** Nodes currently connected over libp2p. */
  connected: number
  jobs: { running: string[]; queued: string[]; runner: 'installed' | 'missing' | 'unknown' }
}

/** A running coordinator: home, libp2p host, transport and job scheduler. */
export interface CohortCoordinator {
  readonly home: CoordinatorHome
  readonly libp2p: CohortLibp2p
  readonly transport: Transport
  readonly jobs: JobScheduler
  manifest(): FederationManifest
  status(): CoordinatorStatus
  /** Dials every member with a known address (except self); returns how many connected. */
  connectMembers(options?: { signal?: AbortSignal }): Promise<number>
  /** Pauses running jobs (they resume at the next start), stops libp2p and releases the lock. */
  stop(): Promise<void>
}

/** Options of {@link startCoordinator}. */
export interface CoordinatorStartOptions {
  /** Log a line per event (for `cohort coordinator start`). @default no logging */
  log?: (line: string) => void
  /**
   * The job runner. A function is used as is; a string is a module path (or file URL) whose `runJob`
   * export is loaded when the scheduler starts. @default `runJob` of coordinator/jobs/run-job.ts
   */
  runJob?: RunJob | string
  /** Resume `running` and queue `pending` jobs at start. @default true */
  resumeJobs?: boolean
}

/** Refusals of one peer are audit-logged at most once per this interval, so a dialler cannot flood the log. */
const REFUSAL_LOG_INTERVAL_MS = 60_000

/**
 * Loads `runJob` (or the default export) from a module path or file URL: another runner for tests
 * and simulations (`cohort coordinator start --job-runner MODULE`).
 *
 * @example
 * const runJob = await loadRunJob('tests/helpers/fake-run-job.ts')
 */
export async function loadRunJob(module: string | URL): Promise<RunJob> {
  const url =
    module instanceof URL ? module : /^file:/.test(module) ? new URL(module) : pathToFileURL(resolve(module))
  const mod = (await import(url.href)) as { runJob?: unknown; default?: unknown }
  const fn = mod.runJob ?? mod.default
  if (typeof fn !== 'function')
    throw new JobRunnerMissingError(`${fileURLToPath(url)} does not export a runJob function`)
  return fn as RunJob
}

/**
 * Starts a coordinator from its directory: opens the store (taking the lock), loads the manifest
 * (which must list this peer with role `coordinator`, or nodes would refuse its rounds), starts
 * libp2p with the membership gater and the transport, and starts the job scheduler, which resumes
 * `running` jobs from their last completed round.
 *
 * @example
 * const coordinator = await startCoordinator(dir, { log: console.error })
 * const job = await coordinator.jobs.submit(config)
 * await coordinator.stop()
 */
export async function startCoordinator(
  dir: string,
  opts: CoordinatorStartOptions = {}
): Promise<CohortCoordinator> {
  const log = opts.log ?? (() => {})
  const home = await openCoordinatorHome(dir)
  const self = home.identity.peerId
  let manifest: FederationManifest
  try {
    manifest = readManifest(home.federationPath)
    if (!findMember(manifest, self)?.roles.includes('coordinator'))
      throw new CoordinatorHomeError(
        `this coordinator (${self}) is not listed with role coordinator in ${home.federationPath}; add it with "cohort federation add-member --file ${home.federationPath} --org ${home.config.name} --peer-id ${self} --roles coordinator --multiaddr ADDR"`
      )
  } catch (err) {
    await home.close()
    throw err
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
  const transport = createLibp2pTransport(libp2p, {
    onInboundError: (e) => {
      if (rateLimited(`${e.from}\u0000${e.protocol}\u0000${e.code}`)) return
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

  const store = createJobStore(home.store)
  const runnerModule = typeof opts.runJob === 'string' ? opts.runJob : undefined
  const jobs = createJobScheduler({
    store,
    ...(runnerModule !== undefined
      ? { loadRunJob: () => loadRunJob(runnerModule) }
      : { runJob: typeof opts.runJob === 'function' ? opts.runJob : defaultRunJob }),
    transport,
    manifest: () => manifest,
    audit: home.audit,
    log,
    maxConcurrent: home.config.jobs.maxConcurrent
  })

  try {
    await libp2p.start()
  } catch (err) {
    watcher?.close()
    await home.close()
    throw err
  }
  const addrs = libp2p.getMultiaddrs().map((a) => a.toString())
  writeFileSync(join(home.dir, COORDINATOR_FILES.pid), `${process.pid}\n`)
  await home.audit.append(
    'coordinator-started',
    { peerId: self, addrs, federation: manifest.federation, members: manifest.members.length },
    { actor: 'coordinator' }
  )
  log(`coordinator ${home.config.name} started as ${self}`)
  for (const a of addrs) log(`listening on ${a}`)
  if (opts.resumeJobs !== false) {
    const { resumed, queued } = await jobs.start()
    if (resumed.length > 0) log(`resuming ${resumed.length} running job(s): ${resumed.join(', ')}`)
    if (queued.length > 0) log(`${queued.length} pending job(s) queued`)
  }

  let stopped = false
  return {
    home,
    libp2p,
    transport,
    jobs,
    manifest: () => manifest,
    status() {
      const connected = new Set(libp2p.getPeers().map((p) => p.toString()))
      const nodes: MemberView[] = manifest.members
        .filter((m) => m.peerId !== self && m.roles.includes('node'))
        .map((m) => ({
          org: m.org,
          peerId: m.peerId,
          roles: m.roles,
          connected: connected.has(m.peerId),
          addrs: m.multiaddrs
        }))
      return {
        name: home.config.name,
        peerId: self,
        federation: manifest.federation,
        addrs: libp2p.getMultiaddrs().map((a) => a.toString()),
        nodes,
        connected: nodes.filter((n) => n.connected).length,
        jobs: { running: jobs.running(), queued: jobs.queued(), runner: jobs.runner() }
      }
    },
    async connectMembers(options = {}) {
      let ok = 0
      for (const m of manifest.members) {
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
      if (stopped) return
      stopped = true
      await jobs.stop()
      watcher?.close()
      await libp2p.stop()
      await Promise.allSettled([...pending])
      await home.audit.append('coordinator-stopped', { peerId: self }, { actor: 'coordinator' })
      rmSync(join(home.dir, COORDINATOR_FILES.pid), { force: true })
      await home.close()
      log('coordinator stopped')
    }
  }
}
