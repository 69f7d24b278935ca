/**
 * Wire messages of `/cohort/vertical-kmeans/1.0.0`: strict zod schemas and a msgpackr codec with a
 * size cap checked before decoding. Every request names its session and iteration; the member's
 * machine (./member-machine.ts) checks sender, sequence and shapes against the plan.
 *
 * - `plan` (lead -> every member): the session's parameters, the training-row flags, the lead's CKKS
 *   public key and the DP parameters; answered with an ack.
 * - `distances` (hop -> next hop, along the chain lead -> members): one batch of the encrypted
 *   distance vector; each hop adds its own encrypted partial distances, the last also masks; the
 *   reply carries the masked batch back up the chain.
 * - `update` (chain): the argmin assignments of this iteration and the encrypted running sum of the
 *   parties' partial inertias; answered with the completed sum.
 * - `finish` (chain): final assignments of every aligned row, the (noisy) segment sizes, and the
 *   encrypted running sum of the final partial inertias.
 * - `abort` (any party -> the others): the session is over.
 */
import { Packr } from 'msgpackr'
import { z } from 'zod'
import { decodeFrame } from '../../wire/decode.ts'
import {
  VKM_BATCH_CIPHERTEXTS,
  VKM_HE_PRESET,
  VKM_MAX_ASSIGNMENT_BYTES,
  VKM_MAX_CANDIDATES,
  VKM_MAX_FRAME_BYTES,
  VKM_MAX_ITERATIONS,
  VKM_MAX_K,
  VKM_MAX_PARTIES,
  VKM_MAX_ROWS
} from './limits.ts'

/**
 * Wire format version carried in every message.
 * @example
 * encodeVkm({ v: VKM_WIRE_VERSION, sessionId, iteration: 0, phase: 'abort', code, reason })
 */
export const VKM_WIRE_VERSION = 1

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true, bundleStrings: false })

const u8 = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'must be bytes' })
const Peer = z.string().min(1).max(200)
const Index = (max: number) => z.number().int().min(0).max(max)
const head = {
  v: z.literal(VKM_WIRE_VERSION),
  sessionId: z.string().min(1).max(200),
  iteration: Index(VKM_MAX_ITERATIONS)
}

/**
 * An encrypted vector as it travels (crypto/he SerializedHeVector, CKKS only, bounded chunks).
 * @example
 * HeVectorWire.parse(saveVector(vec))
 */
export const HeVectorWire = z.strictObject({
  scheme: z.literal('ckks'),
  length: z
    .number()
    .int()
    .min(1)
    .max(VKM_BATCH_CIPHERTEXTS * 4096),
  chunks: z.array(u8).min(1).max(VKM_BATCH_CIPHERTEXTS)
})

const Assignments = u8.refine((b) => b.length >= 1 && b.length <= VKM_MAX_ASSIGNMENT_BYTES, {
  message: `must hold 1 to ${VKM_MAX_ASSIGNMENT_BYTES} bytes`
})

/**
 * `plan` (lead -> member).
 * @example
 * VkmPlanRequest.parse(decoded)
 */
export const VkmPlanRequest = z.strictObject({
  ...head,
  phase: z.literal('plan'),
  lead: Peer,
  parties: z
    .array(
      z.strictObject({ peer: Peer, name: z.string().min(1).max(200), role: z.enum(['label', 'feature']) })
    )
    .min(2)
    .max(VKM_MAX_PARTIES),
  /** Members in chain order (every party but the lead, in `parties` order). */
  chain: z
    .array(Peer)
    .min(1)
    .max(VKM_MAX_PARTIES - 1),
  rows: z.number().int().min(1).max(VKM_MAX_ROWS),
  /** One byte per aligned row: 1 = training row. */
  train: u8.refine((b) => b.length >= 1 && b.length <= VKM_MAX_ROWS, { message: 'bad length' }),
  k: z.number().int().min(2).max(VKM_MAX_K),
  nInit: z.number().int().min(1).max(VKM_MAX_CANDIDATES),
  maxIterations: z.number().int().min(1).max(VKM_MAX_ITERATIONS),
  seed: z.string().min(1).max(200),
  hePreset: z.literal(VKM_HE_PRESET),
  publicKey: u8,
  dp: z
    .strictObject({
      epsilon: z.number().positive().max(1000),
      delta: z.number().positive().lt(1),
      clip: z.number().positive().max(1e6).nullable()
    })
    .nullable()
})
/**
 * `distances` (hop -> next hop): batch `batch` of `batches` of the distance vector of iteration
 * `iteration` over the training rows (`scope: 'train'`, every listed candidate) or over every aligned
 * row (`scope: 'all'`, the one chosen candidate).
 * @example
 * VkmDistancesRequest.parse(decoded)
 */
export const VkmDistancesRequest = z.strictObject({
  ...head,
  phase: z.literal('distances'),
  scope: z.enum(['train', 'all']),
  candidates: z
    .array(Index(VKM_MAX_CANDIDATES - 1))
    .min(1)
    .max(VKM_MAX_CANDIDATES),
  batch: Index(1 << 20),
  batches: z
    .number()
    .int()
    .min(1)
    .max(1 << 20),
  vector: HeVectorWire
})
/**
 * `update` (chain): assignments of the listed candidates (candidate-major, one byte per training
 * row) and the encrypted running sum of partial inertias (one slot per candidate, divided by the
 * number of training rows).
 * @example
 * VkmUpdateRequest.parse(decoded)
 */
export const VkmUpdateRequest = z.strictObject({
  ...head,
  phase: z.literal('update'),
  candidates: z
    .array(Index(VKM_MAX_CANDIDATES - 1))
    .min(1)
    .max(VKM_MAX_CANDIDATES),
  assignments: Assignments,
  inertia: HeVectorWire
})
/**
 * `finish` (chain): the chosen candidate, its assignments of every aligned row, the released segment
 * sizes (noisy with DP, else exact) and the encrypted running sum of final partial inertias.
 * @example
 * VkmFinishRequest.parse(decoded)
 */
export const VkmFinishRequest = z.strictObject({
  ...head,
  phase: z.literal('finish'),
  candidate: Index(VKM_MAX_CANDIDATES - 1),
  assignments: Assignments,
  sizes: z.array(z.number().finite()).min(2).max(VKM_MAX_K),
  inertia: HeVectorWire
})
/**
 * `abort` (any party): the session is over.
 * @example
 * VkmAbortRequest.parse({ v: 1, sessionId, iteration: 3, phase: 'abort', code: 'COHORT_TIMEOUT', reason: '' })
 */
export const VkmAbortRequest = z.strictObject({
  ...head,
  phase: z.literal('abort'),
  code: z.string().min(1).max(64),
  reason: z.string().max(300)
})

/**
 * Every request, discriminated on `phase`.
 * @example
 * const req = VkmRequestSchema.parse(raw)
 */
export const VkmRequestSchema = z.discriminatedUnion('phase', [
  VkmPlanRequest,
  VkmDistancesRequest,
  VkmUpdateRequest,
  VkmFinishRequest,
  VkmAbortRequest
])
/** A decoded request. @example const req: VkmRequest = decodeVkmRequest(body) */
export type VkmRequest = z.infer<typeof VkmRequestSchema>
/** A decoded `plan`. @example const p: VkmPlan = req */
export type VkmPlan = z.infer<typeof VkmPlanRequest>
/** A decoded `distances`. @example const d: VkmDistances = req */
export type VkmDistances = z.infer<typeof VkmDistancesRequest>
/** A decoded `update`. @example const u: VkmUpdate = req */
export type VkmUpdate = z.infer<typeof VkmUpdateRequest>
/** A decoded `finish`. @example const f: VkmFinish = req */
export type VkmFinish = z.infer<typeof VkmFinishRequest>
/** A decoded `abort`. @example const a: VkmAbort = req */
export type VkmAbort = z.infer<typeof VkmAbortRequest>

/**
 * Reply to `plan` and `abort`.
 * @example
 * decodeVkmReply(VkmAckReply, frame)
 */
export const VkmAckReply = z.strictObject({ v: z.literal(VKM_WIRE_VERSION) })
/**
 * Reply to `distances`, `update`, `finish`: the vector as it came back down the chain.
 * @example
 * const { vector } = decodeVkmReply(VkmVectorReply, frame)
 */
export const VkmVectorReply = z.strictObject({ v: z.literal(VKM_WIRE_VERSION), vector: HeVectorWire })

/**
 * Encodes a message (request or reply).
 *
 * @example
 * const bytes = encodeVkm({ v: 1, sessionId, iteration: 0, phase: 'abort', code, reason })
 */
export function encodeVkm(message: object): Uint8Array {
  return packr.pack(message)
}

function decodeWith<S extends z.ZodType>(schema: S, bytes: Uint8Array, what: string): z.infer<S> {
  return decodeFrame(bytes, schema, { maxBytes: VKM_MAX_FRAME_BYTES, what })
}

/**
 * Decodes and validates a request.
 *
 * @throws MessageTooLargeError, MalformedMessageError
 * @example
 * const req = decodeVkmRequest(body)
 */
export function decodeVkmRequest(bytes: Uint8Array): VkmRequest {
  return decodeWith(VkmRequestSchema, bytes, 'vertical k-means request')
}

/**
 * Decodes and validates a reply with the given schema.
 *
 * @throws MessageTooLargeError, MalformedMessageError
 * @example
 * const { vector } = decodeVkmReply(VkmVectorReply, frame)
 */
export function decodeVkmReply<S extends z.ZodType>(schema: S, bytes: Uint8Array): z.infer<S> {
  return decodeWith(schema, bytes, 'vertical k-means reply')
}
