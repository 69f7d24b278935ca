/**
 * Wire messages of `/cohort/train/1.0.0`: zod schemas and a msgpackr codec with size caps.
 *
 * Every request is coordinator -> node; every reply node -> coordinator. Requests (on `kind`):
 * - `offer`: the job summary; the node answers `accepted` (its feature layout, so the coordinator
 *   can check every node encodes the same features) or `declined` {code, reason};
 * - `stats`: compute the federated feature statistics' summand and stash it for the secure sum;
 * - `fit`: train from the global parameters and stash the update's summand;
 * - `eval`: evaluate the global parameters on the held-out rows and stash the evaluation summand;
 * - `publish`: the final model, stored by the node for local scoring;
 * - `cancel`: the job ended early; forget its caches.
 * `stats`, `fit` and `eval` are answered `ready` once the summand is stashed under `secaggId` (the
 * node's SecAgg participant then takes it as its masked input), or `declined` when the node's policy
 * or budget refuses. With `secaggId: null` (plaintext aggregation, only when every node's policy
 * allows it) the `ready` reply carries the summand itself.
 *
 * Every request repeats the job summary, so a node checks each one against its policy without job
 * state of its own. Vectors travel as little-endian Float64 bytes.
 *
 * Size caps, checked before decoding: requests carrying parameters (fit, eval, publish) and a
 * plaintext `ready` reply: MAX_VECTOR_BYTES; everything else MAX_TRAIN_CONTROL_BYTES.
 */
import { decodeFrame } from '../wire/decode.ts'
import { Packr } from 'msgpackr'
import { z } from 'zod'
import { MalformedMessageError, MessageTooLargeError } from '../errors.ts'
import { MAX_TRAIN_CONTROL_BYTES, MAX_VECTOR_BYTES } from '../ids.ts'
import { FeaturePrepSchema, StatsColumnSchema } from './feature-stats.ts'
import { EvalConfigSchema, FitConfigSchema } from './instructions.ts'
import { JobSummarySchema } from './job-summary.ts'

/** Wire format version carried in every message. @example TRAIN_WIRE_VERSION // 1 */
export const TRAIN_WIRE_VERSION = 1

/**
 * Stable codes of a node's refusal (a `declined` reply's `code`).
 * @example
 * if (reply.code === DECLINE.epsilonCap) showUser(reply.reason)
 */
export const DECLINE = Object.freeze({
  coordinator: 'COHORT_POLICY_COORDINATOR',
  federation: 'COHORT_POLICY_FEDERATION',
  unknownDataset: 'COHORT_POLICY_UNKNOWN_DATASET',
  features: 'COHORT_POLICY_FEATURES',
  epsilonCap: 'COHORT_POLICY_EPSILON_CAP',
  noiseFloor: 'COHORT_POLICY_NOISE_FLOOR',
  minParticipants: 'COHORT_POLICY_MIN_PARTICIPANTS',
  plaintext: 'COHORT_POLICY_PLAINTEXT',
  unsupported: 'COHORT_UNSUPPORTED',
  model: 'COHORT_POLICY_MODEL',
  rounds: 'COHORT_POLICY_ROUNDS',
  /** The request contradicts the job summary it carries (features, model, quantisation). */
  mismatch: 'COHORT_JOB_MISMATCH',
  budgetExhausted: 'COHORT_BUDGET_EXHAUSTED'
} as const)

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true, bundleStrings: false })

const u8 = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'must be bytes' })
const f64Bytes = u8.refine((b) => b.length % 8 === 0 && b.length > 0, { message: 'must be Float64 bytes' })
/** Job ids as the coordinator's store allows them (no `!`, `/` or whitespace). */
const JobId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/)
/** SecAgg job ids (protocols/secagg/params.ts). */
const SecaggId = z.string().regex(/^[A-Za-z0-9._:/-]{1,128}$/)
const Round = z
  .int()
  .min(0)
  .max(2 ** 31 - 1)
const head = { v: z.literal(TRAIN_WIRE_VERSION), jobId: JobId }

/** Quantisation parameters of a secure sum (protocols/training/quantisation.ts). */
/** Quantisation parameters of a secure sum (protocols/training/quantisation.ts). @example QuantSchema.parse(quantFor('fit', 62)) */
export const QuantSchema = z.strictObject({
  k: z.int().min(1).max(62),
  clip: z.number().positive().finite(),
  scale: z
    .number()
    .positive()
    .finite()
    .refine((s) => Number.isInteger(Math.log2(s)), 'scale must be a power of two')
})

/** A model descriptor (protocols/training/model-spec.ts). */
/** A model descriptor (protocols/training/model-spec.ts). @example ModelDescriptorSchema.parse({ kind: 'logreg', features: 26 }) */
export const ModelDescriptorSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('logreg'),
    features: z
      .int()
      .min(1)
      .max(1 << 20)
  }),
  z.strictObject({
    kind: z.literal('mlp'),
    features: z
      .int()
      .min(1)
      .max(1 << 20),
    hidden: z.array(z.int().min(1).max(4096)).max(8)
  }),
  z.strictObject({
    kind: z.literal('kmeans'),
    features: z
      .int()
      .min(1)
      .max(1 << 20),
    k: z.int().min(1).max(4096),
    candidates: z.int().min(1).max(64).optional(),
    initScale: z.number().positive().finite().optional()
  })
])

/** The job offered to a node. @example OfferRequest.parse({ v: 1, jobId, kind: 'offer', job }) */
export const OfferRequest = z.strictObject({ ...head, kind: z.literal('offer'), job: JobSummarySchema })
/** Prepare the feature-statistics summand. @example StatsRequest.parse(req) */
export const StatsRequest = z.strictObject({
  ...head,
  kind: z.literal('stats'),
  job: JobSummarySchema,
  secaggId: SecaggId.nullable(),
  quant: QuantSchema,
  columns: z.array(StatsColumnSchema).min(1).max(4096)
})
/** Train round `round` from `global` and prepare the update's summand. @example FitRequest.parse(req) */
export const FitRequest = z.strictObject({
  ...head,
  kind: z.literal('fit'),
  round: Round,
  job: JobSummarySchema,
  secaggId: SecaggId.nullable(),
  model: ModelDescriptorSchema,
  global: f64Bytes,
  config: FitConfigSchema,
  prep: FeaturePrepSchema,
  quant: QuantSchema
})
/** Evaluate `global` on the held-out rows and prepare the evaluation summand. @example EvalRequest.parse(req) */
export const EvalRequest = z.strictObject({
  ...head,
  kind: z.literal('eval'),
  round: Round,
  job: JobSummarySchema,
  secaggId: SecaggId.nullable(),
  model: ModelDescriptorSchema,
  global: f64Bytes,
  config: EvalConfigSchema,
  prep: FeaturePrepSchema,
  quant: QuantSchema,
  /** k-means without DP: append the training rows' evaluation vector (training inertia). */
  trainSplit: z.boolean()
})
/** The final model, for local scoring. @example PublishRequest.parse(req) */
export const PublishRequest = z.strictObject({
  ...head,
  kind: z.literal('publish'),
  version: z.int().min(1).max(1_000_000),
  name: z.string().min(1).max(100),
  dataset: z.string().min(1).max(64),
  model: ModelDescriptorSchema,
  params: f64Bytes,
  prep: FeaturePrepSchema,
  metrics: z.record(z.string().max(100), z.number())
})
/** The job ended early: forget its caches. @example CancelRequest.parse({ v: 1, jobId, kind: 'cancel', reason: 'cancelled' }) */
export const CancelRequest = z.strictObject({
  ...head,
  kind: z.literal('cancel'),
  reason: z.string().max(500)
})

/** Every request of the protocol, on `kind`. @example TrainRequestSchema.safeParse(raw) */
export const TrainRequestSchema = z.discriminatedUnion('kind', [
  OfferRequest,
  StatsRequest,
  FitRequest,
  EvalRequest,
  PublishRequest,
  CancelRequest
])
/** A request (coordinator -> node). @example const r: TrainRequest = decodeTrainRequest(body) */
export type TrainRequest = z.infer<typeof TrainRequestSchema>
/** @see OfferRequest @example const m: OfferRequest = OfferRequest.parse(raw) */
export type OfferRequest = z.infer<typeof OfferRequest>
/** @see StatsRequest @example const m: StatsRequest = StatsRequest.parse(raw) */
export type StatsRequest = z.infer<typeof StatsRequest>
/** @see FitRequest @example const m: FitRequest = FitRequest.parse(raw) */
export type FitRequest = z.infer<typeof FitRequest>
/** @see EvalRequest @example const m: EvalRequest = EvalRequest.parse(raw) */
export type EvalRequest = z.infer<typeof EvalRequest>
/** @see PublishRequest @example const m: PublishRequest = PublishRequest.parse(raw) */
export type PublishRequest = z.infer<typeof PublishRequest>
/** @see CancelRequest @example const m: CancelRequest = CancelRequest.parse(raw) */
export type CancelRequest = z.infer<typeof CancelRequest>

/** The node takes part: its feature layout and DP plan. @example AcceptedReply.parse(reply) */
export const AcceptedReply = z.strictObject({
  ...head,
  kind: z.literal('accepted'),
  /** Encoded feature names the node will train on, in order. */
  features: z.array(z.string().max(200)).min(1).max(4096),
  /** The feature columns behind them (the statistics' layout). */
  columns: z.array(StatsColumnSchema).min(1).max(4096),
  /** The node's own DP plan: its noise multiplier and the job's ε on its ledger (null without DP). */
  plan: z.strictObject({ noiseMultiplier: z.number().nullable(), epsilon: z.number().nullable() })
})
/** The node refuses, with a stable code and one sentence for the coordinator's user. @example DeclinedReply.parse(reply) */
export const DeclinedReply = z.strictObject({
  ...head,
  kind: z.literal('declined'),
  code: z.string().regex(/^COHORT_[A-Z0-9_]{1,60}$/),
  reason: z.string().max(500)
})
/** The summand is stashed for SecAgg (or, for plaintext jobs, returned). @example ReadyReply.parse(reply) */
export const ReadyReply = z.strictObject({
  ...head,
  kind: z.literal('ready'),
  round: Round,
  /** Length of the stashed summand. */
  length: z
    .int()
    .min(1)
    .max(1 << 24),
  /** The summand itself, only for plaintext aggregation. */
  vector: f64Bytes.optional()
})
/** The published model is stored. @example StoredReply.parse(reply) */
export const StoredReply = z.strictObject({ ...head, kind: z.literal('stored'), version: z.int().min(1) })
/** The job's caches are gone. @example CancelledReply.parse(reply) */
export const CancelledReply = z.strictObject({ ...head, kind: z.literal('cancelled') })

/** Every reply of the protocol, on `kind`. @example TrainReplySchema.safeParse(raw) */
export const TrainReplySchema = z.discriminatedUnion('kind', [
  AcceptedReply,
  DeclinedReply,
  ReadyReply,
  StoredReply,
  CancelledReply
])
/** A reply (node -> coordinator). @example const r: TrainReply = decodeTrainReply(frame, ['ready'], jobId) */
export type TrainReply = z.infer<typeof TrainReplySchema>
/** @see AcceptedReply @example const m: AcceptedReply = AcceptedReply.parse(raw) */
export type AcceptedReply = z.infer<typeof AcceptedReply>
/** @see DeclinedReply @example const m: DeclinedReply = DeclinedReply.parse(raw) */
export type DeclinedReply = z.infer<typeof DeclinedReply>
/** @see ReadyReply @example const m: ReadyReply = ReadyReply.parse(raw) */
export type ReadyReply = z.infer<typeof ReadyReply>

const BIG_REQUESTS: ReadonlySet<string> = new Set(['fit', 'eval', 'publish'])

/**
 * msgpack-encodes a request or reply.
 *
 * @example
 * const frame = encodeTrain({ v: 1, jobId: 'job-1', kind: 'cancel', reason: 'user' })
 */
export function encodeTrain(message: TrainRequest | TrainReply): Uint8Array {
  const buf = packr.pack(message)
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
}

function decode<T extends { kind: string }>(
  schema: z.ZodType<T>,
  frame: Uint8Array,
  capOf: (m: T) => number,
  what: string
): T {
  // Every frame is first held to the largest cap, then to its own kind's.
  const message = decodeFrame(frame, schema, { maxBytes: MAX_VECTOR_BYTES, what })
  const cap = capOf(message)
  if (frame.length > cap)
    throw new MessageTooLargeError(`a ${message.kind} ${what} of ${frame.length} bytes exceeds ${cap} bytes`)
  return message
}

/**
 * Decodes and validates a request frame (size caps, msgpack, schema).
 *
 * @throws MessageTooLargeError | MalformedMessageError
 * @example
 * const req = decodeTrainRequest(body)
 */
export function decodeTrainRequest(frame: Uint8Array): TrainRequest {
  return decode(
    TrainRequestSchema,
    frame,
    (m) => (BIG_REQUESTS.has(m.kind) ? MAX_VECTOR_BYTES : MAX_TRAIN_CONTROL_BYTES),
    'train request'
  )
}

/**
 * Decodes and validates a reply frame; its kind must be one of `expected`.
 *
 * @throws MessageTooLargeError | MalformedMessageError
 * @example
 * const reply = decodeTrainReply(frame, ['accepted', 'declined'])
 */
export function decodeTrainReply<K extends TrainReply['kind']>(
  frame: Uint8Array,
  expected: readonly K[],
  jobId: string
): Extract<TrainReply, { kind: K }> {
  const reply = decode(
    TrainReplySchema,
    frame,
    (m) => (m.kind === 'ready' && m.vector !== undefined ? MAX_VECTOR_BYTES : MAX_TRAIN_CONTROL_BYTES),
    'train reply'
  )
  if (!(expected as readonly string[]).includes(reply.kind))
    throw new MalformedMessageError(`expected a ${expected.join(' or ')} reply, got ${reply.kind}`)
  if (reply.jobId !== jobId)
    throw new MalformedMessageError(`the reply is for job ${reply.jobId}, not ${jobId}`)
  return reply as Extract<TrainReply, { kind: K }>
}

/**
 * The largest reply to accept (pass as `maxResponseBytes`): a plaintext job's `ready` carries a vector.
 * @example
 * transport.request(peer, PROTOCOLS.train, body, { maxResponseBytes: trainReplyLimit(plaintext) })
 */
export function trainReplyLimit(plaintext: boolean): number {
  return plaintext ? MAX_VECTOR_BYTES : MAX_TRAIN_CONTROL_BYTES
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/**
 * Little-endian bytes of a Float64Array (a copy).
 * @example
 * const bytes = f64ToBytes(spec.flatten(global))
 */
export function f64ToBytes(v: Float64Array): Uint8Array {
  const out = new Uint8Array(v.length * 8)
  const view = new DataView(out.buffer)
  if (LITTLE_ENDIAN) out.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
  else for (let i = 0; i < v.length; i++) view.setFloat64(i * 8, v[i]!, true)
  return out
}

/**
 * A Float64Array from little-endian bytes (a copy; every value must be finite).
 *
 * @throws MalformedMessageError for a bad length or a non-finite value
 * @example
 * const global = bytesToF64(req.global)
 */
export function bytesToF64(b: Uint8Array, expectedLength?: number): Float64Array {
  if (b.length % 8 !== 0) throw new MalformedMessageError('a Float64 vector needs a multiple of 8 bytes')
  const n = b.length / 8
  if (expectedLength !== undefined && n !== expectedLength)
    throw new MalformedMessageError(`expected ${expectedLength} values, got ${n}`)
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const x = view.getFloat64(i * 8, true)
    if (!Number.isFinite(x)) throw new MalformedMessageError(`value ${i} of the vector is not finite`)
    out[i] = x
  }
  return out
}
