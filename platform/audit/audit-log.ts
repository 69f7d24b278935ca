import type { NodeStore, StoreOp } from '../storage/db.ts'
import { verifyChain } from './chain.ts'
import type { SignedHead, VerifyResult } from './chain.ts'
import { GENESIS_PREV, decodeBody, encodeBody, headPayload, openEntry, sealEntry, seqKey } from './entry.ts'
import type { AuditEntry } from './entry.ts'
import { AuditVerificationError } from './errors.ts'

/** Signs audit heads with the node's libp2p identity key. */
export interface AuditSigner {
  readonly peerId: string
  sign(data: Uint8Array): Promise<Uint8Array> | Uint8Array
}

export interface AppendOptions {
  actor?: string
  round?: number | null
  /** Writes committed in the same atomic batch as the entry (e.g. a dataset manifest). */
  with?: StoreOp[]
  signal?: AbortSignal
}

/** Append-only, hash-chained, head-signed audit log of one node. */
export interface AuditLog {
  append(kind: string, body: unknown, options?: AppendOptions): Promise<AuditEntry>
  head(): Promise<SignedHead | undefined>
  verify(): Promise<VerifyResult>
  entries(range?: { gte?: number; lt?: number }): AsyncIterable<AuditEntry>
  /** Entry with its body decoded, for display. */
  read(range?: {
    gte?: number
    lt?: number
    limit?: number
  }): Promise<Array<Omit<AuditEntry, 'body'> & { body: unknown }>>
}

const HEAD_KEY = 'audit-head'

/** The one writer of a store's log: its append queue and the last entry it committed. */
interface Writer {
  tail: Promise<unknown>
  /** seq and hash of the last committed entry; null = empty log; undefined = read it from the store. */
  last: { seq: number; hash: string } | null | undefined
}

// Keyed by the open database, so every AuditLog over one store (LevelDB lets one process open it)
// shares a single queue and a single in-memory head.
const writers = new WeakMap<object, Writer>()

function writerOf(store: NodeStore): Writer {
  let writer = writers.get(store.root)
  if (writer === undefined) {
    writer = { tail: Promise.resolve(), last: undefined }
    writers.set(store.root, writer)
  }
  return writer
}

/**
 * Creates the audit log over a node store. Appends are serialised so that seq numbers and
 * previous-hash links never race; each append writes the entry, the new signed head and any
 * caller-supplied operations in one LevelDB batch. No code path overwrites or deletes an entry.
 *
 * The head is read and checked against its stored entry once, at the first append; later appends
 * chain onto the head kept in memory (only this writer changes the log while the store is open),
 * and a failed batch makes the next append read it again.
 */
export function createAuditLog(store: NodeStore, signer: AuditSigner): AuditLog {
  const writer = writerOf(store)

  async function readHead(): Promise<SignedHead | undefined> {
    return (await store.meta.get(HEAD_KEY)) as SignedHead | undefined
  }

  async function storedLast(): Promise<{ seq: number; hash: string } | null> {
    const head = await readHead()
    if (head === undefined) return null
    // Trust the stored entry rather than the head record alone: they are written together.
    const lastValue = await store.audit.get(seqKey(head.seq))
    const last = lastValue === undefined ? 'missing' : openEntry(lastValue)
    if (typeof last === 'string' || last.hash !== head.hash) {
      throw new AuditVerificationError(
        `the audit log head (entry ${head.seq}) does not match its stored entry; run "cohort audit verify" and investigate before writing`,
        head.seq
      )
    }
    return { seq: head.seq, hash: head.hash }
  }

  async function doAppend(kind: string, body: unknown, options: AppendOptions): Promise<AuditEntry> {
    options.signal?.throwIfAborted()
    writer.last ??= await storedLast()
    const seq = writer.last === null ? 0 : writer.last.seq + 1
    const prev = writer.last === null ? GENESIS_PREV : writer.last.hash
    const { value, entry } = sealEntry({
      seq,
      ts: Date.now(),
      kind,
      actor: options.actor ?? 'node',
      round: options.round ?? null,
      body: encodeBody(body),
      prev
    })
    const sig = await signer.sign(headPayload(signer.peerId, seq, entry.hash))
    const newHead: SignedHead = {
      peerId: signer.peerId,
      seq,
      hash: entry.hash,
      sig: Buffer.from(sig).toString('base64')
    }
    const ops = [
      { type: 'put' as const, sublevel: store.audit, key: seqKey(seq), value },
      { type: 'put' as const, sublevel: store.meta, key: HEAD_KEY, value: newHead },
      ...(options.with ?? [])
    ]
    try {
      // biome-ignore lint/suspicious/noExplicitAny: abstract-level's batch typing cannot express mixed sublevel value types
      await store.root.batch(ops as any)
    } catch (err) {
      writer.last = undefined
      throw err
    }
    writer.last = { seq, hash: entry.hash }
    return entry
  }

  async function* entries(range: { gte?: number; lt?: number } = {}): AsyncIterable<AuditEntry> {
    const opts: { gte?: string; lt?: string } = {}
    if (range.gte !== undefined) opts.gte = seqKey(range.gte)
    if (range.lt !== undefined) opts.lt = seqKey(range.lt)
    for await (const [key, value] of store.audit.iterator(opts)) {
      const opened = openEntry(value)
      if (typeof opened === 'string')
        throw new AuditVerificationError(`audit entry ${key}: ${opened}`, Number(key))
      yield opened
    }
  }

  return {
    append(kind, body, options = {}) {
      const run = writer.tail.then(() => doAppend(kind, body, options))
      writer.tail = run.catch(() => undefined)
      return run
    },
    head: readHead,
    async verify() {
      await writer.tail
      return verifyChain(store.audit.iterator(), await readHead(), signer.peerId)
    },
    entries,
    async read(range = {}) {
      const out: Array<Omit<AuditEntry, 'body'> & { body: unknown }> = []
      for await (const e of entries(range)) {
        out.push({ ...e, body: decodeBody(e.body) })
        if (range.limit !== undefined && out.length >= range.limit) break
      }
      return out
    }
  }
}
