/**
 * The leader's driver of a PSI session (protocols/psi/README.md): open every party (each checks the
 * salt commitment, membership and its policy, and answers its set size), start the exchange, wait
 * until every chain reached the leader fully blinded, intersect, send each party that may learn it
 * the positions of the intersection in its own set, map the leader's own positions back through the
 * shuffler, and close with `done` (every party stores its result and audits the counts it learned).
 */
import { bytesToHex } from '@noble/hashes/utils.js'
import { PSI_V2_LABEL } from '../../crypto/psi/hash-to-curve.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import { PsiAbortedError, PsiNotMemberError, PsiPolicyError } from '../../protocols/psi/errors.ts'
import { intersectPacked } from '../../protocols/psi/intersect.ts'
import { PSI_BATCH_POINTS, PSI_POSITIONS_PER_MESSAGE } from '../../protocols/psi/limits.ts'
import {
  decodePsiReply,
  encodePsi,
  packPositions,
  PSI_WIRE_VERSION,
  PsiAckReply,
  PsiOpenReply,
  PsiUnshuffleReply,
  unpackPositions
} from '../../protocols/psi/messages.ts'
import type { PsiOpen } from '../../protocols/psi/messages.ts'
import { psiSaltCommitment } from '../../protocols/psi/plan.ts'
import type { PsiNormalisation, PsiReveal } from '../../protocols/psi/plan.ts'
import type { AbortOptions, PeerRef, Transport } from '../../protocols/transport.ts'
import type { PsiPartyResult, PsiSession } from './psi-session.ts'

/**
 * Options of a session this node leads.
 * @example
 * await psi.lead({ jobId, parties: [me, a, b], reveal: 'intersection' } satisfies PsiLeadOptions)
 */
export interface PsiLeadOptions extends AbortOptions {
  jobId: string
  /** Every party's peer id in ring order; parties[0] must be this node (the leader). */
  parties: readonly string[]
  /** What each party learns (same order as `parties`), or one mode for all. */
  reveal: readonly PsiReveal[] | PsiReveal
  /** @default 'nfkc-casefold-trim' */
  normalisation?: PsiNormalisation
  /** @default 32768 */
  batchPoints?: number
  /** @default 16 random bytes, hex */
  sessionId?: string
  /** Deadline of the whole session. @default 1800000 (30 min) */
  timeoutMs?: number
}

/**
 * What the driver needs from the registered party.
 * @example
 * leadPsiSession({ transport, self, newSession } satisfies LeadRuntime, options)
 */
export interface LeadRuntime {
  transport: Transport
  self: string
  newSession(jobId: string, sessionId: string, leader: string): Promise<PsiSession>
}

function request(t: Transport, peer: PeerRef, message: object, signal: AbortSignal): Promise<Uint8Array> {
  return t.request(peer, PROTOCOLS.psi, encodePsi(message), { signal })
}

function until<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () =>
      reject(new PsiAbortedError('the PSI session did not finish before its deadline', 'COHORT_TIMEOUT'))
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/**
 * Runs one PSI session as its leader and returns the leader's result.
 *
 * @throws RemoteError with the refusing party's code (e.g. COHORT_PSI_SALT_MISMATCH,
 *   COHORT_PSI_NOT_MEMBER, COHORT_PSI_POLICY) when a party refuses `open`; PsiAbortedError when the
 *   session aborts later
 * @example
 * const mine = await leadPsiSession(runtime, { jobId, parties: [me, a, b], reveal: 'intersection' })
 */
export async function leadPsiSession(rt: LeadRuntime, options: PsiLeadOptions): Promise<PsiPartyResult> {
  const { transport, self } = rt
  const parties = [...options.parties]
  if (parties[0] !== self) throw new PsiNotMemberError('the leader must be parties[0]')
  const n = parties.length
  const reveal: PsiReveal[] =
    typeof options.reveal === 'string' ? parties.map(() => options.reveal as PsiReveal) : [...options.reveal]
  if (reveal.length !== n) throw new PsiPolicyError('reveal needs one mode per party')
  const sessionId = options.sessionId ?? bytesToHex(crypto.getRandomValues(new Uint8Array(16)))
  const deadline = AbortSignal.timeout(options.timeoutMs ?? 1_800_000)
  const signal = options.signal === undefined ? deadline : AbortSignal.any([options.signal, deadline])
  const s = await rt.newSession(options.jobId, sessionId, self)
  const head = { v: PSI_WIRE_VERSION, sessionId } as const
  try {
    const open: PsiOpen = {
      ...head,
      phase: 'open',
      jobId: options.jobId,
      parties,
      reveal,
      saltCommitment: psiSaltCommitment(sessionId, options.jobId, s.input.local.salt),
      suite: PSI_V2_LABEL,
      normalisation: options.normalisation ?? 'nfkc-casefold-trim',
      batchPoints: options.batchPoints ?? PSI_BATCH_POINTS
    }
    const mine = await s.open(self, open)
    const others = parties.slice(1)
    const theirs = await Promise.all(
      others.map(async (p) => decodePsiReply(PsiOpenReply, await request(transport, p, open, signal)).setSize)
    )
    const start = { ...head, phase: 'start' as const, sizes: [mine, ...theirs] }
    const firstHop = await s.start(self, start)
    await Promise.all(
      others.map(async (p) => decodePsiReply(PsiAckReply, await request(transport, p, start, signal)))
    )
    void s.produce(firstHop)
    await until(s.chainsDone.promise, signal)

    const sets = parties.map((_, c) => s.finals.get(c)!)
    const { size, positions } = intersectPacked(sets)
    s.finals.clear()
    for (let j = 1; j < n; j++) {
      if (reveal[j] !== 'intersection') continue
      const mineJ = positions[j]!
      for (let off = 0; off < mineJ.length; off += PSI_POSITIONS_PER_MESSAGE) {
        const chunk = mineJ.subarray(off, off + PSI_POSITIONS_PER_MESSAGE)
        const msg = { ...head, phase: 'result' as const, offset: off, positions: packPositions(chunk) }
        decodePsiReply(PsiAckReply, await request(transport, parties[j]!, msg, signal))
      }
    }
    let leaderIndex: Uint32Array | undefined
    if (reveal[0] === 'intersection') {
      // Our positions are in the shuffler's permutation of our set: the shuffler maps them back.
      const shuffled = positions[0]!
      const ours = new Uint32Array(shuffled.length)
      for (let off = 0; off < shuffled.length; off += PSI_POSITIONS_PER_MESSAGE) {
        const chunk = shuffled.subarray(off, off + PSI_POSITIONS_PER_MESSAGE)
        const msg = { ...head, phase: 'unshuffle' as const, offset: off, positions: packPositions(chunk) }
        const reply = decodePsiReply(
          PsiUnshuffleReply,
          await request(transport, parties[n - 1]!, msg, signal)
        )
        const mapped = unpackPositions(reply.positions)
        if (mapped.length !== chunk.length)
          throw new PsiPolicyError('the shuffler answered the wrong number of positions')
        ours.set(mapped, off)
      }
      leaderIndex = s.rowsOf(ours)
    }
    const done = { ...head, phase: 'done' as const, intersectionSize: size }
    await Promise.all(
      others.map(async (p) => decodePsiReply(PsiAckReply, await request(transport, p, done, signal)))
    )
    return await s.done(self, done, leaderIndex)
  } catch (err) {
    await s.fail(err)
    // A party's refusal or abort is the more useful error than our own follow-up failures.
    const cause = await s.result.promise.then(
      () => undefined,
      (e: unknown) => e
    )
    throw cause ?? err
  }
}
