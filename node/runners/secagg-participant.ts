/**
 * The node side of `/cohort/secagg/2.0.0`: registers a handler on a Transport that runs one
 * participant machine per (jobId, round), does the I/O the machine may not do (audit log, identity
 * signatures, the input provider) and persists nothing: all round state, secret or not, lives in
 * memory and is zeroed when the round ends, aborts or expires.
 *
 * Order of every request: (1) the sender must be a federation member with role `coordinator` (and,
 * after advertise-keys, the coordinator that started the round); (2) the frame must decode
 * (size cap, msgpack, zod schema); (3) the machine steps; (4) its audit records are appended BEFORE
 * the reply leaves, so every release of data is on the log first; (5) the reply is signed if needed
 * and returned. Any refusal is audit-logged as `secagg-refused` with its code and, when it concerns a
 * running round, aborts that round (secrets zeroed, `secagg-aborted`), so a misbehaving coordinator
 * never gets a second try within a round.
 *
 * An advertise-keys announcement is also checked against the node's own floor (`minParticipants`):
 * fewer participants or a lower threshold t than the policy of the job's dataset allows is refused
 * (COHORT_SECAGG_POLICY_MIN_PARTICIPANTS) before any key is drawn.
 */
import type { PrivateKey } from '@libp2p/interface'
import type { FederationManifest } from '../../configs/federation.ts'
import { isCohortError } from '../../crypto/cohort-error.ts'
import type { RingVector } from '../../crypto/ring.ts'
import { MalformedMessageError } from '../../protocols/errors.ts'
import { MAX_SECAGG_CONTROL_BYTES, PROTOCOLS } from '../../protocols/ids.ts'
import { isTransitionAllowed } from '../../protocols/machine.ts'
import {
  SecaggBusyError,
  SecaggNotCoordinatorError,
  SecaggRoundReplayError,
  SecaggUnknownRoundError
} from '../../protocols/secagg/errors.ts'
import { signWithIdentityKey } from '../../crypto/sign-identity.ts'
import { decodeSecaggRequest, encodeSecagg } from '../../protocols/secagg/messages.ts'
import type { SecaggRequest } from '../../protocols/secagg/messages.ts'
import { auditHashBytes } from '../../protocols/secagg/params.ts'
import { checkRoundPolicy } from '../../protocols/secagg/round-policy.ts'
import { createPairAuthSession, wipePairAuthSession } from '../../protocols/secagg/pair-auth.ts'
import type { PairAuthSession } from '../../protocols/secagg/pair-auth.ts'
import { secaggParticipantMachine, withSignature } from '../../protocols/secagg/participant.ts'
import type {
  ParticipantInput,
  ParticipantOutput,
  ParticipantState,
  ParticipantStats
} from '../../protocols/secagg/participant.ts'
import type { Transport } from '../../protocols/transport.ts'
import type { AuditLog } from '../../platform/audit/audit-log.ts'

/** What the runner needs from the node. */
export interface SecaggParticipantDeps {
  identity: { readonly peerId: string; readonly privateKey: PrivateKey }
  audit: Pick<AuditLog, 'append'>
  /** The current federation manifest (read on every request, so reloads apply at once). */
  manifest: () => FederationManifest
  /** This node's quantised input for a round: d elements of Z_2^ringBits. */
  inputProvider: (jobId: string, round: number) => Promise<RingVector>
  /**
   * Fewest parties this node lets a round of `jobId` aggregate over (its policy for the job's dataset
   * and the job's own minimum; node/jobs/dataset-policy.ts `secaggFloor`). A round announcing fewer
   * participants or a lower t is refused. @default no floor beyond the protocol's
   */
  minParticipants?: (jobId: string, round: number) => number | Promise<number>
}

/** Optional settings. */
export interface SecaggParticipantInit {
  /** A round idle this long is aborted and its secrets zeroed. @default 600000 */
  stateTtlMs?: number
  /** Rounds that may run at once. @default 8 */
  maxConcurrentRounds?: number
  /**
   * Lifetime of the runner's pair-auth key (protocols/secagg/pair-auth.ts): the key that lets
   * neighbours authenticate each other's bundles and consistency signatures by MAC instead of an
   * Ed25519 verification. A new key costs each neighbour one signature check. @default 3600000
   */
  authKeyTtlMs?: number
  /** Step timings, for benches and simulations (never logged). */
  onStats?: (phase: string, stats: ParticipantStats) => void
}

/** A registered participant. */
export interface SecaggParticipantHandle {
  /** Rounds in progress. */
  activeRounds(): number
  /** Unregisters the handler and aborts (zeroes) every round in progress. */
  close(): Promise<void>
}

interface Round {
  state: ParticipantState
  coordinator: string
  timer: ReturnType<typeof setTimeout> | undefined
  queue: Promise<unknown>
}

const roundKey = (jobId: string, round: number) => `${jobId}\u0000${round}`
const MAX_REMEMBERED_ROUNDS = 100_000

/**
 * Registers the SecAgg participant on `transport`. The node calls this in `start`.
 *
 * @example
 * const secagg = await registerSecaggParticipant(transport, {
 *   identity, audit, manifest: () => manifest, inputProvider: async (jobId, round) => quantised
 * })
 * await secagg.close()
 */
export async function registerSecaggParticipant(
  transport: Transport,
  deps: SecaggParticipantDeps,
  init: SecaggParticipantInit = {}
): Promise<SecaggParticipantHandle> {
  const ttlMs = init.stateTtlMs ?? 600_000
  const maxRounds = init.maxConcurrentRounds ?? 8
  const self = deps.identity.peerId
  const rounds = new Map<string, Round>()
  const seen = new Set<string>()
  const authTtlMs = init.authKeyTtlMs ?? 3_600_000
  let auth = { session: createPairAuthSession(self), born: Date.now() }

  // A rotated session is dropped, not wiped: rounds already running still hold it.
  function authSession(): PairAuthSession {
    if (Date.now() - auth.born >= authTtlMs) auth = { session: createPairAuthSession(self), born: Date.now() }
    return auth.session
  }

  // Errors already written as `secagg-refused`, so the outer handler does not log them twice.
  const logged = new WeakSet<object>()

  async function refuse(
    err: unknown,
    from: string,
    req?: { jobId: string; round: number; phase: string },
    frame?: Uint8Array
  ) {
    const code = isCohortError(err) ? err.code : 'COHORT_INTERNAL'
    if (err !== null && typeof err === 'object') logged.add(err)
    await deps.audit.append(
      'secagg-refused',
      {
        jobId: req?.jobId ?? null,
        round: req?.round ?? null,
        phase: req?.phase ?? null,
        from,
        code,
        rule: (err as { rule?: string }).rule ?? null,
        reason: (err as Error).message?.slice(0, 300) ?? String(err),
        frameBytes: frame?.length ?? null,
        frameHash: frame === undefined ? null : auditHashBytes(frame)
      },
      { actor: from, round: req?.round ?? null }
    )
  }

  async function append(out: ParticipantOutput, actor: string, round: number) {
    for (const rec of out.audit) await deps.audit.append(rec.kind, rec.body, { actor, round })
  }

  async function abortRound(key: string, r: Round, reason: string, actor: string) {
    clearTimeout(r.timer)
    rounds.delete(key)
    if (!isTransitionAllowed(secaggParticipantMachine.transitions, r.state.phase, 'aborted')) return
    const ctx = r.state.ctx
    const out = secaggParticipantMachine.step(r.state, {
      phase: 'aborted',
      request: { v: 1, jobId: ctx?.jobId ?? '-', round: ctx?.round ?? 0, phase: 'aborted', reason }
    })
    r.state = out.state
    await append(out.output, actor, ctx?.round ?? 0)
  }

  function arm(key: string, r: Round) {
    clearTimeout(r.timer)
    r.timer = setTimeout(() => {
      const current = rounds.get(key)
      if (current === r) {
        r.queue = r.queue.then(() => abortRound(key, r, 'the round expired', self)).catch(() => undefined)
      }
    }, ttlMs)
    r.timer.unref?.()
  }

  function isCoordinator(peer: string): boolean {
    return deps.manifest().members.some((m) => m.peerId === peer && m.roles.includes('coordinator'))
  }

  function nodeMembers(): Set<string> {
    return new Set(
      deps
        .manifest()
        .members.filter((m) => m.roles.includes('node'))
        .map((m) => m.peerId)
    )
  }

  async function handleRound(req: SecaggRequest, from: string): Promise<Uint8Array> {
    const key = roundKey(req.jobId, req.round)
    // The floor is looked up first: nothing may await between the replay check and the round's start.
    const floor =
      req.phase === 'advertise-keys' && deps.minParticipants !== undefined
        ? await deps.minParticipants(req.jobId, req.round)
        : undefined
    let r = rounds.get(key)
    if (req.phase === 'advertise-keys') {
      if (seen.has(key) || r !== undefined) {
        throw new SecaggRoundReplayError(`job ${req.jobId} round ${req.round} was already started here`)
      }
      if (rounds.size >= maxRounds) throw new SecaggBusyError(`already running ${rounds.size} secagg rounds`)
      if (floor !== undefined) checkRoundPolicy(req, floor)
      if (seen.size >= MAX_REMEMBERED_ROUNDS) seen.delete(seen.values().next().value!)
      seen.add(key)
      const state = secaggParticipantMachine.init({ self, members: nodeMembers(), auth: authSession() })
      r = { state, coordinator: from, timer: undefined, queue: Promise.resolve() }
      rounds.set(key, r)
    } else if (r === undefined) {
      if (req.phase === 'aborted')
        return encodeSecagg({ v: 1, jobId: req.jobId, round: req.round, phase: 'aborted' })
      throw new SecaggUnknownRoundError(`no secagg round ${req.round} of job ${req.jobId} is running here`)
    } else if (r.coordinator !== from) {
      throw new SecaggNotCoordinatorError(
        `${from} is not the coordinator of job ${req.jobId} round ${req.round}`
      )
    }
    const round = r
    const run = round.queue.then(() => stepRound(key, round, req, from))
    round.queue = run.catch(() => undefined)
    return run
  }

  async function stepRound(key: string, r: Round, req: SecaggRequest, from: string): Promise<Uint8Array> {
    if (rounds.get(key) !== r)
      throw new SecaggUnknownRoundError(`job ${req.jobId} round ${req.round} has ended here`)
    arm(key, r)
    let output: ParticipantOutput
    try {
      let input: ParticipantInput
      if (req.phase === 'masked-input') {
        // Ask for the input only when the machine would accept this phase now.
        const ready = isTransitionAllowed(secaggParticipantMachine.transitions, r.state.phase, 'masked-input')
        const vector = ready ? await deps.inputProvider(req.jobId, req.round) : new Uint32Array(0)
        input = { phase: 'masked-input', request: req, input: vector }
      } else {
        input = { phase: req.phase, request: req } as ParticipantInput
      }
      const result = secaggParticipantMachine.step(r.state, input)
      r.state = result.state
      output = result.output
    } catch (err) {
      await refuse(err, from, req)
      await abortRound(key, r, isCohortError(err) ? err.code : 'COHORT_INTERNAL', from)
      throw err
    }
    await append(output, from, req.round)
    init.onStats?.(req.phase, output.stats)
    let reply = output.reply
    if (output.toSign !== undefined)
      reply = withSignature(reply, await signWithIdentityKey(deps.identity.privateKey, output.toSign))
    if (r.state.phase === 'done' || r.state.phase === 'aborted') {
      clearTimeout(r.timer)
      rounds.delete(key)
    }
    return encodeSecagg(reply)
  }

  await transport.handle(
    PROTOCOLS.secagg,
    async (body, from) => {
      if (!isCoordinator(from)) {
        const err = new SecaggNotCoordinatorError(`${from} is not a coordinator of this federation`)
        await refuse(err, from)
        throw err
      }
      let req: SecaggRequest
      try {
        req = decodeSecaggRequest(body)
      } catch (err) {
        await refuse(err, from, undefined, body)
        throw isCohortError(err) ? err : new MalformedMessageError('the secagg request does not decode')
      }
      try {
        return await handleRound(req, from)
      } catch (err) {
        if (!(err !== null && typeof err === 'object' && logged.has(err))) await refuse(err, from, req)
        throw err
      }
    },
    { maxRequestBytes: MAX_SECAGG_CONTROL_BYTES }
  )

  return {
    activeRounds: () => rounds.size,
    async close() {
      await transport.unhandle(PROTOCOLS.secagg)
      for (const [key, r] of [...rounds]) await abortRound(key, r, 'the node is stopping', self)
      wipePairAuthSession(auth.session)
    }
  }
}
