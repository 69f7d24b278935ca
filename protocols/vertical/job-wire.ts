/**
 * Wire messages of `/cohort/vertical-job/1.0.0`: how a coordinator drives a vertical job at each node,
 * and how the label node asks the feature nodes to serve partial scores. msgpackr + strict zod, with
 * a size cap checked before decoding.
 *
 * Coordinator -> node (every request names the job; `offer`, `psi` and `train` repeat its summary,
 * so a node checks each against the one it accepted):
 * - `offer`: the node checks the job against its policy: `accepted` (its feature count, aligned-row
 *   plan, ε it would spend) or `declined` {code, reason};
 * - `psi`: the label node leads the PSI among the parties (`started`); the others take part on
 *   their own PSI handler, which expects the session because they accepted the job;
 * - `train`: the node builds its aligned slice and starts its protocol party (`started`);
 * - `status`: where the node is (`status`: phase, |intersection|, the label party's metrics);
 * - `cancel`: forget the job.
 * Label node -> feature node: `serve` / `serve-stop` (partial scores of a stored vertical model).
 *
 * Nothing here carries rows, ids or weights: metrics are aggregate numbers of the label party.
 */
import { decodeFrame } from '../wire/decode.ts'
import { Packr } from 'msgpackr'
import { z } from 'zod'
import { MalformedMessageError } from '../errors.ts'

/** Wire format version carried in every message. @example VERTICAL_WIRE_VERSION // 1 */
export const VERTICAL_WIRE_VERSION = 1
/** Largest frame either way (summaries and metrics only). */
export const MAX_VERTICAL_JOB_BYTES = 256 * 1024

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true, bundleStrings: false })

const JobId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/)
const Org = z.string().min(1).max(100)
const Name = z.string().min(1).max(200)

/**
 * The job as one node sees it: its own data selection and role, everybody's peer and role.
 * @example
 * VerticalJobSummarySchema.parse(summary)
 */
export const VerticalJobSummarySchema = z
  .object({
    name: z.string().min(1).max(100),
    model: z.enum(['logreg', 'kmeans']),
    role: z.enum(['label', 'feature']),
    dataset: Name,
    features: z.array(Name).max(10_000).optional(),
    idColumn: Name.optional(),
    normalisation: z.enum(['nfkc-casefold-trim', 'exact']),
    /** Every party in session order (the same at every node); exactly one `label`. */
    parties: z
      .array(z.object({ org: Org, peerId: z.string().min(1).max(200), role: z.enum(['label', 'feature']) }))
      .min(2)
      .max(64),
    lr: z
      .object({
        epochs: z.number().int().min(1).max(10_000),
        batchSize: z.number().int().min(1).max(1_000_000),
        learningRate: z.number().positive().max(100),
        l2: z.number().nonnegative(),
        optimizer: z.enum(['adam', 'sgd'])
      })
      .strict()
      .optional(),
    kmeans: z
      .object({
        k: z.number().int().min(2).max(256),
        maxIterations: z.number().int().min(1).max(1000),
        nInit: z.number().int().min(1).max(64).optional(),
        tolerance: z.number().positive().optional()
      })
      .strict()
      .optional(),
    dp: z
      .object({
        epsilon: z.number().positive().optional(),
        noiseMultiplier: z.number().positive().optional(),
        delta: z.number().positive().lt(1),
        clipNorm: z.number().positive()
      })
      .strict()
      .nullable(),
    minParticipants: z.number().int().min(2),
    /** Public seed of the session (initialisation, shuffles). */
    seed: z.string().min(1).max(200)
  })
  .strict()
/** @example const s: VerticalJobSummary = summaryOf(job, org) */
export type VerticalJobSummary = z.infer<typeof VerticalJobSummarySchema>

const Base = { v: z.literal(VERTICAL_WIRE_VERSION), jobId: JobId }

/** Every request. @example decodeVerticalRequest(frame).kind // 'offer' */
export const VerticalRequestSchema = z.discriminatedUnion('kind', [
  z.object({ ...Base, kind: z.literal('offer'), job: VerticalJobSummarySchema }).strict(),
  z.object({ ...Base, kind: z.literal('psi'), job: VerticalJobSummarySchema }).strict(),
  z.object({ ...Base, kind: z.literal('train'), job: VerticalJobSummarySchema }).strict(),
  z.object({ ...Base, kind: z.literal('status') }).strict(),
  z.object({ ...Base, kind: z.literal('cancel'), reason: z.string().max(500) }).strict(),
  z.object({ ...Base, kind: z.literal('serve'), sessionId: z.string().min(1).max(200) }).strict(),
  z.object({ ...Base, kind: z.literal('serve-stop'), sessionId: z.string().min(1).max(200) }).strict()
])
/** @example const r: VerticalRequest = { v: 1, jobId, kind: 'status' } */
export type VerticalRequest = z.infer<typeof VerticalRequestSchema>

/** Where a node is in a vertical job. */
export const VERTICAL_PHASES = ['accepted', 'psi', 'aligned', 'training', 'done', 'failed'] as const
/** @example const p: VerticalPhase = 'training' */
export type VerticalPhase = (typeof VERTICAL_PHASES)[number]

/** Every reply. @example decodeVerticalReply(frame, ['accepted', 'declined'], jobId) */
export const VerticalReplySchema = z.discriminatedUnion('kind', [
  z
    .object({
      ...Base,
      kind: z.literal('accepted'),
      /** Encoded features the node trains on (names only; they stay the node's). */
      features: z.number().int().min(0),
      /** ε the job may spend on the node's ledger (null without DP). */
      epsilon: z.number().nonnegative().nullable()
    })
    .strict(),
  z
    .object({ ...Base, kind: z.literal('declined'), code: z.string().max(100), reason: z.string().max(1000) })
    .strict(),
  z.object({ ...Base, kind: z.literal('started') }).strict(),
  z.object({ ...Base, kind: z.literal('cancelled') }).strict(),
  z
    .object({
      ...Base,
      kind: z.literal('status'),
      phase: z.enum(VERTICAL_PHASES),
      intersectionSize: z.number().int().min(0).optional(),
      /** The label party's aggregate metrics once done (AUC, KS, log-loss / inertia, segment sizes). */
      metrics: z.record(z.string().max(64), z.number()).optional(),
      error: z
        .object({ code: z.string().max(100), message: z.string().max(1000) })
        .strict()
        .optional()
    })
    .strict()
])
/** @example const r: VerticalReply = { v: 1, jobId, kind: 'started' } */
export type VerticalReply = z.infer<typeof VerticalReplySchema>

/**
 * Encodes a request or reply.
 * @example
 * const frame = encodeVertical({ v: VERTICAL_WIRE_VERSION, jobId, kind: 'status' })
 */
export function encodeVertical(message: VerticalRequest | VerticalReply): Uint8Array {
  return packr.pack(message)
}

function decode<S extends z.ZodType>(schema: S, frame: Uint8Array, what: string): z.infer<S> {
  return decodeFrame(frame, schema, { maxBytes: MAX_VERTICAL_JOB_BYTES, what })
}

/**
 * Decodes and validates a request frame.
 * @throws MessageTooLargeError | MalformedMessageError
 * @example
 * const req = decodeVerticalRequest(frame)
 */
export function decodeVerticalRequest(frame: Uint8Array): VerticalRequest {
  return decode(VerticalRequestSchema, frame, 'vertical job request')
}

/**
 * Decodes a reply; its kind must be one of `expected` and it must be for `jobId`.
 * @throws MessageTooLargeError | MalformedMessageError
 * @example
 * const reply = decodeVerticalReply(frame, ['status'], jobId)
 */
export function decodeVerticalReply<K extends VerticalReply['kind']>(
  frame: Uint8Array,
  expected: readonly K[],
  jobId: string
): Extract<VerticalReply, { kind: K }> {
  const reply = decode(VerticalReplySchema, frame, 'vertical job reply')
  if (!(expected as readonly string[]).includes(reply.kind))
    throw new MalformedMessageError(`expected a ${expected.join(' or ')} reply, got ${reply.kind}`)
  if (reply.jobId !== jobId)
    throw new MalformedMessageError(`the reply is for job ${reply.jobId}, not ${jobId}`)
  return reply as Extract<VerticalReply, { kind: K }>
}
