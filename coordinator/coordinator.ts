import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { FederationManifest } from '../configs/federation.ts'
import type { Transport } from '../protocols/transport.ts'
import { createFederationHost } from '../platform/daemon/federation-host.ts'
import { watchManifest } from '../platform/daemon/watch-manifest.ts'
import { findMember, readManifest } from '../platform/federation/manifest.ts'
import type { CohortLibp2p } from '../platform/net/libp2p-host.ts'
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

  const host = await createFederationHost({
    role: 'coordinator',
    home,
    pidFile: COORDINATOR_FILES.pid,
    manifest: () => manifest,
    log
  })
  const { libp2p, transport } = host
  const unwatch = watchManifest(home.federationPath, log, (m) => {
    manifest = m
  })

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
    await host.start()
  } catch (err) {
    unwatch()
    await home.close()
    throw err
  }
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
    connectMembers: (options) => host.connectMembers(options),
    async stop() {
      if (stopped) return
      stopped = true
      await jobs.stop()
      unwatch()
      await host.stop()
      await home.close()
      log('coordinator stopped')
    }
  }
}
