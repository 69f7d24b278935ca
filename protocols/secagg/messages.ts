/**
 * Wire messages of `/cohort/secagg/2.0.0`: zod schemas and a msgpackr codec with size caps.
 *
 * Every request is coordinator -> participant, every reply participant -> coordinator (star
 * topology, Flower-style relay). Messages are discriminated unions on `phase`; objects are strict
 * (unknown fields are refused), arrays are capped at MAX_SECAGG_PARTIES entries and byte strings
 * have exact lengths, so a decoded message has a bounded, known shape before any rule runs.
 *
 * Size caps, checked before decoding:
 * - requests and control replies: MAX_SECAGG_MESSAGE_BYTES (1 MiB; the largest honest message, an
 *   unmask request for 1000 parties, is ~150 KiB). Frames between this cap and the transport limit
 *   MAX_SECAGG_CONTROL_BYTES reach the runner and are refused and audited there; larger frames are
 *   cut by the transport before they are buffered;
 * - the masked-input reply: MAX_VECTOR_BYTES (one frame: d·4 bytes for k <= 32, so d <= 16.7M).
 */
import { decodeFrame } from '../wire/decode.ts'
import { Packr } from 'msgpackr'
import { z } from 'zod'
import { SHAMIR_MAX_SHARES, SHAMIR_SHARE_BYTES } from '../../crypto/shamir.ts'
import { ED25519_SIGNATURE_BYTES } from '../../crypto/sign.ts'
import { X25519_KEY_BYTES } from '../../crypto/agreement.ts'
import { ringElementBytes } from '../../crypto/ring.ts'
import type { RingVector } from '../../crypto/ring.ts'
import { MalformedMessageError } from '../errors.ts'
import { MAX_VECTOR_BYTES } from '../ids.ts'
import { SecaggVectorLengthError } from './errors.ts'
import { MAX_SECAGG_PARTIES } from './neighbours.ts'
import type { SecaggPhase } from './phases.ts'
import { PAIR_MAC_BYTES } from './pair-auth.ts'
import { SEALED_SHARE_BYTES } from './shares.ts'

/** Cap on a request or a control reply (everything but the masked vector). */
export const MAX_SECAGG_MESSAGE_BYTES = 1024 * 1024
/** Wire format version carried in every message. */
export const SECAGG_WIRE_VERSION = 1

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true, bundleStrings: false })

const u8 = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'must be bytes' })
const bytes = (len: number) => u8.refine((b) => b.length === len, { message: `must be ${len} bytes` })
const Peer = z.string().min(1).max(128)
const Peers = z.array(Peer).max(MAX_SECAGG_PARTIES)
const head = {
  v: z.literal(SECAGG_WIRE_VERSION),
  jobId: z.string().min(1).max(128),
  round: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
}

const bundleFields = {
  peer: Peer,
  cPk: bytes(X25519_KEY_BYTES),
  sPk: bytes(X25519_KEY_BYTES),
  /** The runner's auth key (pair-auth.ts), covered by `sig`. */
  aPk: bytes(X25519_KEY_BYTES),
  sig: bytes(ED25519_SIGNATURE_BYTES)
}
const Mac = bytes(PAIR_MAC_BYTES)
/** Pair MACs of one message, one per addressee (pair-auth.ts); not covered by any signature. */
const Macs = z.array(z.strictObject({ to: Peer, mac: Mac })).max(MAX_SECAGG_PARTIES)
/** A bundle as its owner advertises it: with its MACs for the peers it has pair keys with. */
export const KeyBundleSchema = z.strictObject({ ...bundleFields, macs: Macs.optional() })
export type KeyBundle = z.infer<typeof KeyBundleSchema>
/** A bundle as the coordinator relays it to one participant: only the MAC addressed to it. */
export const RelayedBundleSchema = z.strictObject({ ...bundleFields, mac: Mac.optional() })
export type RelayedBundle = z.infer<typeof RelayedBundleSchema>

const ShareSchema = z.strictObject({
  owner: Peer,
  x: z.number().int().min(1).max(SHAMIR_MAX_SHARES),
  y: bytes(SHAMIR_SHARE_BYTES)
})
export type RevealedShare = z.infer<typeof ShareSchema>

export const AdvertiseKeysRequest = z.strictObject({
  ...head,
  phase: z.literal('advertise-keys'),
  participants: z.array(Peer).min(3).max(MAX_SECAGG_PARTIES),
  t: z.number().int().min(2).max(MAX_SECAGG_PARTIES),
  k: z.number().int().min(1).max(MAX_SECAGG_PARTIES),
  ringBits: z.number().int().min(1).max(62),
  d: z
    .number()
    .int()
    .min(1)
    .max(2 ** 31),
  graphSeed: bytes(32)
})
export const ShareKeysRequest = z.strictObject({
  ...head,
  phase: z.literal('share-keys'),
  bundles: z.array(RelayedBundleSchema).max(MAX_SECAGG_PARTIES)
})
export const MaskedInputRequest = z.strictObject({
  ...head,
  phase: z.literal('masked-input'),
  shares: z.array(z.strictObject({ src: Peer, sealed: bytes(SEALED_SHARE_BYTES) })).max(MAX_SECAGG_PARTIES)
})
export const ConsistencyCheckRequest = z.strictObject({
  ...head,
  phase: z.literal('consistency-check'),
  survivors: Peers
})
export const UnmaskRequest = z.strictObject({
  ...head,
  phase: z.literal('unmask'),
  survivors: Peers,
  dropped: Peers,
  signatures: z
    .array(z.strictObject({ peer: Peer, sig: bytes(ED25519_SIGNATURE_BYTES), mac: Mac.optional() }))
    .max(MAX_SECAGG_PARTIES)
})
export const AbortRequest = z.strictObject({
  ...head,
  phase: z.literal('aborted'),
  reason: z.string().max(500)
})

export const SecaggRequestSchema = z.discriminatedUnion('phase', [
  AdvertiseKeysRequest,
  ShareKeysRequest,
  MaskedInputRequest,
  ConsistencyCheckRequest,
  UnmaskRequest,
  AbortRequest
])
export type SecaggRequest = z.infer<typeof SecaggRequestSchema>
export type AdvertiseKeysRequest = z.infer<typeof AdvertiseKeysRequest>
export type ShareKeysRequest = z.infer<typeof ShareKeysRequest>
export type MaskedInputRequest = z.infer<typeof MaskedInputRequest>
export type ConsistencyCheckRequest = z.infer<typeof ConsistencyCheckRequest>
export type UnmaskRequest = z.infer<typeof UnmaskRequest>
export type AbortRequest = z.infer<typeof AbortRequest>

export const AdvertiseKeysReply = z.strictObject({
  ...head,
  phase: z.literal('advertise-keys'),
  bundle: KeyBundleSchema
})
export const ShareKeysReply = z.strictObject({
  ...head,
  phase: z.literal('share-keys'),
  shares: z.array(z.strictObject({ dst: Peer, sealed: bytes(SEALED_SHARE_BYTES) })).max(MAX_SECAGG_PARTIES)
})
export const MaskedInputReply = z.strictObject({
  ...head,
  phase: z.literal('masked-input'),
  y: u8
})
export const ConsistencyCheckReply = z.strictObject({
  ...head,
  phase: z.literal('consistency-check'),
  sig: bytes(ED25519_SIGNATURE_BYTES),
  macs: Macs.optional()
})
export const UnmaskReply = z.strictObject({
  ...head,
  phase: z.literal('unmask'),
  selfShares: z.array(ShareSchema).max(MAX_SECAGG_PARTIES),
  keyShares: z.array(ShareSchema).max(MAX_SECAGG_PARTIES)
})
export const AbortReply = z.strictObject({ ...head, phase: z.literal('aborted') })

export const SecaggReplySchema = z.discriminatedUnion('phase', [
  AdvertiseKeysReply,
  ShareKeysReply,
  MaskedInputReply,
  ConsistencyCheckReply,
  UnmaskReply,
  AbortReply
])
export type SecaggReply = z.infer<typeof SecaggReplySchema>
export type ReplyOf<P extends SecaggReply['phase']> = Extract<SecaggReply, { phase: P }>
export type RequestOf<P extends SecaggRequest['phase']> = Extract<SecaggRequest, { phase: P }>

/**
 * msgpack-encodes a request or reply.
 *
 * @example
 * const frame = encodeSecagg({ v: 1, jobId, round, phase: 'aborted', reason: 'below threshold' })
 */
export function encodeSecagg(message: SecaggRequest | SecaggReply): Uint8Array {
  const buf = packr.pack(message)
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
}

function decode<S extends z.ZodType>(
  schema: S,
  frame: Uint8Array,
  maxBytes: number,
  what: string
): z.infer<S> {
  return decodeFrame(frame, schema, { maxBytes, what })
}

/**
 * Decodes and validates a request frame (size cap, msgpack, schema).
 *
 * @throws MessageTooLargeError | MalformedMessageError
 * @example
 * const req = decodeSecaggRequest(body)
 */
export function decodeSecaggRequest(frame: Uint8Array): SecaggRequest {
  return decode(SecaggRequestSchema, frame, MAX_SECAGG_MESSAGE_BYTES, 'secagg request')
}

/**
 * Decodes and validates the reply to a request of `phase`; the reply must be of the same phase.
 *
 * @throws MessageTooLargeError | MalformedMessageError
 * @example
 * const reply = decodeSecaggReply('share-keys', frame)
 */
export function decodeSecaggReply<P extends SecaggPhase | 'aborted'>(
  phase: P,
  frame: Uint8Array
): ReplyOf<P> {
  const max = phase === 'masked-input' ? MAX_VECTOR_BYTES : MAX_SECAGG_MESSAGE_BYTES
  const reply = decode(SecaggReplySchema, frame, max, `secagg ${phase} reply`)
  if (reply.phase !== phase) {
    throw new MalformedMessageError(`expected a ${phase} reply, got ${reply.phase}`)
  }
  return reply as ReplyOf<P>
}

/**
 * The frame limit a requester should pass as `maxResponseBytes` for a phase.
 *
 * @example
 * transport.request(peer, PROTOCOLS.secagg, body, { maxResponseBytes: replyLimit('masked-input') })
 */
export function replyLimit(phase: SecaggPhase | 'aborted'): number {
  return phase === 'masked-input' ? MAX_VECTOR_BYTES : MAX_SECAGG_MESSAGE_BYTES
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/**
 * The little-endian bytes of a ring vector (a view when the host is little-endian).
 *
 * @example
 * const y = vectorToBytes(masked)
 */
export function vectorToBytes(v: RingVector): Uint8Array {
  const view = new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
  if (LITTLE_ENDIAN) return view
  const copy = Buffer.from(view)
  v instanceof Uint32Array ? copy.swap32() : copy.swap64()
  return new Uint8Array(copy.buffer, copy.byteOffset, copy.byteLength)
}

/**
 * A ring vector of exactly d elements for `ringBits` from little-endian bytes (copied when unaligned).
 *
 * @throws SecaggVectorLengthError when the byte length is not d · element size
 * @example
 * const y = bytesToVector(reply.y, 32, 1000)
 */
export function bytesToVector(bytes: Uint8Array, ringBits: number, d: number): RingVector {
  const w = ringElementBytes(ringBits)
  if (bytes.length !== d * w) {
    throw new SecaggVectorLengthError(
      `a masked vector must have ${d} elements (${d * w} bytes), got ${bytes.length} bytes`
    )
  }
  let buf = bytes.buffer as ArrayBuffer
  let off = bytes.byteOffset
  if (off % w !== 0 || !LITTLE_ENDIAN) {
    const copy = Buffer.from(bytes)
    if (!LITTLE_ENDIAN) w === 4 ? copy.swap32() : copy.swap64()
    const fresh = new Uint8Array(copy.length)
    fresh.set(copy)
    buf = fresh.buffer
    off = 0
  }
  return w === 4 ? new Uint32Array(buf, off, d) : new BigUint64Array(buf, off, d)
}
