import { isCohortError } from '../../crypto/cohort-error.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import type { Transport } from '../../protocols/transport.ts'
import { decodeTrainReply, encodeTrain, trainReplyLimit } from '../../protocols/training/wire.ts'
import type { TrainReply, TrainRequest } from '../../protocols/training/wire.ts'
import type { HeSetup } from './he-setup.ts'
import type { JobRunContext, Participant } from './types.ts'

/**
 * What every phase of a running job shares: the run context, a transport that counts the bytes the
 * coordinator sends and receives (RoundRecord.bytes), the abort signal and the log.
 *
 * @example
 * const rt = createRuntime(ctx, signal)
 */
export interface JobRuntime {
  readonly ctx: JobRunContext
  readonly transport: Transport
  readonly signal: AbortSignal
  /** Bytes sent and received since the last `takeBytes()`. */
  takeBytes(): number
  /** Homomorphic aggregation setup, for `he` jobs (set by the runner before the offer). */
  he?: HeSetup
  log(line: string): void
}

/**
 * A runtime over `ctx` (the transport is wrapped, not changed).
 * @example
 * const rt = createRuntime(ctx, options.signal ?? new AbortController().signal)
 */
export function createRuntime(ctx: JobRunContext, signal: AbortSignal): JobRuntime {
  let bytes = 0
  const inner = ctx.transport
  const transport: Transport = {
    self: inner.self,
    handle: (p, h, i) => inner.handle(p, h, i),
    unhandle: (p) => inner.unhandle(p),
    async request(peer, protocol, body, options) {
      bytes += body.length
      const reply = await inner.request(peer, protocol, body, options)
      bytes += reply.length
      return reply
    }
  }
  return {
    ctx,
    transport,
    signal,
    takeBytes() {
      const b = bytes
      bytes = 0
      return b
    },
    log: (line) => ctx.log(line)
  }
}

/**
 * One node's answer to a fanned-out request: its reply, or why there is none.
 * @example
 * if ('reply' in o) use(o.reply); else note(o.error.code)
 */
export type Outcome<R> =
  | { readonly peer: Participant; readonly reply: R }
  | { readonly peer: Participant; readonly error: { code: string; message: string } }

/**
 * Sends one training request per node, in parallel, each with its own deadline, and returns every
 * node's outcome (in `peers` order). Throws the abort reason when the job is aborted meanwhile.
 *
 * @example
 * const outcomes = await requestAll(rt, job.id, peers, (p) => offerFor(p), ['accepted', 'declined'], 60_000)
 */
export async function requestAll<K extends TrainReply['kind']>(
  rt: JobRuntime,
  jobId: string,
  peers: readonly Participant[],
  build: (p: Participant) => TrainRequest,
  expected: readonly K[],
  timeoutMs: number,
  plaintext = false
): Promise<Array<Outcome<Extract<TrainReply, { kind: K }>>>> {
  rt.signal.throwIfAborted()
  const out = await Promise.all(
    peers.map(async (peer): Promise<Outcome<Extract<TrainReply, { kind: K }>>> => {
      try {
        const frame = await rt.transport.request(peer.peerId, PROTOCOLS.train, encodeTrain(build(peer)), {
          signal: AbortSignal.any([rt.signal, AbortSignal.timeout(timeoutMs)]),
          maxResponseBytes: trainReplyLimit(plaintext)
        })
        return { peer, reply: decodeTrainReply(frame, expected, jobId) }
      } catch (err) {
        const code = isCohortError(err) ? err.code : 'COHORT_INTERNAL'
        return { peer, error: { code, message: (err as Error)?.message ?? String(err) } }
      }
    })
  )
  rt.signal.throwIfAborted()
  return out
}

/**
 * A fresh id for one secure sum of a job: `<jobId>/<purpose>/<12 hex>`. Every attempt gets its own,
 * because a node's SecAgg participant refuses a (job, round) it has already started.
 *
 * @example
 * secaggIdFor('job-1', 'fit') // 'job-1/fit/3fa2c0d19e4b'
 */
export function secaggIdFor(jobId: string, purpose: string): string {
  return `${jobId}/${purpose}/${Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString('hex')}`
}
