/**
 * The node side of `/cohort/vertical-job/1.0.0` (protocols/vertical/job-wire.ts): a coordinator offers
 * a vertical job, the label node leads the PSI among the parties, every node builds its aligned slice
 * and runs its protocol party peer-to-peer, and the coordinator polls each node's status. The node
 * also registers its PSI party (`/cohort/psi/1.0.0`), which takes part only in sessions of vertical
 * jobs it accepted, led by that job's label node, with reveal `intersection`.
 *
 * Order of every coordinator request: (1) the sender must be a federation member with role
 * `coordinator`; (2) the frame must decode; (3) an offer is checked against the node's policy *as it
 * is now* (node/vertical/job-check.ts): a refusal is a `declined` reply, audit-logged as
 * `vertical-declined`; later requests must repeat the accepted summary. DP releases are charged to
 * the ledger before they leave (node/vertical/charge.ts). What the node released is audit-logged when
 * its party ends (`vertical-released`), and its model slice is stored (node/vertical/model-store.ts).
 */
import type { FederationManifest } from '../../configs/federation.ts'
import type { NodePolicy } from '../../configs/node-config.ts'
import { isCohortError } from '../../crypto/cohort-error.ts'
import type { PsiPool } from '../../crypto/psi/psi-pool.ts'
import type { AuditLog } from '../../platform/audit/audit-log.ts'
import { findMember } from '../../platform/federation/manifest.ts'
import type { NodeStore } from '../../platform/storage/db.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import type { Transport } from '../../protocols/transport.ts'
import {
  decodeVerticalRequest,
  encodeVertical,
  MAX_VERTICAL_JOB_BYTES,
  VERTICAL_WIRE_VERSION
} from '../../protocols/vertical/job-wire.ts'
import type { VerticalJobSummary, VerticalReply, VerticalRequest } from '../../protocols/vertical/job-wire.ts'
import { getManifest } from '../data/dataset-store.ts'
import { readBudget, trainingScope } from '../jobs/budget-state.ts'
import { effectivePolicy } from '../jobs/dataset-policy.ts'
import type { Ledger } from '../ledger/ledger.ts'
import { readDatasetIds } from '../psi/dataset-ids.ts'
import { VerticalPeerError } from '../vertical/errors.ts'
import { checkVerticalJob } from '../vertical/job-check.ts'
import { createVerticalJobs } from '../vertical/vertical-jobs.ts'
import type { VerticalScoreResult } from '../vertical/vertical-score.ts'
import { registerPsiParty } from './psi-party.ts'
import type { PsiPartyHandle } from './psi-party.ts'

/**
 * What the vertical participant needs from the node.
 * @example
 * await registerVerticalParticipant(transport, { identity, store, audit, ledger, policy: () => p, manifest: () => m })
 */
export interface VerticalParticipantDeps {
  identity: { readonly peerId: string }
  store: NodeStore
  audit: Pick<AuditLog, 'append'>
  ledger: Ledger
  /** The current policy (read on every request). */
  policy: () => NodePolicy
  manifest: () => FederationManifest
  log?: (line: string) => void
  /** A shared PSI worker pool (closed by the caller). @default the PSI party's own */
  psiPool?: PsiPool
  /** Per-request timeout inside a vertical session. @default 60000 */
  timeoutMs?: number
}

/**
 * A registered participant.
 * @example
 * const { ids, values } = await handle.score(jobId)
 */
export interface VerticalParticipantHandle {
  /** Vertical jobs with in-memory state. */
  activeJobs(): number
  /**
   * Label node: scores the job's aligned customers with its stored vertical model, the feature nodes
   * serving their partial scores. Only this node learns the scores.
   */
  score(jobId: string, options?: { signal?: AbortSignal }): Promise<VerticalScoreResult>
  readonly psi: PsiPartyHandle
  close(): Promise<void>
}

/**
 * Registers the vertical participant (and the node's PSI party) on `transport`.
 * @example
 * const handle = await registerVerticalParticipant(transport, deps)
 */
export async function registerVerticalParticipant(
  transport: Transport,
  deps: VerticalParticipantDeps
): Promise<VerticalParticipantHandle> {
  const log = deps.log ?? (() => {})
  const self = deps.identity.peerId
  // The PSI party is created first; its session hook reads the job table created right after.
  let jobs: ReturnType<typeof createVerticalJobs> | undefined
  const psi = await registerPsiParty(
    transport,
    {
      identity: deps.identity,
      audit: deps.audit,
      manifest: deps.manifest,
      store: deps.store,
      sessionInput: async (r) => jobs?.psiInput(r)
    },
    deps.psiPool === undefined ? {} : { pool: deps.psiPool }
  )
  const table = createVerticalJobs({ ...deps, transport, psi, log })
  jobs = table

  async function refuse(from: string, kind: string, err: unknown): Promise<never> {
    const code = isCohortError(err) ? err.code : 'COHORT_INTERNAL'
    await deps.audit.append(
      'vertical-refused',
      { from, request: kind, code, reason: String((err as Error)?.message ?? err).slice(0, 300) },
      { actor: from }
    )
    throw err
  }

  async function offer(
    req: Extract<VerticalRequest, { kind: 'offer' }>,
    from: string
  ): Promise<VerticalReply> {
    const s = req.job
    const base = { v: VERTICAL_WIRE_VERSION, jobId: req.jobId } as const
    const me = s.parties.find((p) => p.peerId === self)
    const policy = effectivePolicy(deps.policy(), s.dataset)
    const m = await getManifest(deps.store, s.dataset)
    const fed = deps.manifest()
    const org = findMember(fed, from)?.org
    const check =
      me === undefined || me.role !== s.role || s.parties.filter((p) => p.role === 'label').length !== 1
        ? ({
            ok: false,
            code: 'COHORT_JOB_MISMATCH',
            reason: 'the job lists this node with another role, or not exactly one label party'
          } as const)
        : checkVerticalJob({
            summary: s,
            policy,
            federation: fed.federation,
            coordinator: org === undefined ? { peerId: from } : { peerId: from, org },
            schema: m?.schema,
            budget:
              s.dp === null || m === undefined
                ? null
                : await readBudget(deps.store, trainingScope(s.dataset), {
                    epsilon: policy.epsilonCap,
                    delta: policy.delta
                  })
          })
    if (!check.ok) {
      await deps.audit.append(
        'vertical-declined',
        { jobId: req.jobId, code: check.code, reason: check.reason },
        { actor: from, round: 0 }
      )
      log(`declined vertical job ${req.jobId}: ${check.reason} [${check.code}]`)
      return { ...base, kind: 'declined', code: check.code, reason: check.reason }
    }
    table.accept(req.jobId, s, from, check.features, check.idColumn)
    await deps.audit.append(
      'vertical-accepted',
      {
        jobId: req.jobId,
        job: { ...s, parties: s.parties.map((p) => `${p.org}:${p.role}`) },
        features: check.features.length,
        epsilon: check.epsilon
      },
      { actor: from, round: 0 }
    )
    return { ...base, kind: 'accepted', features: check.features.length, epsilon: check.epsilon }
  }

  async function dispatch(req: VerticalRequest, from: string): Promise<VerticalReply> {
    const base = { v: VERTICAL_WIRE_VERSION, jobId: req.jobId } as const
    if (req.kind === 'serve') {
      await table.serve(req.jobId, req.sessionId, from)
      return { ...base, kind: 'started' }
    }
    if (req.kind === 'serve-stop') {
      await table.stopServing(req.sessionId, from)
      return { ...base, kind: 'cancelled' }
    }
    const member = findMember(deps.manifest(), from)
    if (member === undefined || !member.roles.includes('coordinator'))
      throw new VerticalPeerError(`${from} is not a coordinator of this federation`)
    switch (req.kind) {
      case 'offer':
        return offer(req, from)
      case 'psi':
        await table.startPsi(req.jobId, req.job, from, await readIds(req.job))
        return { ...base, kind: 'started' }
      case 'train':
        await table.startTraining(req.jobId, req.job, from)
        return { ...base, kind: 'started' }
      case 'status':
        return { ...base, kind: 'status', ...table.status(req.jobId, from) }
      case 'cancel':
        await table.cancel(req.jobId, from, req.reason)
        return { ...base, kind: 'cancelled' }
    }
  }

  async function readIds(s: VerticalJobSummary): Promise<string[]> {
    return readDatasetIds(deps.store, s.dataset, s.idColumn)
  }

  await transport.handle(
    PROTOCOLS.verticalJob,
    async (body, from) => {
      let req: VerticalRequest
      try {
        req = decodeVerticalRequest(body)
      } catch (err) {
        return refuse(from, 'decode', err)
      }
      try {
        return encodeVertical(await dispatch(req, from))
      } catch (err) {
        return refuse(from, req.kind, err)
      }
    },
    { maxRequestBytes: MAX_VERTICAL_JOB_BYTES }
  )

  return {
    activeJobs: () => table.size(),
    score: (jobId, options = {}) => table.score(jobId, options),
    psi,
    async close() {
      await transport.unhandle(PROTOCOLS.verticalJob)
      await table.close()
      await psi.close()
    }
  }
}
