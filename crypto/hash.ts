/**
 * SHA-256 and the canonical encoding that Cohort hashes, signs and uses as AEAD associated data.
 *
 * Canonical encoding = utf8(domain label) || msgpack(FIXED-ORDER ARRAY). Objects are refused: the key
 * order of a JS object depends on how it was built, so two parties could encode "the same" object
 * differently and a signature would fail, or worse, two different messages could be confused. The
 * label is ASCII and a msgpack array header is >= 0x90, so the boundary between the two is
 * unambiguous without a separator (this is the audit-hash layout of style.md C2).
 *
 * msgpackr runs with `useRecords: false` (no record extension, plain msgpack) on its own Packr
 * instance, so other code changing its global options cannot change our bytes.
 */
import { createHash } from 'node:crypto'
import { Packr } from 'msgpackr'
import { aBytes } from './asserts.ts'
import { CryptoArgumentError } from './errors.ts'
import { aLabel } from './kdf.ts'
import type { DomainLabel } from './kdf.ts'

/**
 * What may appear inside a canonical encoding: scalars, bytes and nested fixed-order arrays.
 * @example
 * const fields: CanonicalValue[] = ['job', 3, Uint8Array.of(1), [true, null]]
 */
export type CanonicalValue = string | number | boolean | null | Uint8Array | readonly CanonicalValue[]

const MAX_DEPTH = 8
const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false })

function aCanonical(value: unknown, path: string, depth: number): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return
  if (typeof value === 'number') {
    // NaN has many bit patterns and -0/0 compare equal: keep numbers boring.
    if (!Number.isFinite(value)) throw new CryptoArgumentError(`${path} must be a finite number`)
    return
  }
  if (value instanceof Uint8Array) return
  if (Array.isArray(value)) {
    if (depth >= MAX_DEPTH) throw new CryptoArgumentError(`${path} nests arrays deeper than ${MAX_DEPTH}`)
    for (let i = 0; i < value.length; i++) aCanonical(value[i], `${path}[${i}]`, depth + 1)
    return
  }
  throw new CryptoArgumentError(
    `${path} must be a string, finite number, boolean, null, Uint8Array or array (never an object)`
  )
}

/**
 * Encodes a domain label and a fixed-order array of fields into canonical bytes.
 *
 * @param label - domain label, e.g. `cohort/audit/v1`
 * @param fields - the fields, always in the same order (the order is part of the format)
 * @throws CryptoArgumentError for objects, non-finite numbers or a malformed label
 * @example
 * const bytes = encodeCanonical('cohort/audit/v1', [seq, ts, kind, actor, round, body, prev])
 */
export function encodeCanonical(label: DomainLabel, fields: readonly CanonicalValue[]): Uint8Array {
  aLabel(label)
  if (!Array.isArray(fields)) throw new CryptoArgumentError('fields must be an array')
  aCanonical(fields, 'fields', 0)
  const labelBytes = new TextEncoder().encode(label)
  const body = packr.pack(fields)
  const out = new Uint8Array(labelBytes.length + body.length)
  out.set(labelBytes, 0)
  out.set(body, labelBytes.length)
  return out
}

/**
 * SHA-256 (FIPS 180-4) of `data`, via node:crypto.
 *
 * @example
 * sha256(new TextEncoder().encode('abc')) // ba7816bf...
 */
export function sha256(data: Uint8Array): Uint8Array {
  aBytes(data, undefined, 'data')
  return new Uint8Array(createHash('sha256').update(data).digest())
}

/**
 * SHA-256 of the canonical encoding of (label, fields).
 *
 * @example
 * const entryHash = hashCanonical('cohort/audit/v1', [seq, ts, kind, actor, round, body, prev])
 */
export function hashCanonical(label: DomainLabel, fields: readonly CanonicalValue[]): Uint8Array {
  return sha256(encodeCanonical(label, fields))
}
