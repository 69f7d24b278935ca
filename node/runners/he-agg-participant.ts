/**
 * The node side of `/cohort/he-agg/1.0.0`: encrypts this node's clipped, quantised (and already
 * noised) update under the federation HE key and answers the coordinator's digest challenges.
 *
 * Order of every request: (1) the sender must be a federation member with role `coordinator`
 * (COHORT_HE_AGG_ROLE); (2) the frame must decode (size cap, msgpack, zod); (3) `submit` needs an HE
 * job we take part in (`jobConfig`: it pins the key fingerprint and our minimum number of parties)
 * and a round we have not submitted before (COHORT_HE_AGG_REPLAY); `challenge` a round we submitted
 * to that coordinator; (4) the machine steps; its audit records — including the non-collusion
 * statement naming the coordinator and the key-holder — are appended BEFORE the reply leaves; (5)
 * the reply is signed with our identity key. Refusals are audit-logged as `he-agg-refused`.
 */
import type { PrivateKey } from '@libp2p/interface'
import type { FederationManifest, MemberRole } from '../../configs/federation.ts'
import { isCohortError } from '../../crypto/cohort-error.ts'
import { getHeContext } from '../../crypto/he/index.ts'
import type { HeContext, HePublicKey } from '../../crypto/he/index.ts'
import { MalformedMessageError } from '../../protocols/errors.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import { HeAggParamsError, HeAggReplayError, HeAggRoleError } from '../../protocols/he-agg/errors.ts'
import {
  decodeHeAgg,
  encodeHeAgg,
  HeAggRequestSchema,
  MAX_HE_AGG_CONTROL_BYTES
} from '../../protocols/he-agg/messages.ts'
import type { HeAggRequest } from '../../protocols/he-agg/messages.ts'
import { heAggParticipantMachine } from '../../protocols/he-agg/participant.ts'
import type { HeAggParticipantInput, HeAggParticipantState } from '../../protocols/he-agg/participant.ts'
import type { Transport } from '../../protocols/transport.ts'
import type { AuditLog } from '../../platform/audit/audit-log.ts'

/**
 * An HE job's settings at this node (from its job configuration, never from the coordinator).
 * @example
 * jobConfig: async () => ({ pinnedFingerprint, minParticipants: 3 }) satisfies HeAggJobConfig
 */
export interface HeAggJobConfig {
  /** Fingerprint of the key-holder's public key the job pins (publicKeyFingerprint, hex). */
  pinnedFingerprint: string
  /** Smallest number of contributions we accept a sum over. @default 2 */
  minParticipants?: number
}

/**
 * What the runner needs from the node.
 * @example
 * registerHeAggParticipant(transport, { identity, audit, manifest: () => m, jobConfig, inputProvider } satisfies HeAggParticipantDeps)
 */
export interface HeAggParticipantDeps {
  identity: { readonly peerId: string; readonly privateKey: PrivateKey }
  audit: Pick<AuditLog, 'append'>
  manifest: () => FederationManifest
  /** Our settings for an HE job, or undefined when we take no part in it. */
  jobConfig: (jobId: string) => Promise<HeAggJobConfig | undefined>
  /** Our clipped, quantised, noised update for a round: signed integers. */
  inputProvider: (jobId: string, round: number) => Promise<ArrayLike<number>>
  /** @default getHeContext('bfv-8192') */
  context?: HeContext
}

/**
 * Optional settings.
 * @example
 * registerHeAggParticipant(transport, deps, { stateTtlMs: 60_000 } satisfies HeAggParticipantInit)
 */
export interface HeAggParticipantInit {
  /** A round idle this long is closed and its ciphertext freed. @default 600000 */
  stateTtlMs?: number
  /** Rounds that may be open at once (at capacity, the oldest already-challenged one is closed). @default 8 */
  maxConcurrentRounds?: number
}

/**
 * A registered participant.
 * @example
 * const he: HeAggParticipantHandle = await registerHeAggParticipant(transport, deps); await he.close()
 */
export interface HeAggParticipantHandle {
  activeRounds(): number
  /** Unregisters the handler and frees every open round and cached key. */
  close(): Promise<void>
}

interface Round {
  state: HeAggParticipantState
  timer: ReturnType<typeof setTimeout>
  queue: Promise<unknown>
}

const MAX_REMEMBERED_ROUNDS = 100_000

/**
 * Builds a roles lookup over the current manifest.
 *
 * @example
 * const rolesOf = rolesFrom(() => manifest)
 * rolesOf(peer).includes('coordinator')
 */
export function rolesFrom(manifest: () => FederationManifest): (peer: string) => readonly MemberRole[] {
  return (peer) => manifest().members.find((m) => m.peerId === peer)?.roles ?? []
}

/**
 * Registers the he-agg participant on `transport`. The node calls this in `start`.
 *
 * @example
 * const he = await registerHeAggParticipant(transport, {
 *   identity, audit, manifest: () => manifest,
 *   jobConfig: async (jobId) => ({ pinnedFingerprint: job.he.keyFingerprint, minParticipants: 3 }),
 *   inputProvider: async (jobId, round) => quantisedUpdate
 * })
 */
export async function registerHeAggParticipant(
  transport: Transport,
  deps: HeAggParticipantDeps,
  init: HeAggParticipantInit = {}
): Promise<HeAggParticipantHandle> {
  // Loaded on the first HE job, not at node start: most nodes never run one.
  let contextP: Promise<HeContext> | undefined
  const heContext = () =>
    (contextP ??= deps.context ? Promise.resolve(deps.context) : getHeContext('bfv-8192'))
  const rolesOf = rolesFrom(deps.manifest)
  const ttlMs = init.stateTtlMs ?? 600_000
  const maxRounds = init.maxConcurrentRounds ?? 8
  const rounds = new Map<string, Round>()
  const seen = new Set<string>()
  const keyCache = new Map<string, HePublicKey>()

  const close = (key: string) => {
    const r = rounds.get(key)
    if (r === undefined) return
    clearTimeout(r.timer)
    rounds.delete(key)
    // Frees the ciphertext; a round that never got past init is closed as aborted.
    const phase = r.state.phase === 'init' ? 'aborted' : 'done'
    if (r.state.phase !== 'done' && r.state.phase !== 'aborted')
      heAggParticipantMachine.step(r.state, { phase, from: deps.identity.peerId })
  }

  // A job's sums each open a round and nothing tells a node that the coordinator is done with one
  // (it may re-challenge after a dropout). At capacity, the oldest round that already answered a
  // challenge gives way: its sum has been verified once, and a late re-challenge is merely refused
  // (the coordinator then drops us from that sum). Rounds still awaiting their first challenge stay.
  const evictAnswered = (): boolean => {
    for (const [key, r] of rounds) {
      if (r.state.challenges > 0) {
        close(key)
        return true
      }
    }
    return false
  }

  async function run(
    r: Round,
    input: HeAggParticipantInput,
    from: string,
    round: number
  ): Promise<Uint8Array> {
    const out = heAggParticipantMachine.step(r.state, input).output
    for (const rec of out.audit) await deps.audit.append(rec.kind, rec.body, { actor: from, round })
    const sig = await deps.identity.privateKey.sign(out.toSign!)
    return encodeHeAgg({ ...out.reply!, sig })
  }

  async function handle(req: HeAggRequest, from: string): Promise<Uint8Array> {
    if (req.phase === 'submit') {
      const key = `${req.jobId}\u0000${req.round}`
      // Awaits first, so nothing interleaves between the replay check and recording the round.
      const config = await deps.jobConfig(req.jobId)
      if (config === undefined) throw new HeAggParamsError(`no HE job ${req.jobId} is configured here`)
      const context = await heContext()
      if (seen.has(key))
        throw new HeAggReplayError(`job ${req.jobId} round ${req.round} was already submitted here`)
      if (rounds.size >= maxRounds && !evictAnswered())
        throw new HeAggParamsError(`already ${rounds.size} HE rounds open, none of them challenged yet`)
      if (seen.size >= MAX_REMEMBERED_ROUNDS) seen.delete(seen.values().next().value!)
      seen.add(key)
      const state = heAggParticipantMachine.init({
        self: deps.identity.peerId,
        context,
        rolesOf,
        pinnedFingerprint: config.pinnedFingerprint,
        minParticipants: config.minParticipants ?? 2,
        keyCache
      })
      const timer = setTimeout(() => close(key), ttlMs)
      timer.unref?.()
      const r: Round = { state, timer, queue: Promise.resolve() }
      rounds.set(key, r)
      try {
        const values = await deps.inputProvider(req.jobId, req.round)
        return await run(r, { phase: 'submit', from, request: req, values }, from, req.round)
      } catch (err) {
        close(key)
        throw err
      }
    }
    if (req.phase === 'challenge') {
      const key = `${req.jobId}\u0000${req.round}`
      const r = rounds.get(key)
      if (r === undefined)
        throw new HeAggParamsError(`no open HE round ${req.round} of job ${req.jobId} here`)
      const next = r.queue.then(() => run(r, { phase: 'challenge', from, request: req }, from, req.round))
      r.queue = next.catch(() => undefined)
      return next
    }
    throw new HeAggRoleError(`a node does not serve he-agg ${req.phase} requests (it is not a key-holder)`)
  }

  await transport.handle(
    PROTOCOLS.heAgg,
    async (body, from) => {
      let req: HeAggRequest | undefined
      try {
        if (!rolesOf(from).includes('coordinator'))
          throw new HeAggRoleError(`${from} is not a coordinator of this federation`)
        try {
          req = decodeHeAgg(HeAggRequestSchema, body, MAX_HE_AGG_CONTROL_BYTES)
        } catch (err) {
          throw isCohortError(err) ? err : new MalformedMessageError('the he-agg request does not decode')
        }
        return await handle(req, from)
      } catch (err) {
        await deps.audit.append(
          'he-agg-refused',
          {
            jobId: req !== undefined && 'jobId' in req ? req.jobId : null,
            round: req !== undefined && 'round' in req ? req.round : null,
            phase: req?.phase ?? null,
            from,
            code: isCohortError(err) ? err.code : 'COHORT_INTERNAL',
            reason: String((err as Error)?.message ?? err).slice(0, 300)
          },
          { actor: from }
        )
        throw err
      }
    },
    { maxRequestBytes: MAX_HE_AGG_CONTROL_BYTES }
  )

  return {
    activeRounds: () => rounds.size,
    async close() {
      await transport.unhandle(PROTOCOLS.heAgg)
      for (const key of [...rounds.keys()]) close(key)
      for (const pk of keyCache.values()) pk.dispose()
      keyCache.clear()
    }
  }
}
