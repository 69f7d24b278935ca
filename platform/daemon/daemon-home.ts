/**
 * The directory a daemon (a node or the coordinator) runs from: identity key, JSON config with the
 * API token's SHA-256, LevelDB store and audit log. Both roles lay it out and open it the same way;
 * they differ only in file names, config schema and error classes, which they pass in.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import type { z } from 'zod'
import { loadFile } from '../../configs/load.ts'
import { hashToken, newToken } from '../api/token.ts'
import { createAuditLog } from '../audit/audit-log.ts'
import type { AuditLog } from '../audit/audit-log.ts'
import { createIdentity, loadIdentity } from '../identity/identity.ts'
import type { NodeIdentity } from '../identity/identity.ts'
import { openNodeStore } from '../storage/db.ts'
import type { NodeStore } from '../storage/db.ts'

/** File names inside a daemon directory. */
export interface DaemonHomeFiles {
  readonly config: string
  readonly identity: string
  /** Holds the running daemon's pid, so a second opener can name the lock holder. */
  readonly pid: string
  readonly endpoint: string
}

/** An opened daemon directory. Close it to release the store's lock. */
export interface DaemonHome<C> {
  readonly dir: string
  readonly config: C
  readonly identity: NodeIdentity
  readonly store: NodeStore
  readonly audit: AuditLog
  /** Absolute path of the federation manifest. */
  readonly federationPath: string
  close(): Promise<void>
}

/** What {@link initDaemonHome} created. */
export interface DaemonInitResult {
  dir: string
  peerId: string
  /** The API bearer token. Shown once; only its SHA-256 is stored. */
  token: string
  configPath: string
}

/** How one role initialises its directory. */
export interface DaemonInitSpec {
  files: DaemonHomeFiles
  /** The validated config to write, given the new API token's SHA-256. */
  config(tokenSha256: string): { name: string }
  /** Audit kind of the directory's first entry, e.g. `node-initialized`. */
  initializedKind: string
  /** Thrown when the directory already holds a config. */
  alreadyInitialised(dir: string): Error
}

/**
 * Creates a daemon directory: identity key (0600), config (0600) with the API token's SHA-256, the
 * store and the first audit entry.
 *
 * @example
 * const r = await initDaemonHome(dir, { files, config: (h) => NodeConfig.parse({ name, api: { tokenSha256: h } }), initializedKind: 'node-initialized', alreadyInitialised: (d) => new NodeHomeError(d) })
 */
export async function initDaemonHome(dirArg: string, spec: DaemonInitSpec): Promise<DaemonInitResult> {
  const dir = resolve(dirArg)
  const configPath = join(dir, spec.files.config)
  if (existsSync(configPath)) throw spec.alreadyInitialised(dir)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const token = newToken()
  const config = spec.config(hashToken(token))
  const identity = await createIdentity(join(dir, spec.files.identity))
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 })
  const store = await openNodeStore(dir)
  try {
    const audit = createAuditLog(store, identity)
    await audit.append(spec.initializedKind, { name: config.name, peerId: identity.peerId }, { actor: 'cli' })
  } finally {
    await store.close()
  }
  return { dir, peerId: identity.peerId, token, configPath }
}

/** How one role opens its directory. */
export interface DaemonOpenSpec<C> {
  files: DaemonHomeFiles
  schema: z.ZodType<C>
  /** Names the config in load errors, e.g. `node config`. */
  what: string
  /** Thrown when the directory holds no config. */
  notInitialised(dir: string): Error
  /** Thrown when another process holds the store; `holder` is ` (pid N)` or empty. */
  locked(dir: string, holder: string): Error
}

function lockHolder(dir: string, pidFile: string): string {
  try {
    const pid = Number.parseInt(readFileSync(join(dir, pidFile), 'utf8'), 10)
    if (Number.isSafeInteger(pid)) return ` (pid ${pid})`
  } catch {}
  return ''
}

/**
 * Opens an initialised daemon directory, taking its database lock.
 *
 * @example
 * const home = await openDaemonHome(dir, { files, schema: NodeConfig, what: 'node config', notInitialised, locked })
 * try { console.log(home.identity.peerId) } finally { await home.close() }
 */
export async function openDaemonHome<C extends { federation: string }>(
  dirArg: string,
  spec: DaemonOpenSpec<C>
): Promise<DaemonHome<C>> {
  const dir = resolve(dirArg)
  const configPath = join(dir, spec.files.config)
  if (!existsSync(configPath)) throw spec.notInitialised(dir)
  const config = loadFile(spec.schema, configPath, spec.what)
  const identity = loadIdentity(join(dir, spec.files.identity))
  let store: NodeStore
  try {
    store = await openNodeStore(dir)
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause
    if (cause?.code === 'LEVEL_LOCKED') throw spec.locked(dir, lockHolder(dir, spec.files.pid))
    throw err
  }
  const audit = createAuditLog(store, identity)
  const federationPath = isAbsolute(config.federation) ? config.federation : join(dir, config.federation)
  return { dir, config, identity, store, audit, federationPath, close: () => store.close() }
}
