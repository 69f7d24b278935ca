import { createHash } from 'node:crypto'
import { Packr } from 'msgpackr'

/**
 * Audit entry encoding. An entry's hash is SHA-256 over a domain label and the msgpack encoding of a
 * fixed-order array (seq, ts, kind, actor, round, body, prev): never over an object, whose key order
 * is not canonical. The stored value is those exact preimage bytes followed by the 32-byte hash, so
 * verification hashes the stored bytes themselves; msgpack has several encodings of one value, and
 * re-encoding a decoded entry could hide a changed byte.
 */
export const AUDIT_HASH_LABEL = 'cohort/audit/v1'
export const AUDIT_HEAD_LABEL = 'cohort/audit-head/v1'
export const GENESIS_PREV = '0'.repeat(64)
const HASH_BYTES = 32

const packr = new Packr({ useRecords: false, moreTypes: false })

export interface AuditEntry {
  seq: number
  /** Milliseconds since the epoch, as written by the node. */
  ts: number
  kind: string
  /** Who caused it: a peer id, `admin-api`, `cli`, `node`. */
  actor: string
  /** Training round, when the entry belongs to one; else null. */
  round: number | null
  /** msgpack-encoded JSON-able body. */
  body: Uint8Array
  /** Hex SHA-256 of the previous entry, or 64 zeros for seq 0. */
  prev: string
  /** Hex SHA-256 of this entry. */
  hash: string
}

export type AuditEntryFields = Omit<AuditEntry, 'hash'>

export function seqKey(seq: number): string {
  return seq.toString().padStart(16, '0')
}

export function encodeBody(body: unknown): Uint8Array {
  return packr.pack(body)
}

export function decodeBody(body: Uint8Array): unknown {
  return packr.unpack(body)
}

function digest(preimage: Uint8Array): Buffer {
  return createHash('sha256').update(AUDIT_HASH_LABEL).update(preimage).digest()
}

/** Builds the stored bytes (preimage ‖ hash) and the entry for `fields`. */
export function sealEntry(fields: AuditEntryFields): { value: Uint8Array; entry: AuditEntry } {
  const preimage = packr.pack([
    fields.seq,
    fields.ts,
    fields.kind,
    fields.actor,
    fields.round,
    fields.body,
    fields.prev
  ])
  const hash = digest(preimage)
  const value = new Uint8Array(preimage.length + HASH_BYTES)
  value.set(preimage, 0)
  value.set(hash, preimage.length)
  return { value, entry: { ...fields, hash: hash.toString('hex') } }
}

/**
 * Parses and checks one stored value. Returns the entry, or a reason string when the bytes do not
 * decode or the stored hash does not match the preimage.
 */
export function openEntry(value: Uint8Array): AuditEntry | string {
  if (value.length <= HASH_BYTES) return 'entry is truncated'
  const preimage = value.subarray(0, value.length - HASH_BYTES)
  const stored = Buffer.from(value.subarray(value.length - HASH_BYTES))
  if (!digest(preimage).equals(stored)) return 'hash does not match the entry contents'
  let decoded: unknown
  try {
    decoded = packr.unpack(preimage)
  } catch {
    return 'entry does not decode'
  }
  if (!Array.isArray(decoded) || decoded.length !== 7) return 'entry has the wrong shape'
  const [seq, ts, kind, actor, round, body, prev] = decoded as unknown[]
  if (
    !Number.isSafeInteger(seq) ||
    !Number.isSafeInteger(ts) ||
    typeof kind !== 'string' ||
    typeof actor !== 'string' ||
    !(round === null || Number.isSafeInteger(round)) ||
    !(body instanceof Uint8Array) ||
    typeof prev !== 'string'
  ) {
    return 'entry has fields of the wrong type'
  }
  return {
    seq: seq as number,
    ts: ts as number,
    kind,
    actor,
    round: round as number | null,
    body: new Uint8Array(body),
    prev,
    hash: stored.toString('hex')
  }
}

/** The bytes a node signs to vouch for its log's head. */
export function headPayload(peerId: string, seq: number, hash: string): Uint8Array {
  return Buffer.concat([Buffer.from(AUDIT_HEAD_LABEL), packr.pack([peerId, seq, hash])])
}
