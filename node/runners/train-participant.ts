/**
 * The node side of `/cohort/train/1.0.0` (protocols/training/wire.ts): registers a handler on a
 * Transport that answers a coordinator's offers, statistics, fit, evaluation, publish and cancel
 * requests. It works hand in hand with the SecAgg participant: a stats / fit / eval request leaves
 * the node's quantised summand in the shared input stash (node/jobs/input-stash.ts), and the SecAgg
 * round the coordinator starts next takes it as the node's masked input.
 *
 * Order of every request: (1) the sender must be a federation member with role `coordinator`;
 * (2) the frame must decode (size cap, msgpack, zod schema); (3) the job is checked against the
 * node's policy *as it is now* (node/jobs/job-check.ts): a refusal is a `declined` reply, audit-logged
 * as `train-declined`; (4) anything released is first reserved and committed on the privacy ledger
 * and written to the audit log (node/jobs/release.ts). Requests of one job run one at a time.
 */
import type { FederationManifest } from '../../configs/federation.ts'
import type { NodePolicy } from '../../configs/node-config.ts'
import { isCohortError } from '../../crypto/cohort-error.ts'
import type { RandomSource } from '../../crypto/dp/random.ts'
import type { AuditLog } from '../../platform/audit/audit-log.ts'
import { findMember } from '../../platform/federation/manifest.ts'
import type { NodeStore } from '../../platform/storage/db.ts'
import { MAX_VECTOR_BYTES, PROTOCOLS } from '../../protocols/ids.ts'
import type { Transport } from '../../protocols/transport.ts'
import { decodeTrainRequest, encodeTrain, TRAIN_WIRE_VERSION } from '../../protocols/training/wire.ts'
import type { PublishRequest, TrainReply, TrainRequest } from '../../protocols/training/wire.ts'
import { NotCoordinatorError } from '../jobs/errors.ts'
import { handleEval, handleFit, handleOffer, handleStats } from '../jobs/handlers.ts'
import type { HandlerContext } from '../jobs/handlers.ts'
import type { InputStash } from '../jobs/input-stash.ts'
import { createJobStates } from '../jobs/job-state.ts'
import { paramsSha256, storeNodeModel } from '../jobs/model-store.ts'
import type { Ledger } from '../ledger/ledger.ts'

/**
 * What the training participant needs from the node.
 * @example
 * const stash = createInputStash()
 * await registerTrainParticipant(transport, { identity, store, audit, ledger, policy: () => p, manifest: () => m, stash })
 */
export interface TrainParticipantDeps {
  identity: { readonly peerId: string }
  store: NodeStore
  audit: Pick<AuditLog, 'append'>
  /** The node's ledger, created with `budgetCapFor(policy)` (node/jobs/dataset-policy.ts). */
  ledger: Ledger
  /** The current policy (read on every request, so a change applies at once). */
  policy: () => NodePolicy
  manifest: () => FederationManifest
  /** Shared with the SecAgg participant's `inputProvider`. */
  stash: InputStash
  /** @default no logging */
  log?: (line: string) => void
  /** Randomness of training and noise; tests pass a seeded one. @default crypto.getRandomValues */
  rng?: RandomSource
}

/**
 * A registered participant.
 * @example
 * await handle.close()
 */
export interface TrainParticipantHandle {
  /** Jobs with in-memory state. */
  activeJobs(): number
  close(): Promise<void>
}

/**
 * Registers the training participant on `transport`. The node calls this next to
 * `registerSecaggParticipant` (with `inputProvider: stash.inputProvider`).
 *
 * @example
 * const handle = await registerTrainParticipant(transport, deps)
 */
export async function registerTrainParticipant(
  transport: Transport,
  deps: TrainParticipantDeps
): Promise<TrainParticipantHandle> {
  const log = deps.log ?? (() => {})
  const jobs = createJobStates()
  const ctx: HandlerContext = {
    store: deps.store,
    ledger: deps.ledger,
    audit: deps.audit,
    stash: deps.stash,
    policy: deps.policy,
    manifest: deps.manifest,
    log,
    ...(deps.rng === undefined ? {} : { rng: deps.rng })
  }

  function forget(jobId: string) {
    jobs.drop(jobId)
    deps.stash.dropJob(jobId)
  }

  async function publish(req: PublishRequest, from: string): Promise<TrainReply> {
    await storeNodeModel(deps.store, deps.audit, {
      jobId: req.jobId,
      version: req.version,
      name: req.name,
      descriptor: req.model,
      params: Buffer.from(req.params).toString('base64'),
      sha256: paramsSha256(req.params),
      prep: req.prep,
      dataset: req.dataset,
      metrics: req.metrics,
      coordinator: from,
      receivedAt: new Date().toISOString()
    })
    forget(req.jobId)
    log(`stored model ${req.jobId}@${req.version} (${req.model.kind})`)
    return { v: TRAIN_WIRE_VERSION, jobId: req.jobId, kind: 'stored', version: req.version }
  }

  async function dispatch(req: TrainRequest, from: string): Promise<TrainReply> {
    switch (req.kind) {
      case 'offer':
        return handleOffer(ctx, req, from)
      case 'stats':
        return jobs.serial(req.jobId, (state) => handleStats(ctx, state, req, from))
      case 'fit':
        return jobs.serial(req.jobId, (state) => handleFit(ctx, state, req, from))
      case 'eval':
        return jobs.serial(req.jobId, (state) => handleEval(ctx, state, req, from))
      case 'publish':
        return publish(req, from)
      case 'cancel':
        forget(req.jobId)
        await deps.audit.append('train-cancelled', { jobId: req.jobId, reason: req.reason }, { actor: from })
        return { v: TRAIN_WIRE_VERSION, jobId: req.jobId, kind: 'cancelled' }
    }
  }

  await transport.handle(
    PROTOCOLS.train,
    async (body, from) => {
      const member = findMember(deps.manifest(), from)
      if (member === undefined || !member.roles.includes('coordinator')) {
        const err = new NotCoordinatorError(`${from} is not a coordinator of this federation`)
        await deps.audit.append(
          'train-refused',
          { from, code: err.code, reason: err.message },
          { actor: from }
        )
        throw err
      }
      let req: TrainRequest
      try {
        req = decodeTrainRequest(body)
      } catch (err) {
        const code = isCohortError(err) ? err.code : 'COHORT_MALFORMED_MESSAGE'
        await deps.audit.append(
          'train-refused',
          { from, code, reason: (err as Error).message.slice(0, 300) },
          { actor: from }
        )
        throw err
      }
      try {
        return encodeTrain(await dispatch(req, from))
      } catch (err) {
        const code = isCohortError(err) ? err.code : 'COHORT_INTERNAL'
        log(`train ${req.kind} of job ${req.jobId} failed: ${(err as Error).message} [${code}]`)
        await deps.audit.append(
          'train-failed',
          {
            jobId: req.jobId,
            request: req.kind,
            code,
            reason: (err as Error).message?.slice(0, 300) ?? String(err)
          },
          { actor: from, round: 'round' in req ? req.round : null }
        )
        throw err
      }
    },
    { maxRequestBytes: MAX_VECTOR_BYTES }
  )

  return {
    activeJobs: () => jobs.size(),
    async close() {
      await transport.unhandle(PROTOCOLS.train)
    }
  }
}
