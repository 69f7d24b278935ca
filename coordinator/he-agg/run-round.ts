/**
 * The coordinator's he-agg driver: runs the aggregator machine (protocols/he-agg/aggregator.ts) over
 * a Transport. Submit to every participant (ciphertexts are added as they arrive), challenge the
 * contributors for their signed digests (dropping and re-challenging whoever does not answer), then
 * ask the key-holder to decrypt the sum, sending it the contributors' hashes, signatures and digests
 * only. Dropouts need no recovery: the sum is over whoever completed before the deadlines.
 *
 * Job scheduling is not here (training issue): this is one round over a given participant list.
 */
import { isCohortError } from '../../crypto/cohort-error.ts'
import type { HeContext } from '../../crypto/he/index.ts'
import { chunkCount } from '../../crypto/he/ciphertext.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import { HeAggBelowMinimumError } from '../../protocols/he-agg/errors.ts'
import { heAggAggregatorMachine } from '../../protocols/he-agg/aggregator.ts'
import type {
  HeAggAggregatorInput,
  HeAggAggregatorOutput,
  HeAggAggregatorState,
  HeAggRejection
} from '../../protocols/he-agg/aggregator.ts'
import { submitRequest } from '../../protocols/he-agg/aggregator.ts'
import type { KeyAnnouncement } from '../../protocols/he-agg/key-announcement.ts'
import {
  AnnouncementSchema,
  ChallengeReply,
  DecryptReply,
  decodeHeAgg,
  encodeHeAgg,
  HE_AGG_WIRE_VERSION,
  MAX_HE_AGG_CIPHERTEXT_BYTES,
  MAX_HE_AGG_CONTROL_BYTES,
  MAX_HE_AGG_VECTOR_BYTES,
  SubmitReply,
  unpackFloat64
} from '../../protocols/he-agg/messages.ts'
import type { AbortOptions, PeerRef, Transport } from '../../protocols/transport.ts'

/**
 * Per-phase deadlines in ms.
 * @example
 * runHeAggRound(t, { ...options, deadlines: { submit: 120_000 } satisfies Partial<HeAggDeadlines> })
 */
export interface HeAggDeadlines {
  submit: number
  challenge: number
  decrypt: number
}

/**
 * Default deadlines: submit 60 s (training + encryption), challenge 15 s, decrypt 60 s.
 * @example
 * const { submit } = DEFAULT_HE_AGG_DEADLINES // 60000
 */
export const DEFAULT_HE_AGG_DEADLINES: Readonly<HeAggDeadlines> = Object.freeze({
  submit: 60_000,
  challenge: 15_000,
  decrypt: 60_000
})

/**
 * Where the driver writes its own audit entries (the coordinator's log; optional).
 * @example
 * runHeAggRound(t, { ...options, audit: coordinatorAudit satisfies HeAggAuditSink })
 */
export interface HeAggAuditSink {
  append(kind: string, body: unknown, options?: { actor?: string; round?: number | null }): Promise<unknown>
}

/**
 * Options of {@link runHeAggRound}.
 * @example
 * runHeAggRound(transport, { jobId, round, participants, keyholder, announcement, context, length, maxAbsPerParty, minParticipants } satisfies HeAggRoundOptions)
 */
export interface HeAggRoundOptions extends AbortOptions {
  jobId: string
  round: number
  participants: readonly PeerRef[]
  /** The key-holder (a manifest member with role keyholder, never this coordinator). */
  keyholder: PeerRef
  /** The key-holder's signed announcement of the round's key (see fetchKeyAnnouncement). */
  announcement: KeyAnnouncement
  context: HeContext
  /** Vector length (values per party). */
  length: number
  /** Bound on |value| of each party's quantised, clipped, noised update. */
  maxAbsPerParty: number
  minParticipants: number
  deadlines?: Partial<HeAggDeadlines>
  /** Challenge attempts (each after dropping non-answering contributors). @default 3 */
  maxChallengeRounds?: number
  audit?: HeAggAuditSink
}

/**
 * A request that failed at the transport level or was refused by the peer.
 * @example
 * for (const f of result.failures satisfies HeAggRequestFailure[]) log(f.peer, f.phase, f.code)
 */
export interface HeAggRequestFailure {
  peer: PeerRef
  phase: 'submit' | 'challenge' | 'decrypt'
  code: string
}

/**
 * The round's result.
 * @example
 * const { sum, contributors }: HeAggRoundResult = await runHeAggRound(transport, options)
 */
export interface HeAggRoundResult {
  /** Σ of the contributors' integer vectors (exact). */
  sum: Float64Array
  contributors: PeerRef[]
  /** Participants not in the sum (no answer, refused, rejected, or dropped at the challenge). */
  dropped: PeerRef[]
  rejected: HeAggRejection[]
  failures: HeAggRequestFailure[]
  timings: Record<string, number>
}

/**
 * Fetches the key-holder's current key announcement (verify it against the job's pin before use:
 * the nodes do, whatever the coordinator sends them).
 *
 * @example
 * const announcement = await fetchKeyAnnouncement(transport, keyholder)
 */
export async function fetchKeyAnnouncement(
  transport: Transport,
  keyholder: PeerRef,
  options: AbortOptions = {}
): Promise<KeyAnnouncement> {
  const frame = await transport.request(
    keyholder,
    PROTOCOLS.heAgg,
    encodeHeAgg({ v: HE_AGG_WIRE_VERSION, phase: 'key' }),
    {
      ...options,
      maxResponseBytes: MAX_HE_AGG_CONTROL_BYTES
    }
  )
  return decodeHeAgg(AnnouncementSchema, frame, MAX_HE_AGG_CONTROL_BYTES) as KeyAnnouncement
}

function signalFor(ms: number, outer?: AbortSignal): AbortSignal {
  const t = AbortSignal.timeout(ms)
  return outer === undefined ? t : AbortSignal.any([t, outer])
}

/**
 * Runs one HE aggregation round and returns the decrypted sum.
 *
 * @throws HeAggBelowMinimumError (COHORT_HE_AGG_BELOW_MINIMUM) when fewer than minParticipants
 *   contribute; the key-holder's refusal as a RemoteError with its code
 * @example
 * const { sum, contributors } = await runHeAggRound(transport, {
 *   jobId, round: 3, participants, keyholder, announcement, context: ctx, length: 8192,
 *   maxAbsPerParty: 2 ** 24, minParticipants: 3
 * })
 */
export async function runHeAggRound(
  transport: Transport,
  options: HeAggRoundOptions
): Promise<HeAggRoundResult> {
  const deadlines = { ...DEFAULT_HE_AGG_DEADLINES, ...options.deadlines }
  const actor = transport.self
  const audit = options.audit
  const failures: HeAggRequestFailure[] = []
  const timings: Record<string, number> = {}
  const started = performance.now()
  let state: HeAggAggregatorState = heAggAggregatorMachine.init({
    jobId: options.jobId,
    round: options.round,
    context: options.context,
    announcement: options.announcement,
    participants: options.participants,
    length: options.length,
    maxAbsPerParty: options.maxAbsPerParty,
    minParticipants: options.minParticipants
  })
  const step = (input: HeAggAggregatorInput): HeAggAggregatorOutput => {
    const r = heAggAggregatorMachine.step(state, input)
    state = r.state
    return r.output
  }
  const base = { jobId: options.jobId, round: options.round, keyId: options.announcement.keyId }
  const fail = (peer: PeerRef, phase: HeAggRequestFailure['phase'], err: unknown) =>
    failures.push({ peer, phase, code: isCohortError(err) ? err.code : 'COHORT_INTERNAL' })
  await audit?.append(
    'he-agg-round-start',
    {
      ...base,
      n: options.participants.length,
      keyholder: options.keyholder,
      minParticipants: options.minParticipants
    },
    { actor, round: options.round }
  )
  try {
    // 1. submit
    let t0 = performance.now()
    const submit = encodeHeAgg(submitRequest(state.params))
    const replyBytes =
      chunkCount(options.length, options.context.slotCount) * MAX_HE_AGG_CIPHERTEXT_BYTES + 64 * 1024
    const submitSignal = signalFor(deadlines.submit, options.signal)
    await Promise.all(
      options.participants.map(async (peer) => {
        try {
          const frame = await transport.request(peer, PROTOCOLS.heAgg, submit, {
            signal: submitSignal,
            maxResponseBytes: replyBytes
          })
          step({ phase: 'submit', peer, reply: decodeHeAgg(SubmitReply, frame, MAX_HE_AGG_VECTOR_BYTES) })
        } catch (err) {
          fail(peer, 'submit', err)
        }
      })
    )
    timings.submitMs = performance.now() - t0

    // 2. challenge (and re-challenge after dropouts)
    let out = step({ phase: 'challenge' })
    for (let attempt = 1; ; attempt++) {
      t0 = performance.now()
      const challengeSignal = signalFor(deadlines.challenge, options.signal)
      await Promise.all(
        [...out.challenges!].map(async ([peer, req]) => {
          try {
            const frame = await transport.request(peer, PROTOCOLS.heAgg, encodeHeAgg(req), {
              signal: challengeSignal,
              maxResponseBytes: MAX_HE_AGG_CONTROL_BYTES
            })
            step({
              phase: 'digest',
              peer,
              reply: decodeHeAgg(ChallengeReply, frame, MAX_HE_AGG_CONTROL_BYTES)
            })
          } catch (err) {
            fail(peer, 'challenge', err)
          }
        })
      )
      timings[`challenge${attempt}Ms`] = performance.now() - t0
      const missing = [...state.contributions.keys()].filter((p) => !state.digests.has(p))
      if (missing.length === 0) break
      if (attempt >= (options.maxChallengeRounds ?? 3)) {
        throw new HeAggBelowMinimumError(
          state.digests.size,
          options.minParticipants,
          'contributors kept dropping out of the challenge'
        )
      }
      out = step({ phase: 'drop', peers: missing })
    }

    // 3. decrypt at the key-holder
    t0 = performance.now()
    const { decrypt } = step({ phase: 'decrypt' })
    const frame = await transport.request(options.keyholder, PROTOCOLS.heAgg, encodeHeAgg(decrypt!), {
      signal: signalFor(deadlines.decrypt, options.signal),
      maxResponseBytes: options.length * 8 + 64 * 1024 + 256 * options.participants.length
    })
    const reply = decodeHeAgg(
      DecryptReply,
      frame,
      options.length * 8 + 64 * 1024 + 256 * options.participants.length
    )
    const { sum } = step({
      phase: 'done',
      values: unpackFloat64(reply.values),
      contributors: reply.contributors
    })
    timings.decryptMs = performance.now() - t0
    timings.totalMs = performance.now() - started
    const contributors = [...state.contributions.keys()].sort()
    const dropped = options.participants.filter((p) => !state.contributions.has(p))
    await audit?.append(
      'he-agg-round-end',
      { ...base, contributors, dropped: dropped.length, rejected: state.rejected.length },
      { actor, round: options.round }
    )
    return { sum: sum!, contributors, dropped, rejected: state.rejected, failures, timings }
  } catch (err) {
    if (state.phase !== 'done' && state.phase !== 'aborted')
      step({ phase: 'aborted', reason: String((err as Error)?.message ?? err) })
    await audit?.append(
      'he-agg-round-aborted',
      {
        ...base,
        code: isCohortError(err) ? err.code : 'COHORT_INTERNAL',
        reason: String((err as Error)?.message ?? err).slice(0, 300)
      },
      { actor, round: options.round }
    )
    throw err
  }
}
