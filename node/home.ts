import { NodeConfig } from '../configs/node-config.ts'
import { initDaemonHome, openDaemonHome } from '../platform/daemon/daemon-home.ts'
import type { DaemonHome, DaemonInitResult } from '../platform/daemon/daemon-home.ts'
import { NodeHomeError, NodeLockedError } from './errors.ts'

export { hashToken } from '../platform/api/token.ts'

/** Files of a node directory. */
export const HOME_FILES = {
  config: 'node.json',
  identity: 'identity.key',
  pid: 'node.pid',
  endpoint: 'api.json'
} as const

/** An opened node directory: config, identity, store and audit log. Close it to release the lock. */
export type NodeHome = DaemonHome<NodeConfig>

export interface InitOptions {
  name: string
  listen?: string[]
  apiPort?: number
  federation?: string
}

export type InitResult = DaemonInitResult

/** Creates a node directory: identity key (0600), config with the admin token's hash, store, first audit entry. */
export function initNodeHome(dirArg: string, opts: InitOptions): Promise<InitResult> {
  return initDaemonHome(dirArg, {
    files: HOME_FILES,
    config: (tokenSha256) =>
      NodeConfig.parse({
        name: opts.name,
        listen: opts.listen,
        api: { port: opts.apiPort ?? 0, tokenSha256 },
        federation: opts.federation
      }),
    initializedKind: 'node-initialized',
    alreadyInitialised: (dir) => new NodeHomeError(`${dir} is already a node directory; choose another --dir`)
  })
}

/** Opens an initialised node directory, taking its database lock. */
export function openNodeHome(dirArg: string): Promise<NodeHome> {
  return openDaemonHome(dirArg, {
    files: HOME_FILES,
    schema: NodeConfig,
    what: 'node config',
    notInitialised: (dir) =>
      new NodeHomeError(
        `${dir} is not a node directory; run "cohort node init --dir ${dirArg} --name ORG" first`
      ),
    locked: (dir, holder) =>
      new NodeLockedError(
        `node directory ${dir} is in use by another process${holder}; stop that node first or use its admin API`
      )
  })
}
