/**
 * Wire messages of `/cohort/he-agg/1.0.0` (zod + msgpackr, strict objects, capped arrays):
 *
 *   coordinator -> node:       submit    (round, pinned key's announcement)  -> ciphertext + input signature
 *   coordinator -> node:       challenge (seed)                              -> digest + digest signature
 *   coordinator -> key-holder: key                                           -> current key announcement
 *   coordinator -> key-holder: decrypt   (sum + every contribution's hash, signatures, digests) -> plaintext sum
 *
 * Size limits: control frames (a submit carries a ~460 kB public key) are capped at
 * MAX_HE_AGG_CONTROL_BYTES; frames with ciphertexts (a node's reply, the decrypt request) at
 * MAX_HE_AGG_VECTOR_BYTES = 128 chunks (2^20 slots, crypto/he's maxVectorLength) of at most 527,633
 * bytes each, plus 4 MiB for signatures and digests. Every ciphertext is then loaded through
 * crypto/he's checked loader (its own per-object limit, parameters, zstd bomb guard).
 */
import { Packr } from 'msgpackr'
import { z } from 'zod'
import { ED25519_SIGNATURE_BYTES } from '../../crypto/sign.ts'
import { MalformedMessageError } from '../errors.ts'
import { decodeFrame } from '../wire/decode.ts'

/**
 * Wire format version.
 * @example
 * encodeHeAgg({ v: HE_AGG_WIRE_VERSION, phase: 'key' })
 */
export const HE_AGG_WIRE_VERSION = 1
/**
 * Chunks (ciphertexts of 8192 slots) per vector.
 * @example
 * if (wire.chunks.length > MAX_HE_AGG_CHUNKS) refuse()
 */
export const MAX_HE_AGG_CHUNKS = 128
/**
 * Contributions per round.
 * @example
 * if (contributions.length > MAX_HE_AGG_PARTIES) refuse()
 */
export const MAX_HE_AGG_PARTIES = 10_000
/**
 * Largest serialized BFV-8192 ciphertext accepted on the wire (crypto/he ctx.limits.ciphertextBytes).
 * @example
 * const replyBytes = chunks * MAX_HE_AGG_CIPHERTEXT_BYTES + 65536
 */
export const MAX_HE_AGG_CIPHERTEXT_BYTES = 527_633
/**
 * Control frames: submit (with a public key), challenge, key, replies without ciphertexts.
 * @example
 * await transport.handle(PROTOCOLS.heAgg, handler, { maxRequestBytes: MAX_HE_AGG_CONTROL_BYTES })
 */
export const MAX_HE_AGG_CONTROL_BYTES = 2 * 1024 * 1024
/**
 * Frames carrying a vector of ciphertexts.
 * @example
 * decodeHeAgg(HeAggRequestSchema, body, MAX_HE_AGG_VECTOR_BYTES)
 */
export const MAX_HE_AGG_VECTOR_BYTES = MAX_HE_AGG_CHUNKS * MAX_HE_AGG_CIPHERTEXT_BYTES + 4 * 1024 * 1024

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true, bundleStrings: false })

const u8 = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'must be bytes' })
const bytes = (n: number) => u8.refine((b) => b.length === n, { message: `must be ${n} bytes` })
const Peer = z.string().min(1).max(128)
const Hex64 = z.string().regex(/^[0-9a-f]{64}$/)
const head = {
  v: z.literal(HE_AGG_WIRE_VERSION),
  jobId: z.string().min(1).max(128),
  round: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  keyId: z.string().min(1).max(64)
}
const Wire = z.strictObject({
  scheme: z.literal('bfv'),
  length: z
    .number()
    .int()
    .min(1)
    .max(2 ** 20),
  chunks: z
    .array(u8.refine((b) => b.length <= MAX_HE_AGG_CIPHERTEXT_BYTES))
    .min(1)
    .max(MAX_HE_AGG_CHUNKS)
})
const Digest = z
  .array(
    z
      .number()
      .int()
      .min(0)
      .max(2 ** 53 - 1)
  )
  .min(1)
  .max(MAX_HE_AGG_CHUNKS * 16 * 8)

/**
 * The key-holder's signed key announcement on the wire.
 * @example
 * const ann = decodeHeAgg(AnnouncementSchema, frame, MAX_HE_AGG_CONTROL_BYTES)
 */
export const AnnouncementSchema = z.strictObject({
  v: z.literal(1),
  keyId: z.string().min(1).max(64),
  preset: z.string().min(1).max(32),
  paramsFingerprint: Hex64,
  keyFingerprint: Hex64,
  keyholder: Peer,
  issuedAt: z.number().int().min(0),
  publicKey: u8.refine((b) => b.length <= 1024 * 1024),
  sig: bytes(ED25519_SIGNATURE_BYTES)
})

/**
 * `submit` (coordinator -> node).
 * @example
 * SubmitRequest.parse(raw)
 */
export const SubmitRequest = z.strictObject({
  ...head,
  phase: z.literal('submit'),
  announcement: AnnouncementSchema,
  length: z
    .number()
    .int()
    .min(1)
    .max(2 ** 20),
  maxAbsPerParty: z
    .number()
    .int()
    .min(1)
    .max(2 ** 49),
  minParticipants: z.number().int().min(2).max(MAX_HE_AGG_PARTIES)
})
/**
 * `challenge` (coordinator -> node): the Fiat-Shamir seed.
 * @example
 * ChallengeRequest.parse({ v: 1, jobId, round, keyId, phase: 'challenge', seed })
 */
export const ChallengeRequest = z.strictObject({ ...head, phase: z.literal('challenge'), seed: bytes(32) })
/**
 * `key` (coordinator -> key-holder): the current announcement.
 * @example
 * KeyRequest.parse({ v: 1, phase: 'key' })
 */
export const KeyRequest = z.strictObject({ v: z.literal(HE_AGG_WIRE_VERSION), phase: z.literal('key') })
/**
 * One contribution as the key-holder sees it: hashes, signatures, digest; never the ciphertext.
 * @example
 * ContributionSchema.parse({ peer, ctHash, sig, digest, digestSig })
 */
export const ContributionSchema = z.strictObject({
  peer: Peer,
  ctHash: bytes(32),
  sig: bytes(ED25519_SIGNATURE_BYTES),
  digest: Digest,
  digestSig: bytes(ED25519_SIGNATURE_BYTES)
})
/**
 * `decrypt` (coordinator -> key-holder).
 * @example
 * DecryptRequest.parse(raw)
 */
export const DecryptRequest = z.strictObject({
  ...head,
  phase: z.literal('decrypt'),
  sum: Wire,
  maxAbsPerParty: z
    .number()
    .int()
    .min(1)
    .max(2 ** 49),
  minParticipants: z.number().int().min(2).max(MAX_HE_AGG_PARTIES),
  contributions: z.array(ContributionSchema).min(1).max(MAX_HE_AGG_PARTIES)
})

/**
 * Every he-agg request, discriminated on `phase`.
 * @example
 * const req = decodeHeAgg(HeAggRequestSchema, body, MAX_HE_AGG_CONTROL_BYTES)
 */
export const HeAggRequestSchema = z.discriminatedUnion('phase', [
  SubmitRequest,
  ChallengeRequest,
  KeyRequest,
  DecryptRequest
])
/**
 * A decoded he-agg request.
 * @example
 * const req: HeAggRequest = decodeHeAgg(HeAggRequestSchema, body, limit)
 */
export type HeAggRequest = z.infer<typeof HeAggRequestSchema>
/**
 * A decoded `submit`.
 * @example
 * const req: HeAggSubmit = submitRequest(params)
 */
export type HeAggSubmit = z.infer<typeof SubmitRequest>
/**
 * A decoded `challenge`.
 * @example
 * const ch: HeAggChallenge = { v: 1, jobId, round, keyId, phase: 'challenge', seed }
 */
export type HeAggChallenge = z.infer<typeof ChallengeRequest>
/**
 * A decoded `decrypt`.
 * @example
 * const { decrypt }: { decrypt?: HeAggDecrypt } = heAggAggregatorMachine.step(state, { phase: 'decrypt' }).output
 */
export type HeAggDecrypt = z.infer<typeof DecryptRequest>
/**
 * A decoded contribution.
 * @example
 * const c: HeAggContribution = { peer, ctHash, sig, digest, digestSig }
 */
export type HeAggContribution = z.infer<typeof ContributionSchema>

/**
 * Reply to `submit`: the ciphertext, its hash and the node's input signature.
 * @example
 * const reply = decodeHeAgg(SubmitReply, frame, MAX_HE_AGG_VECTOR_BYTES)
 */
export const SubmitReply = z.strictObject({
  v: z.literal(HE_AGG_WIRE_VERSION),
  ciphertext: Wire,
  ctHash: bytes(32),
  sig: bytes(ED25519_SIGNATURE_BYTES)
})
/**
 * Reply to `challenge`: the digest and its signature.
 * @example
 * const reply = decodeHeAgg(ChallengeReply, frame, MAX_HE_AGG_CONTROL_BYTES)
 */
export const ChallengeReply = z.strictObject({
  v: z.literal(HE_AGG_WIRE_VERSION),
  digest: Digest,
  sig: bytes(ED25519_SIGNATURE_BYTES)
})
/**
 * Reply to `decrypt`: the plaintext sum and its contributors.
 * @example
 * const { values } = decodeHeAgg(DecryptReply, frame, limit)
 */
export const DecryptReply = z.strictObject({
  v: z.literal(HE_AGG_WIRE_VERSION),
  /** The plaintext sum as little-endian float64 (exact integers < 2^53). */
  values: u8.refine((b) => b.length % 8 === 0),
  contributors: z.array(Peer).max(MAX_HE_AGG_PARTIES)
})
/**
 * A decoded submit reply.
 * @example
 * const r: HeAggSubmitReply = decodeHeAgg(SubmitReply, frame, limit)
 */
export type HeAggSubmitReply = z.infer<typeof SubmitReply>
/**
 * A decoded challenge reply.
 * @example
 * const r: HeAggChallengeReply = decodeHeAgg(ChallengeReply, frame, limit)
 */
export type HeAggChallengeReply = z.infer<typeof ChallengeReply>

/**
 * Encodes a he-agg message.
 *
 * @example
 * const frame = encodeHeAgg({ v: 1, phase: 'key' })
 */
export function encodeHeAgg(message: object): Uint8Array {
  return packr.pack(message)
}

/**
 * Decodes and validates a message with `schema`, refusing frames over `maxBytes` first.
 *
 * @throws MessageTooLargeError, MalformedMessageError
 * @example
 * const req = decodeHeAgg(HeAggRequestSchema, body, MAX_HE_AGG_VECTOR_BYTES)
 */
export function decodeHeAgg<S extends z.ZodType>(schema: S, bytes: Uint8Array, maxBytes: number): z.infer<S> {
  // Checked here too so the refusal keeps its he-agg wording.
  if (!(bytes instanceof Uint8Array)) throw new MalformedMessageError('a he-agg message must be bytes')
  return decodeFrame(bytes, schema, { maxBytes, what: 'he-agg message' })
}

/**
 * Float64 values <-> little-endian bytes (the plaintext sum on the wire).
 *
 * @example
 * const bytes = packFloat64(sum); unpackFloat64(bytes) // equal
 */
export function packFloat64(values: Float64Array): Uint8Array {
  const out = new Uint8Array(values.length * 8)
  const view = new DataView(out.buffer)
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i]!, true)
  return out
}

/** @see packFloat64 @example unpackFloat64(packFloat64(Float64Array.of(1, -2))) */
export function unpackFloat64(bytes: Uint8Array): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out = new Float64Array(bytes.length / 8)
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true)
  return out
}
