/**
 * Wire messages of `/cohort/psi/1.0.0`: zod schemas and a msgpackr codec with a size cap.
 *
 * Requests travel party -> party (the leader sends open/start/result/unshuffle/done/abort; every
 * hop sends batch). Messages are discriminated unions on `phase`; objects are strict, arrays are
 * capped, points are whole 32-byte points and never more than the plan's batch size, so a decoded
 * message has a bounded, known shape before any rule in the machine runs.
 */
import { Packr } from 'msgpackr'
import { z } from 'zod'
import { PSI_POINT_BYTES } from '../../crypto/psi/blind.ts'
import { PSI_V2_LABEL } from '../../crypto/psi/hash-to-curve.ts'
import { decodeFrame } from '../wire/decode.ts'
import {
  DEFAULT_MAX_PSI_SET_SIZE,
  MAX_PSI_BATCH_POINTS,
  MAX_PSI_FRAME_BYTES,
  MAX_PSI_PARTIES,
  PSI_POSITIONS_PER_MESSAGE
} from './limits.ts'

/**
 * Wire format version carried in every message.
 * @example
 * encodePsi({ v: PSI_WIRE_VERSION, sessionId, phase: 'done', intersectionSize })
 */
export const PSI_WIRE_VERSION = 1

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true, bundleStrings: false })

const u8 = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'must be bytes' })
const Peer = z.string().min(1).max(128)
const Count = z
  .number()
  .int()
  .min(0)
  .max(DEFAULT_MAX_PSI_SET_SIZE * 10)
const head = {
  v: z.literal(PSI_WIRE_VERSION),
  sessionId: z.string().min(8).max(128)
}
const Points = u8.refine(
  (b) => b.length % PSI_POINT_BYTES === 0 && b.length <= MAX_PSI_BATCH_POINTS * PSI_POINT_BYTES,
  {
    message: `must hold whole 32-byte points, at most ${MAX_PSI_BATCH_POINTS}`
  }
)
const Positions = u8.refine((b) => b.length % 4 === 0 && b.length <= PSI_POSITIONS_PER_MESSAGE * 4, {
  message: `must hold whole u32 positions, at most ${PSI_POSITIONS_PER_MESSAGE}`
})

/**
 * `open` (leader -> party): the plan and the salt commitment.
 * @example
 * PsiOpenRequest.parse(decoded)
 */
export const PsiOpenRequest = z.strictObject({
  ...head,
  phase: z.literal('open'),
  jobId: z.string().min(1).max(128),
  parties: z.array(Peer).min(2).max(MAX_PSI_PARTIES),
  reveal: z
    .array(z.enum(['intersection', 'size']))
    .min(2)
    .max(MAX_PSI_PARTIES),
  saltCommitment: u8.refine((b) => b.length === 32, { message: 'must be 32 bytes' }),
  suite: z.literal(PSI_V2_LABEL),
  normalisation: z.enum(['nfkc-casefold-trim', 'exact']),
  batchPoints: z.number().int().min(1).max(MAX_PSI_BATCH_POINTS)
})
/**
 * `start` (leader -> party): every party's set size.
 * @example
 * PsiStartRequest.parse({ v: 1, sessionId, phase: 'start', sizes: [3786, 3786] })
 */
export const PsiStartRequest = z.strictObject({
  ...head,
  phase: z.literal('start'),
  sizes: z.array(Count).min(2).max(MAX_PSI_PARTIES)
})
/**
 * `batch` (hop -> next hop): sequence-numbered blinded points of one chain.
 * @example
 * PsiBatchRequest.parse({ v: 1, sessionId, phase: 'batch', chain: 1, seq: 0, points })
 */
export const PsiBatchRequest = z.strictObject({
  ...head,
  phase: z.literal('batch'),
  chain: z
    .number()
    .int()
    .min(0)
    .max(MAX_PSI_PARTIES - 1),
  seq: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  points: Points
})
/**
 * `result` (leader -> party): positions of the intersection in the party's permuted set.
 * @example
 * PsiResultRequest.parse({ v: 1, sessionId, phase: 'result', offset: 0, positions })
 */
export const PsiResultRequest = z.strictObject({
  ...head,
  phase: z.literal('result'),
  offset: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  positions: Positions
})
/**
 * `unshuffle` (leader -> shuffler): positions in the permuted leader set to map back.
 * @example
 * PsiUnshuffleRequest.parse({ v: 1, sessionId, phase: 'unshuffle', offset: 0, positions })
 */
export const PsiUnshuffleRequest = z.strictObject({
  ...head,
  phase: z.literal('unshuffle'),
  offset: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  positions: Positions
})
/**
 * `done` (leader -> party): the intersection size; the party stores its result.
 * @example
 * PsiDoneRequest.parse({ v: 1, sessionId, phase: 'done', intersectionSize: 2762 })
 */
export const PsiDoneRequest = z.strictObject({
  ...head,
  phase: z.literal('done'),
  intersectionSize: Count
})
/**
 * `abort` (any party): the session is over, with the refusal code.
 * @example
 * PsiAbortRequest.parse({ v: 1, sessionId, phase: 'abort', code: 'COHORT_PSI_BAD_BATCH', reason })
 */
export const PsiAbortRequest = z.strictObject({
  ...head,
  phase: z.literal('abort'),
  code: z.string().min(1).max(64),
  reason: z.string().max(300)
})

/**
 * Every PSI request, discriminated on `phase`.
 * @example
 * const req = PsiRequestSchema.parse(raw)
 */
export const PsiRequestSchema = z.discriminatedUnion('phase', [
  PsiOpenRequest,
  PsiStartRequest,
  PsiBatchRequest,
  PsiResultRequest,
  PsiUnshuffleRequest,
  PsiDoneRequest,
  PsiAbortRequest
])
/**
 * A decoded PSI request.
 * @example
 * const req: PsiRequest = decodePsiRequest(body)
 */
export type PsiRequest = z.infer<typeof PsiRequestSchema>
/**
 * A decoded `open`.
 * @example
 * const open: PsiOpen = { v: 1, sessionId, phase: 'open', ...plan }
 */
export type PsiOpen = z.infer<typeof PsiOpenRequest>
/**
 * A decoded `start`.
 * @example
 * const start: PsiStart = { v: 1, sessionId, phase: 'start', sizes }
 */
export type PsiStart = z.infer<typeof PsiStartRequest>
/**
 * A decoded `batch`.
 * @example
 * const b: PsiBatch = { v: 1, sessionId, phase: 'batch', chain, seq, points }
 */
export type PsiBatch = z.infer<typeof PsiBatchRequest>
/**
 * A decoded `result`.
 * @example
 * const r: PsiResult = { v: 1, sessionId, phase: 'result', offset, positions }
 */
export type PsiResult = z.infer<typeof PsiResultRequest>
/**
 * A decoded `unshuffle`.
 * @example
 * const u: PsiUnshuffle = { v: 1, sessionId, phase: 'unshuffle', offset, positions }
 */
export type PsiUnshuffle = z.infer<typeof PsiUnshuffleRequest>
/**
 * A decoded `done`.
 * @example
 * const d: PsiDone = { v: 1, sessionId, phase: 'done', intersectionSize }
 */
export type PsiDone = z.infer<typeof PsiDoneRequest>
/**
 * A decoded `abort`.
 * @example
 * const a: PsiAbort = { v: 1, sessionId, phase: 'abort', code, reason }
 */
export type PsiAbort = z.infer<typeof PsiAbortRequest>
/**
 * Every message phase.
 * @example
 * const phase: PsiMessagePhase = 'batch'
 */
export type PsiMessagePhase = PsiRequest['phase']

/**
 * Replies: `open` answers the party's set size; `unshuffle` answers positions; the rest ack.
 * @example
 * const { setSize } = decodePsiReply(PsiOpenReply, frame)
 */
export const PsiOpenReply = z.strictObject({ v: z.literal(PSI_WIRE_VERSION), setSize: Count })
/**
 * Reply to `unshuffle`: the positions mapped back to the leader's own order.
 * @example
 * const { positions } = decodePsiReply(PsiUnshuffleReply, frame)
 */
export const PsiUnshuffleReply = z.strictObject({ v: z.literal(PSI_WIRE_VERSION), positions: Positions })
/**
 * Reply to start, batch, result, done, abort.
 * @example
 * decodePsiReply(PsiAckReply, frame)
 */
export const PsiAckReply = z.strictObject({ v: z.literal(PSI_WIRE_VERSION) })

/**
 * Encodes a PSI message (request or reply).
 *
 * @example
 * const bytes = encodePsi({ v: 1, sessionId, phase: 'done', intersectionSize: 2762 })
 */
export function encodePsi(message: object): Uint8Array {
  return packr.pack(message)
}

function decodeWith<S extends z.ZodType>(schema: S, bytes: Uint8Array, what: string): z.infer<S> {
  return decodeFrame(bytes, schema, { maxBytes: MAX_PSI_FRAME_BYTES, what })
}

/**
 * Decodes and validates a PSI request.
 *
 * @throws MessageTooLargeError, MalformedMessageError
 * @example
 * const req = decodePsiRequest(body)
 */
export function decodePsiRequest(bytes: Uint8Array): PsiRequest {
  return decodeWith(PsiRequestSchema, bytes, 'PSI request')
}

/**
 * Decodes and validates a reply with the given schema.
 *
 * @example
 * const { setSize } = decodePsiReply(PsiOpenReply, frame)
 */
export function decodePsiReply<S extends z.ZodType>(schema: S, bytes: Uint8Array): z.infer<S> {
  return decodeWith(schema, bytes, 'PSI reply')
}

/**
 * Packs positions as little-endian u32 (a copy, so the bytes own their buffer).
 *
 * @example
 * const bytes = packPositions(Uint32Array.of(3, 1, 2))
 */
export function packPositions(positions: Uint32Array): Uint8Array {
  const out = new Uint8Array(positions.length * 4)
  const view = new DataView(out.buffer)
  for (let i = 0; i < positions.length; i++) view.setUint32(i * 4, positions[i]!, true)
  return out
}

/**
 * Unpacks little-endian u32 positions.
 *
 * @example
 * unpackPositions(packPositions(Uint32Array.of(7))) // Uint32Array [7]
 */
export function unpackPositions(bytes: Uint8Array): Uint32Array {
  const out = new Uint32Array(bytes.length / 4)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true)
  return out
}
