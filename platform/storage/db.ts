import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Level } from 'level'
import type { AbstractLevel, AbstractSublevel } from 'abstract-level'

/** Root database: utf8 keys, binary values. Sublevels choose their own value encoding. */
export type RootDb = AbstractLevel<string | Uint8Array, string, Uint8Array>
export type BinarySublevel = AbstractSublevel<RootDb, string | Uint8Array, string, Uint8Array>
export type JsonSublevel<V> = AbstractSublevel<RootDb, string | Uint8Array, string, V>

/**
 * The sublevels of a node's (or a coordinator's) store. Everything that must survive a restart
 * lives here, and writes that must happen together (a dataset and its audit entry, a ledger commit
 * and its audit entry, a round and its job) go in one root `batch()` across sublevels, which
 * LevelDB commits atomically.
 */
export interface NodeStore {
  readonly root: RootDb
  /** Audit entries keyed by zero-padded seq; value = preimage bytes ‖ SHA-256. */
  readonly audit: BinarySublevel
  /** Small JSON records: audit head, identity facts, schema version. */
  readonly meta: JsonSublevel<unknown>
  /** Dataset manifests (schema, stats, generation) keyed by dataset name. */
  readonly datasets: JsonSublevel<unknown>
  /** Row chunks keyed by `<name>!<generation>!<chunk>`. */
  readonly rows: BinarySublevel
  /** Privacy ledger state per scope. */
  readonly ledger: JsonSublevel<unknown>
  /** Data-owner policy. */
  readonly policy: JsonSublevel<unknown>
  /** Persisted protocol state (rounds in flight). */
  readonly protocolState: JsonSublevel<unknown>
  /** Coordinator: job records keyed by job id. */
  readonly jobs: JsonSublevel<unknown>
  /** Coordinator: completed rounds keyed by `<jobId>!<round, zero-padded>`. */
  readonly rounds: JsonSublevel<unknown>
  /**
   * Models keyed by `<jobId>!<version, zero-padded>`: on a coordinator the versions it published,
   * on a node the models published to it.
   */
  readonly models: JsonSublevel<unknown>
  close(): Promise<void>
}

/** Opens (creating if needed) the LevelDB store at `<dir>/db`. */
export async function openNodeStore(dir: string): Promise<NodeStore> {
  const location = join(dir, 'db')
  mkdirSync(location, { recursive: true })
  const root = new Level<string, Uint8Array>(location, {
    keyEncoding: 'utf8',
    valueEncoding: 'view'
  }) as unknown as RootDb
  await root.open()
  return storeOn(root)
}

/** Builds the sublevel layout on an already open root (also used with memory-level in tests). */
export function storeOn(root: RootDb): NodeStore {
  const json = <V>(name: string) =>
    root.sublevel<string, V>(name, { valueEncoding: 'json' }) as JsonSublevel<V>
  const bin = (name: string) =>
    root.sublevel<string, Uint8Array>(name, { valueEncoding: 'view' }) as BinarySublevel
  return {
    root,
    audit: bin('audit'),
    meta: json('meta'),
    datasets: json('datasets'),
    rows: bin('rows'),
    ledger: json('ledger'),
    policy: json('policy'),
    protocolState: json('protocol-state'),
    jobs: json('jobs'),
    rounds: json('rounds'),
    models: json('models'),
    close: () => root.close()
  }
}

/** One operation of an atomic cross-sublevel batch. */
export type StoreOp =
  | { type: 'put'; sublevel: BinarySublevel | JsonSublevel<unknown>; key: string; value: unknown }
  | { type: 'del'; sublevel: BinarySublevel | JsonSublevel<unknown>; key: string }
