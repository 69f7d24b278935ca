/**
 * The node side of `/cohort/psi/1.0.0`: registers one handler that runs a {@link PsiSession} per
 * session (as a hop, the shuffler, or the leader) and lets the node lead sessions itself
 * (`handle.lead`, see ./psi-lead.ts). Every party of a session runs this.
 *
 * Order of every request: (1) the sender must be a federation member with role `node`
 * (COHORT_PSI_NOT_MEMBER); (2) the frame must decode (size cap, msgpack, zod); (3) `open` needs a
 * session the node expects for that job (`sessionInput`), anything else a running session;
 * (4) the session's machine checks the message against the plan and our policy; its audit records
 * are appended before the reply leaves. A refusal is audit-logged as `psi-refused`; a refusal inside a
 * running session aborts it at every party (keys zeroed, `psi-aborted`).
 */
import type { FederationManifest } from '../../configs/federation.ts'
import { isCohortError } from '../../crypto/cohort-error.ts'
import { createPsiPool } from '../../crypto/psi/psi-pool.ts'
import type { PsiPool } from '../../crypto/psi/psi-pool.ts'
import { MalformedMessageError } from '../../protocols/errors.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import { PsiNotMemberError, PsiPolicyError, PsiUnknownSessionError } from '../../protocols/psi/errors.ts'
import { DEFAULT_MAX_PSI_SET_SIZE, MAX_PSI_FRAME_BYTES } from '../../protocols/psi/limits.ts'
import { decodePsiRequest, encodePsi, PSI_WIRE_VERSION } from '../../protocols/psi/messages.ts'
import type { PsiRequest } from '../../protocols/psi/messages.ts'
import type { PsiReveal } from '../../protocols/psi/plan.ts'
import type { Transport } from '../../protocols/transport.ts'
import type { AuditLog } from '../../platform/audit/audit-log.ts'
import type { NodeStore } from '../../platform/storage/db.ts'
import { leadPsiSession } from './psi-lead.ts'
import type { PsiLeadOptions } from './psi-lead.ts'
import { PsiSession } from './psi-session.ts'
import type { PsiPartyResult, SessionContext, SessionInput } from './psi-session.ts'

/**
 * A party's input for one job, as its job configuration gives it.
 * @example
 * sessionInput: async () => ({ salt, ids, othersMayLearn: 'size' }) satisfies PsiJobInput
 */
export interface PsiJobInput {
  /** The job's 32-byte PSI salt (agreed by all parties out of band, e.g. in the job manifest). */
  salt: Uint8Array
  /** The id column, in dataset row order. */
  ids: readonly string[]
  /** Most any other party may learn from a session over our data. @default 'intersection' */
  othersMayLearn?: PsiReveal
  /** Largest set of any party we accept. @default 10,000,000 */
  maxSetSize?: number
  /** Dataset name, recorded with the result. */
  dataset?: string
}

/**
 * What the runner needs from the node.
 * @example
 * registerPsiParty(transport, { identity, audit, store, manifest: () => m, sessionInput } satisfies PsiPartyDeps)
 */
export interface PsiPartyDeps {
  identity: { readonly peerId: string }
  audit: Pick<AuditLog, 'append'>
  /** The current federation manifest (read on every request). */
  manifest: () => FederationManifest
  /** Our input for a job, or undefined to refuse a session of a job we do not expect. */
  sessionInput: (request: {
    jobId: string
    sessionId: string
    leader: string
  }) => Promise<PsiJobInput | undefined>
  /** Where results are stored (protocolState sublevel); without it results are only returned. */
  store?: NodeStore
}

/**
 * Optional settings.
 * @example
 * registerPsiParty(transport, deps, { poolSize: 2, sessionTtlMs: 60_000 } satisfies PsiPartyInit)
 */
export interface PsiPartyInit {
  /** A shared worker pool (closed by the caller); by default the runner makes one and closes it. */
  pool?: PsiPool
  /** Size of the runner's own pool. @default os.availableParallelism() */
  poolSize?: number
  /** A session idle this long is aborted and its key zeroed. @default 600000 */
  sessionTtlMs?: number
  /** Deadline of one batch request (blinding a batch downstream included). @default 300000 */
  requestTimeoutMs?: number
  /** Sessions that may run at once. @default 4 */
  maxSessions?: number
}

/**
 * A registered PSI party.
 * @example
 * const psi: PsiPartyHandle = await registerPsiParty(transport, deps); await psi.close()
 */
export interface PsiPartyHandle {
  /** Leads a session (this node is parties[0]); resolves with this node's result. */
  lead(options: PsiLeadOptions): Promise<PsiPartyResult>
  /** Resolves with this node's result of a session it takes part in (once `open` arrived). */
  result(sessionId: string): Promise<PsiPartyResult>
  activeSessions(): number
  /** Unregisters the handler, aborts running sessions, closes the runner's own pool. */
  close(): Promise<void>
}

const ACK = encodePsi({ v: PSI_WIRE_VERSION })

/**
 * Registers the PSI party on `transport`. The node calls this in `start`.
 *
 * @example
 * const psi = await registerPsiParty(transport, {
 *   identity, audit, store, manifest: () => manifest,
 *   sessionInput: async ({ jobId }) => ({ salt, ids: await readDatasetIds(store, 'credit_data') })
 * })
 * const mine = await psi.lead({ jobId, parties: [me, bank, telco], reveal: ['intersection', 'intersection', 'size'] })
 */
export async function registerPsiParty(
  transport: Transport,
  deps: PsiPartyDeps,
  init: PsiPartyInit = {}
): Promise<PsiPartyHandle> {
  const ownPool = init.pool === undefined
  const pool = init.pool ?? createPsiPool(init.poolSize === undefined ? {} : { size: init.poolSize })
  const maxSessions = init.maxSessions ?? 4
  const sessions = new Map<string, PsiSession>()
  const waiters = new Map<string, Array<(s: PsiSession) => void>>()
  const finished = new Map<string, Promise<PsiPartyResult>>()
  const self = deps.identity.peerId

  const ctx: SessionContext = {
    transport,
    pool,
    audit: deps.audit,
    ...(deps.store === undefined ? {} : { store: deps.store }),
    requestTimeoutMs: init.requestTimeoutMs ?? 300_000,
    ttlMs: init.sessionTtlMs ?? 600_000,
    onEnd: (id) => {
      sessions.delete(id)
      if (finished.size > 1000) finished.delete(finished.keys().next().value!)
    }
  }

  const nodeMembers = (): Set<string> =>
    new Set(
      deps
        .manifest()
        .members.filter((m) => m.roles.includes('node'))
        .map((m) => m.peerId)
    )

  async function refuse(
    err: unknown,
    from: string,
    req?: { sessionId?: string; phase?: string }
  ): Promise<void> {
    await deps.audit.append(
      'psi-refused',
      {
        sessionId: req?.sessionId ?? null,
        phase: req?.phase ?? null,
        from,
        code: isCohortError(err) ? err.code : 'COHORT_INTERNAL',
        reason: String((err as Error)?.message ?? err).slice(0, 300)
      },
      { actor: from }
    )
  }

  async function newSession(jobId: string, sessionId: string, leader: string): Promise<PsiSession> {
    if (sessions.has(sessionId) || finished.has(sessionId)) {
      throw new PsiPolicyError(`PSI session ${sessionId} was already opened here`)
    }
    if (sessions.size >= maxSessions)
      throw new PsiPolicyError(`already running ${sessions.size} PSI sessions`)
    const input = await deps.sessionInput({ jobId, sessionId, leader })
    if (input === undefined) throw new PsiUnknownSessionError(`no PSI for job ${jobId} is expected here`)
    const sessionInput: SessionInput = {
      local: {
        self,
        members: nodeMembers(),
        salt: input.salt,
        othersMayLearn: input.othersMayLearn ?? 'intersection',
        maxSetSize: input.maxSetSize ?? DEFAULT_MAX_PSI_SET_SIZE
      },
      ids: input.ids,
      dataset: input.dataset ?? null
    }
    const s = new PsiSession(ctx, sessionInput)
    sessions.set(sessionId, s)
    finished.set(sessionId, s.result.promise)
    for (const w of waiters.get(sessionId) ?? []) w(s)
    waiters.delete(sessionId)
    return s
  }

  async function dispatch(req: PsiRequest, from: string): Promise<Uint8Array> {
    if (req.phase === 'open') {
      const s = await newSession(req.jobId, req.sessionId, from)
      try {
        const setSize = await s.open(from, req)
        return encodePsi({ v: PSI_WIRE_VERSION, setSize })
      } catch (err) {
        await refuse(err, from, req)
        sessions.delete(req.sessionId)
        await s.fail(err)
        throw err
      }
    }
    const s = sessions.get(req.sessionId)
    if (s === undefined) {
      if (req.phase === 'abort') return ACK
      throw new PsiUnknownSessionError(`no PSI session ${req.sessionId} is running here`)
    }
    try {
      switch (req.phase) {
        case 'start': {
          const to = await s.start(from, req)
          void s.produce(to)
          return ACK
        }
        case 'batch':
          return await s.batch(from, req)
        case 'result':
          return await s.resultChunk(from, req)
        case 'unshuffle':
          return await s.unshuffle(from, req)
        case 'done':
          await s.done(from, req)
          return ACK
        case 'abort':
          await s.aborted(from, req)
          return ACK
      }
    } catch (err) {
      // Audit the refusal before the abort goes out, so it is on the log when the others hear of it.
      if (req.phase !== 'abort') await refuse(err, from, req)
      await s.fail(err)
      throw err
    }
  }

  await transport.handle(
    PROTOCOLS.psi,
    async (body, from) => {
      let req: PsiRequest | undefined
      try {
        if (!nodeMembers().has(from))
          throw new PsiNotMemberError(`${from} is not a federation member with role node`)
        try {
          req = decodePsiRequest(body)
        } catch (err) {
          throw isCohortError(err) ? err : new MalformedMessageError('the PSI request does not decode')
        }
        return await dispatch(req, from)
      } catch (err) {
        if (req?.phase !== 'abort') await refuse(err, from, req)
        throw err
      }
    },
    { maxRequestBytes: MAX_PSI_FRAME_BYTES }
  )

  return {
    lead: (options) => leadPsiSession({ transport, self, newSession }, options),
    async result(sessionId) {
      const known = finished.get(sessionId)
      if (known !== undefined) return known
      const s = await new Promise<PsiSession>((resolve) => {
        const list = waiters.get(sessionId) ?? []
        list.push(resolve)
        waiters.set(sessionId, list)
      })
      return s.result.promise
    },
    activeSessions: () => sessions.size,
    async close() {
      await transport.unhandle(PROTOCOLS.psi)
      for (const s of [...sessions.values()]) await s.fail(new PsiPolicyError('the node is stopping'))
      if (ownPool) await pool.close()
    }
  }
}
