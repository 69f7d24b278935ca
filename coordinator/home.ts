import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { CoordinatorConfig } from '../configs/coordinator-config.ts'
import { loadFile } from '../configs/load.ts'
import { hashToken, newToken } from '../platform/api/token.ts'
import { createAuditLog } from '../platform/audit/audit-log.ts'
import type { AuditLog } from '../platform/audit/audit-log.ts'
import { createIdentity, loadIdentity } from '../platform/identity/identity.ts'
import type { NodeIdentity } from '../platform/identity/identity.ts'
import { openNodeStore } from '../platform/storage/db.ts'
import type { NodeStore } from '../platform/storage/db.ts'
import { CoordinatorHomeError, CoordinatorLockedError } from './errors.ts'

/** Files of a coordinator directory. */
export const COORDINATOR_FILES = {
  config: 'coordinator.json',
  identity: 'identity.key',
  pid: 'coordinator.pid',
  /** Written while the API serves: `{ url, pid, peerId, addrs, token }` (mode 0600). */
  endpoint: 'api.json'
} as const

/** An opened coordinator directory: config, identity, store and audit log. Close it to release the lock. */
export interface CoordinatorHome {
  readonly dir: string
  readonly config: CoordinatorConfig
  readonly identity: NodeIdentity
  /** jobs, rounds and models live in the `jobs`, `rounds` and `models` sublevels. */
  readonly store: NodeStore
  readonly audit: AuditLog
  /** Absolute path of the federation manifest. */
  readonly federationPath: string
  close(): Promise<void>
}

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
export interface CoordinatorInitResult {
  dir: string
  peerId: string
  /** The API bearer token. Shown once; only its SHA-256 is stored. */
  token: string
  configPath: string
}

/**
 * Creates a coordinator directory: identity key (0600), `coordinator.json` with the API token's
 * SHA-256, the LevelDB store and the first audit entry.
 *
 * @example
 * const { peerId, token } = await initCoordinatorHome('/var/lib/cohort-coord', { name: 'coordinator' })
 */
export async function initCoordinatorHome(
  dirArg: string,
  opts: CoordinatorInitOptions
): Promise<CoordinatorInitResult> {
  const dir = resolve(dirArg)
  const configPath = join(dir, COORDINATOR_FILES.config)
  if (existsSync(configPath))
    throw new CoordinatorHomeError(`${dir} is already a coordinator directory; choose another --dir`)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const token = newToken()
  const config = CoordinatorConfig.parse({
    name: opts.name,
    listen: opts.listen,
    api: { port: opts.apiPort ?? 0, tokenSha256: hashToken(token) },
    federation: opts.federation
  })
  const identity = await createIdentity(join(dir, COORDINATOR_FILES.identity))
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 })
  const store = await openNodeStore(dir)
  try {
    const audit = createAuditLog(store, identity)
    await audit.append(
      'coordinator-initialized',
      { name: config.name, peerId: identity.peerId },
      { actor: 'cli' }
    )
  } finally {
    await store.close()
  }
  return { dir, peerId: identity.peerId, token, configPath }
}

function lockHolder(dir: string): string {
  try {
    const pid = Number.parseInt(readFileSync(join(dir, COORDINATOR_FILES.pid), 'utf8'), 10)
    if (Number.isSafeInteger(pid)) return ` (pid ${pid})`
  } catch {}
  return ''
}

/**
 * Opens an initialised coordinator directory, taking its database lock; a second opener gets
 * `COHORT_COORDINATOR_LOCKED` naming the holder's pid.
 *
 * @example
 * const home = await openCoordinatorHome(dir)
 * try { console.log(home.identity.peerId) } finally { await home.close() }
 */
export async function openCoordinatorHome(dirArg: string): Promise<CoordinatorHome> {
  const dir = resolve(dirArg)
  const configPath = join(dir, COORDINATOR_FILES.config)
  if (!existsSync(configPath))
    throw new CoordinatorHomeError(
      `${dir} is not a coordinator directory; run "cohort coordinator init --dir ${dirArg} --name NAME" first`
    )
  const config = loadFile(CoordinatorConfig, configPath, 'coordinator config')
  const identity = loadIdentity(join(dir, COORDINATOR_FILES.identity))
  let store: NodeStore
  try {
    store = await openNodeStore(dir)
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause
    if (cause?.code === 'LEVEL_LOCKED') {
      throw new CoordinatorLockedError(
        `coordinator directory ${dir} is in use by another process${lockHolder(dir)}; stop that coordinator first or use its API`
      )
    }
    throw err
  }
  const audit = createAuditLog(store, identity)
  const federationPath = isAbsolute(config.federation) ? config.federation : join(dir, config.federation)
  return { dir, config, identity, store, audit, federationPath, close: () => store.close() }
}
