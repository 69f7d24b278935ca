import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { NodeConfig } from '../configs/node-config.ts'
import { loadFile } from '../configs/load.ts'
import { createAuditLog } from '../platform/audit/audit-log.ts'
import type { AuditLog } from '../platform/audit/audit-log.ts'
import { NodeHomeError, NodeLockedError } from './errors.ts'
import { createIdentity, loadIdentity } from '../platform/identity/identity.ts'
import type { NodeIdentity } from '../platform/identity/identity.ts'
import { openNodeStore } from '../platform/storage/db.ts'
import type { NodeStore } from '../platform/storage/db.ts'

/** Files of a node directory. */
export const HOME_FILES = {
  config: 'node.json',
  identity: 'identity.key',
  pid: 'node.pid',
  endpoint: 'api.json'
} as const

/** An opened node directory: config, identity, store and audit log. Close it to release the lock. */
export interface NodeHome {
  readonly dir: string
  readonly config: NodeConfig
  readonly identity: NodeIdentity
  readonly store: NodeStore
  readonly audit: AuditLog
  /** Absolute path of the federation manifest. */
  readonly federationPath: string
  close(): Promise<void>
}

export interface InitOptions {
  name: string
  listen?: string[]
  apiPort?: number
  federation?: string
}

export interface InitResult {
  dir: string
  peerId: string
  /** The admin API bearer token. Shown once; only its SHA-256 is stored. */
  token: string
  configPath: string
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** Creates a node directory: identity key (0600), config with the admin token's hash, store, first audit entry. */
export async function initNodeHome(dirArg: string, opts: InitOptions): Promise<InitResult> {
  const dir = resolve(dirArg)
  const configPath = join(dir, HOME_FILES.config)
  if (existsSync(configPath))
    throw new NodeHomeError(`${dir} is already a node directory; choose another --dir`)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const token = randomBytes(32).toString('base64url')
  const config = NodeConfig.parse({
    name: opts.name,
    listen: opts.listen,
    api: { port: opts.apiPort ?? 0, tokenSha256: hashToken(token) },
    federation: opts.federation
  })
  const identity = await createIdentity(join(dir, HOME_FILES.identity))
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 })
  const store = await openNodeStore(dir)
  try {
    const audit = createAuditLog(store, identity)
    await audit.append('node-initialized', { name: config.name, peerId: identity.peerId }, { actor: 'cli' })
  } finally {
    await store.close()
  }
  return { dir, peerId: identity.peerId, token, configPath }
}

function lockHolder(dir: string): string {
  try {
    const pid = Number.parseInt(readFileSync(join(dir, HOME_FILES.pid), 'utf8'), 10)
    if (Number.isSafeInteger(pid)) return ` (pid ${pid})`
  } catch {}
  return ''
}

/** Opens an initialised node directory, taking its database lock. */
export async function openNodeHome(dirArg: string): Promise<NodeHome> {
  const dir = resolve(dirArg)
  const configPath = join(dir, HOME_FILES.config)
  if (!existsSync(configPath))
    throw new NodeHomeError(
      `${dir} is not a node directory; run "cohort node init --dir ${dirArg} --name ORG" first`
    )
  const config = loadFile(NodeConfig, configPath, 'node config')
  const identity = loadIdentity(join(dir, HOME_FILES.identity))
  let store: NodeStore
  try {
    store = await openNodeStore(dir)
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause
    if (cause?.code === 'LEVEL_LOCKED') {
      throw new NodeLockedError(
        `node directory ${dir} is in use by another process${lockHolder(dir)}; stop that node first or use its admin API`
      )
    }
    throw err
  }
  const audit = createAuditLog(store, identity)
  const federationPath = isAbsolute(config.federation) ? config.federation : join(dir, config.federation)
  return { dir, config, identity, store, audit, federationPath, close: () => store.close() }
}
