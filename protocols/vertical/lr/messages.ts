/**
 * Wire messages of `/cohort/vertical-lr/1.0.0` and `/cohort/vertical-lr-score/1.0.0`: zod schemas
 * (strict objects, capped arrays) over msgpackr. Reals travel as little-endian float64 bytes, row
 * indices as little-endian u32, HE objects as their zstd SEAL serialization (checked again by the
 * crypto/he loaders with their own size limits).
 */
import { Packr } from 'msgpackr'
import { z } from 'zod'
import { MalformedMessageError } from '../../errors.ts'
import { decodeFrame } from '../../wire/decode.ts'
import { MAX_VLR_BATCH, MAX_VLR_COLS, MAX_VLR_EPOCHS, MAX_VLR_PARTIES, MAX_VLR_ROWS } from './options.ts'

/** Wire version in every message. */
export const VLR_WIRE_VERSION = 1
/**
 * Largest frame: one serialized Galois key object of ≤ 12 steps (~17 MB zstd, bound ~19 MB) plus
 * envelope. Every other message is far smaller.
 */
export const MAX_VLR_FRAME_BYTES = 24 * 1024 * 1024
/** Most ciphertexts in one message (column blocks of a product). */
const MAX_CTS = Math.ceil(MAX_VLR_COLS / 4096) + 16

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true, bundleStrings: false })
const u8 = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'must be bytes' })
const bytesUpTo = (max: number) => u8.refine((b) => b.length <= max, { message: `at most ${max} bytes` })
const ct = bytesUpTo(2 * 1024 * 1024)
const f64 = (maxValues: number) =>
  u8.refine((b) => b.length % 8 === 0 && b.length <= maxValues * 8, { message: 'must hold float64 values' })
const Step = z
  .number()
  .int()
  .min(0)
  .max(MAX_VLR_EPOCHS * 100_000)
const head = { v: z.literal(VLR_WIRE_VERSION), sessionId: z.string().min(8).max(128) }
const Party = z.strictObject({
  peer: z.string().min(1).max(128),
  name: z.string().min(1).max(128),
  role: z.enum(['label', 'feature'])
})

/** The plan on the wire (see VerticalLrPlan). */
export const PlanSchema = z.strictObject({
  sessionId: z.string().min(8).max(128),
  scheme: z.literal('linearized-2key-ckks/v2'),
  approximation: z.enum(['taylor', 'anchored']),
  heParams: z.string().regex(/^[0-9a-f]{64}$/),
  parties: z.array(Party).min(2).max(MAX_VLR_PARTIES),
  rows: z.number().int().min(1).max(MAX_VLR_ROWS),
  testRows: bytesUpTo(MAX_VLR_ROWS),
  labelCols: z
    .number()
    .int()
    .min(1)
    .max(MAX_VLR_COLS + 1),
  epochs: z.number().int().min(1).max(MAX_VLR_EPOCHS),
  batchSize: z.number().int().min(2).max(MAX_VLR_BATCH),
  learningRate: z.number().positive().finite(),
  l2: z.number().min(0).finite(),
  optimizer: z.enum(['adam', 'sgd']),
  seed: z.string().min(1).max(256),
  dp: z
    .strictObject({
      noiseMultiplier: z.number().positive().finite(),
      clipNorm: z.number().positive().finite(),
      delta: z.number().positive().lt(1),
      epsilon: z.number().min(0)
    })
    .nullable(),
  labelKeyFingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  lossParty: z.string().min(1).max(128),
  maskBits: z.number().int().min(1).max(17)
})

/** Label → feature: the plan. Reply: {@link PlanReply}. */
export const PlanRequest = z.strictObject({ ...head, phase: z.literal('plan'), plan: PlanSchema })
/** Label → feature: the label party's keys, one Galois key object per message (index < count). */
export const KeysRequest = z.strictObject({
  ...head,
  phase: z.literal('keys'),
  index: z.number().int().min(0).max(63),
  count: z.number().int().min(1).max(64),
  publicKey: bytesUpTo(1024 * 1024).optional(),
  relinKeys: bytesUpTo(8 * 1024 * 1024).optional(),
  galois: bytesUpTo(MAX_VLR_FRAME_BYTES - 64 * 1024)
})
/** Label → feature: fetch the feature party's Galois key object `index`. Reply: {@link FetchKeysReply}. */
export const FetchKeysRequest = z.strictObject({
  ...head,
  phase: z.literal('fetch-keys'),
  index: z.number().int().min(0).max(63)
})
/**
 * Label → feature (several feature parties only): Enc_L(c) of batch `step` (the slopes; required, the
 * runner refuses a prepare without it); send Enc_L(c ⊙ u_p) to the others.
 */
export const PrepareRequest = z.strictObject({
  ...head,
  phase: z.literal('prepare'),
  step: Step,
  slope: ct.optional()
})
/** Feature → feature: Enc_L(c ⊙ u_q) of batch `step` (scale Δ², re-randomized). */
export const ShareRequest = z.strictObject({ ...head, phase: z.literal('share'), step: Step, share: ct })
/**
 * Label → feature: Enc_L(a) of batch `step` (the offsets, scale Δ²) and, with one feature party,
 * Enc_L(c) (required then, refused with several: it came with prepare). Reply: {@link GradientReply}.
 */
export const GradientRequest = z.strictObject({
  ...head,
  phase: z.literal('gradient'),
  step: Step,
  partial: ct,
  slope: ct.optional()
})
/** Label → feature: the noisy masked gradient and the masked cross term. Reply: {@link UpdateReply}. */
export const UpdateRequest = z.strictObject({
  ...head,
  phase: z.literal('update'),
  step: Step,
  gradient: f64(MAX_VLR_COLS),
  cross: z.array(ct).min(1).max(MAX_CTS)
})
/** Label → feature: partial scores of the held-out rows. Reply: {@link ScoresReply}. */
export const EvaluateRequest = z.strictObject({ ...head, phase: z.literal('evaluate') })
/** Label → feature: the session is complete. */
export const DoneRequest = z.strictObject({ ...head, phase: z.literal('done') })
/** Any party → any party: the session is over. */
export const AbortRequest = z.strictObject({
  ...head,
  phase: z.literal('abort'),
  code: z.string().min(1).max(64),
  reason: z.string().max(300)
})

/** Every session request, discriminated on `phase`. */
export const VlrRequestSchema = z.discriminatedUnion('phase', [
  PlanRequest,
  KeysRequest,
  FetchKeysRequest,
  PrepareRequest,
  ShareRequest,
  GradientRequest,
  UpdateRequest,
  EvaluateRequest,
  DoneRequest,
  AbortRequest
])
/** A decoded session request. */
export type VlrRequest = z.infer<typeof VlrRequestSchema>
/** A session message phase. */
export type VlrPhase = VlrRequest['phase']

/** Reply to plan: the feature party's column count, public key and Galois key object count. */
export const PlanReply = z.strictObject({
  v: z.literal(VLR_WIRE_VERSION),
  cols: z.number().int().min(1).max(MAX_VLR_COLS),
  publicKey: bytesUpTo(1024 * 1024),
  galoisCount: z.number().int().min(1).max(64)
})
/** Reply to fetch-keys. */
export const FetchKeysReply = z.strictObject({
  v: z.literal(VLR_WIRE_VERSION),
  galois: bytesUpTo(MAX_VLR_FRAME_BYTES - 64 * 1024)
})
/** Reply to gradient: masked Enc_L(X_pᵀ r / B) blocks, Enc_p(u_p), and (loss party) Enc_L(Σ r²). */
export const GradientReply = z.strictObject({
  v: z.literal(VLR_WIRE_VERSION),
  product: z.array(ct).min(1).max(MAX_CTS),
  cross: ct,
  loss: ct.optional()
})
/** Reply to update: the masked cross term, decrypted. */
export const UpdateReply = z.strictObject({ v: z.literal(VLR_WIRE_VERSION), cross: f64(MAX_VLR_COLS + 1) })
/** Reply to evaluate / score: partial scores. */
export const ScoresReply = z.strictObject({ v: z.literal(VLR_WIRE_VERSION), scores: f64(MAX_VLR_ROWS) })
/** Acknowledgement. */
export const AckReply = z.strictObject({ v: z.literal(VLR_WIRE_VERSION) })

/** Label → feature on the scoring protocol: partial scores of the given aligned rows. */
export const ScoreRequest = z.strictObject({
  ...head,
  phase: z.literal('score'),
  rows: u8.refine((b) => b.length % 4 === 0 && b.length <= MAX_VLR_ROWS * 4, {
    message: 'must hold u32 rows'
  })
})

/** Encodes a message (request or reply). */
export function encodeVlr(message: object): Uint8Array {
  return packr.pack(message)
}

/**
 * Decodes and validates `bytes` with `schema`.
 *
 * @throws MessageTooLargeError, MalformedMessageError
 * @example
 * const req = decodeVlr(VlrRequestSchema, body, 'vertical LR request')
 */
export function decodeVlr<S extends z.ZodType>(schema: S, bytes: Uint8Array, what: string): z.infer<S> {
  return decodeFrame(bytes, schema, { maxBytes: MAX_VLR_FRAME_BYTES, what })
}

/** Float64 values as little-endian bytes. */
export function f64Bytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 8)
  const view = new DataView(out.buffer)
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i]!, true)
  return out
}

/** Little-endian float64 bytes as values; refuses non-finite values. */
export function bytesF64(bytes: Uint8Array, what: string): Float64Array {
  const out = new Float64Array(bytes.length / 8)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let i = 0; i < out.length; i++) {
    const v = view.getFloat64(i * 8, true)
    if (!Number.isFinite(v)) throw new MalformedMessageError(`${what}[${i}] is not finite`)
    out[i] = v
  }
  return out
}

/** u32 row indices as little-endian bytes. */
export function u32Bytes(values: Uint32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4)
  const view = new DataView(out.buffer)
  for (let i = 0; i < values.length; i++) view.setUint32(i * 4, values[i]!, true)
  return out
}

/** Little-endian u32 bytes as row indices. */
export function bytesU32(bytes: Uint8Array): Uint32Array {
  const out = new Uint32Array(bytes.length / 4)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true)
  return out
}
