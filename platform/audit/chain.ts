import { verifyPeerSignature } from '../../crypto/sign-identity.ts'
import { GENESIS_PREV, headPayload, openEntry, seqKey } from './entry.ts'
import type { AuditEntry } from './entry.ts'

/** A signed statement of the last entry of a node's log. */
export interface SignedHead {
  peerId: string
  seq: number
  hash: string
  /** base64 Ed25519 signature over `headPayload(peerId, seq, hash)`. */
  sig: string
}

export interface VerifyResult {
  ok: boolean
  /** Number of entries checked. */
  entries: number
  head?: { seq: number; hash: string }
  /** First bad entry (by seq) or -1 for the head record; absent when ok. */
  firstBad?: { seq: number; key?: string; reason: string }
}

/** Verifies a head signature against the peer id alone (an Ed25519 peer id embeds its public key). */
export async function verifyHeadSignature(head: SignedHead): Promise<boolean> {
  try {
    return verifyPeerSignature(
      head.peerId,
      headPayload(head.peerId, head.seq, head.hash),
      Buffer.from(head.sig, 'base64')
    )
  } catch {
    return false
  }
}

/**
 * Checks a sequence of stored entries `(key, value)` in key order: each value's hash, the seq in its
 * key and its body, the link to the previous hash, and finally the signed head. The first problem
 * found is reported with the entry's seq so an auditor knows where the log was altered.
 */
export async function verifyChain(
  stored: AsyncIterable<[string, Uint8Array]> | Iterable<[string, Uint8Array]>,
  head: SignedHead | undefined,
  expectedPeerId?: string
): Promise<VerifyResult> {
  let prev = GENESIS_PREV
  let expected = 0
  let last: AuditEntry | undefined
  for await (const [key, value] of stored) {
    const keySeq = Number.parseInt(key, 10)
    const opened = openEntry(value)
    if (typeof opened === 'string') {
      return {
        ok: false,
        entries: expected,
        firstBad: { seq: Number.isNaN(keySeq) ? expected : keySeq, key, reason: opened }
      }
    }
    if (key !== seqKey(opened.seq) || opened.seq !== expected) {
      return {
        ok: false,
        entries: expected,
        firstBad: {
          seq: expected,
          key,
          reason: `expected entry ${expected}, found ${opened.seq} under key ${key}`
        }
      }
    }
    if (opened.prev !== prev) {
      return {
        ok: false,
        entries: expected,
        firstBad: { seq: opened.seq, key, reason: 'previous-hash link is broken' }
      }
    }
    prev = opened.hash
    last = opened
    expected++
  }
  if (last === undefined) {
    if (head === undefined) return { ok: true, entries: 0 }
    return {
      ok: false,
      entries: 0,
      firstBad: { seq: -1, reason: 'signed head names entries that are missing' }
    }
  }
  const result = { entries: expected, head: { seq: last.seq, hash: last.hash } }
  if (head === undefined)
    return { ...result, ok: false, firstBad: { seq: -1, reason: 'the log has no signed head' } }
  if (expectedPeerId !== undefined && head.peerId !== expectedPeerId) {
    return {
      ...result,
      ok: false,
      firstBad: { seq: -1, reason: `head is signed by ${head.peerId}, expected ${expectedPeerId}` }
    }
  }
  if (head.seq !== last.seq || head.hash !== last.hash) {
    const missing = head.seq > last.seq
    return {
      ...result,
      ok: false,
      firstBad: {
        seq: missing ? last.seq + 1 : last.seq,
        reason: missing
          ? `entries after ${last.seq} are missing (head says ${head.seq})`
          : 'last entry does not match the signed head'
      }
    }
  }
  if (!(await verifyHeadSignature(head))) {
    return { ...result, ok: false, firstBad: { seq: -1, reason: 'head signature does not verify' } }
  }
  return { ...result, ok: true }
}
