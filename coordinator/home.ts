import { CoordinatorConfig } from '../configs/coordinator-config.ts'
import { initDaemonHome, openDaemonHome } from '../platform/daemon/daemon-home.ts'
import type { DaemonHome, DaemonInitResult } from '../platform/daemon/daemon-home.ts'
import { CoordinatorHomeError, CoordinatorLockedError } from './errors.ts'

/** Files of a coordinator directory. */
export const COORDINATOR_FILES = {
  config: 'coordinator.json',
  identity: 'identity.key',
  pid: 'coordinator.pid',
  /** Written while the API serves: `{ url, pid, peerId, addrs, token }` (mode 0600). */
  endpoint: 'api.json'
} as const

/**
 * An opened coordinator directory: config, identity, store and audit log. Close it to release the
 * lock. Jobs, rounds and models live in the store's `jobs`, `rounds` and `models` sublevels.
 */
export type CoordinatorHome = DaemonHome<CoordinatorConfig>

/** Options of {@link initCoordinatorHome}. */
export interface CoordinatorInitOptions {
  name: string
  /** @default ['/ip4/127.0.0.1/tcp/0'] */
  listen?: string[]
  /** @default 0 (any free port) */
  apiPort?: number
  /** @default 'federation.json' */
  federation?: string
}

/** What {@link initCoordinatorHome} created. */
export type CoordinatorInitResult = DaemonInitResult

/**
 * Creates a coordinator directory: identity key (0600), `coordinator.json` with the API token's
 * SHA-256, the LevelDB store and the first audit entry.
 *
 * @example
 * const { peerId, token } = await initCoordinatorHome('/var/lib/cohort-coord', { name: 'coordinator' })
 */
export function initCoordinatorHome(
  dirArg: string,
  opts: CoordinatorInitOptions
): Promise<CoordinatorInitResult> {
  return initDaemonHome(dirArg, {
    files: COORDINATOR_FILES,
    config: (tokenSha256) =>
      CoordinatorConfig.parse({
        name: opts.name,
        listen: opts.listen,
        api: { port: opts.apiPort ?? 0, tokenSha256 },
        federation: opts.federation
      }),
    initializedKind: 'coordinator-initialized',
    alreadyInitialised: (dir) =>
      new CoordinatorHomeError(`${dir} is already a coordinator directory; choose another --dir`)
  })
}

/**
 * Opens an initialised coordinator directory, taking its database lock; a second opener gets
 * `COHORT_COORDINATOR_LOCKED` naming the holder's pid.
 *
 * @example
 * const home = await openCoordinatorHome(dir)
 * try { console.log(home.identity.peerId) } finally { await home.close() }
 */
export function openCoordinatorHome(dirArg: string): Promise<CoordinatorHome> {
  return openDaemonHome(dirArg, {
    files: COORDINATOR_FILES,
    schema: CoordinatorConfig,
    what: 'coordinator config',
    notInitialised: (dir) =>
      new CoordinatorHomeError(
        `${dir} is not a coordinator directory; run "cohort coordinator init --dir ${dirArg} --name NAME" first`
      ),
    locked: (dir, holder) =>
      new CoordinatorLockedError(
        `coordinator directory ${dir} is in use by another process${holder}; stop that coordinator first or use its API`
      )
  })
}
