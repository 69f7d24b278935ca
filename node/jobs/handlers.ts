import type { FederationManifest } from '../../configs/federation.ts'
import type { NodePolicy } from '../../configs/node-config.ts'
import { BudgetExhaustedError } from '../../crypto/dp/errors.ts'
import type { RandomSource } from '../../crypto/dp/random.ts'
import { findMember } from '../../platform/federation/manifest.ts'
import type { NodeStore } from '../../platform/storage/db.ts'
import { toSummand } from '../../protocols/strategies/strategy.ts'
import { fitEvent } from '../../protocols/training/dp-plan.ts'
import { fitConfigFor, jobModelDescriptor, planJobPrivacy } from '../../protocols/training/job-privacy.ts'
import { modelSpec } from '../../protocols/training/model-spec.ts'
import { jobQuant } from '../../protocols/training/quantisation.ts'
import type { QuantPurpose } from '../../protocols/training/quantisation.ts'
import { bytesToF64, DECLINE, f64ToBytes, TRAIN_WIRE_VERSION } from '../../protocols/training/wire.ts'
import type {
  EvalRequest,
  FitRequest,
  OfferRequest,
  StatsRequest,
  TrainReply
} from '../../protocols/training/wire.ts'
import { getManifest } from '../data/dataset-store.ts'
import type { DatasetManifest } from '../data/dataset-store.ts'
import { createTrainer } from '../training/create-trainer.ts'
import { readBudget, trainingScope } from './budget-state.ts'
import { effectivePolicy } from './dataset-policy.ts'
import { checkJob } from './job-check.ts'
import type { JobCheck } from './job-check.ts'
import { loadJobData, statsVector, trainRows } from './job-data.ts'
import type { JobState } from './job-state.ts'
import { releaseSummand, serveAgain } from './release.ts'
import type { ReleaseContext } from './release.ts'

/**
 * The node's handlers of `offer`, `stats`, `fit` and `eval` (node/runners/train-participant.ts
 * dispatches to them). Each re-checks the job against the policy as it is now, then releases
 * through releaseSummand. A refusal is a `declined` reply with a stable code and one sentence.
 */

/**
 * What the handlers need.
 * @example
 * const ctx: HandlerContext = { store, ledger, audit, stash, policy, manifest, rng }
 */
export interface HandlerContext extends ReleaseContext {
  store: NodeStore
  policy: () => NodePolicy
  manifest: () => FederationManifest
  log: (line: string) => void
  rng?: RandomSource
}

/** A summand may be served again at most this many times (each re-serve is a new SecAgg round). */
const MAX_SERVES = 3

type Declined = Extract<TrainReply, { kind: 'declined' }>
const planMemo = new Map<string, ReturnType<typeof planJobPrivacy>>()
const memoPlanner: typeof planJobPrivacy = (s, p) => {
  const key = JSON.stringify([s, p])
  let plan = planMemo.get(key)
  if (plan === undefined) {
    plan = planJobPrivacy(s, p)
    if (planMemo.size > 256) planMemo.delete(planMemo.keys().next().value!)
    planMemo.set(key, plan)
  }
  return plan
}

async function declined(
  ctx: HandlerContext,
  jobId: string,
  from: string,
  what: string,
  round: number,
  code: string,
  reason: string
): Promise<Declined> {
  await ctx.audit.append(
    'train-declined',
    { jobId, request: what, round, code, reason },
    { actor: from, round }
  )
  ctx.log(`declined ${what} of job ${jobId}: ${reason} [${code}]`)
  return { v: TRAIN_WIRE_VERSION, jobId, kind: 'declined', code, reason }
}

async function gate(
  ctx: HandlerContext,
  req: OfferRequest | StatsRequest | FitRequest | EvalRequest,
  from: string,
  dryRun: boolean
): Promise<{ check: JobCheck; m: DatasetManifest | undefined }> {
  const s = req.job
  const policy = effectivePolicy(ctx.policy(), s.dataset)
  const m = await getManifest(ctx.store, s.dataset)
  const fed = ctx.manifest()
  const budget =
    dryRun && s.dp !== null && m !== undefined
      ? await readBudget(ctx.store, trainingScope(s.dataset), {
          epsilon: policy.epsilonCap,
          delta: policy.delta
        })
      : null
  const org = findMember(fed, from)?.org
  const check = checkJob({
    summary: s,
    policy,
    federation: fed.federation,
    coordinator: org === undefined ? { peerId: from } : { peerId: from, org },
    schema: m?.schema,
    trainRows: m === undefined ? 0 : trainRows(m),
    budget,
    planner: memoPlanner
  })
  return { check, m }
}

/**
 * `offer`: the whole job against the policy, with a dry run of its total privacy cost on the ledger.
 * @example
 * const reply = await handleOffer(ctx, req, from)
 */
export async function handleOffer(ctx: HandlerContext, req: OfferRequest, from: string): Promise<TrainReply> {
  const { check } = await gate(ctx, req, from, true)
  if (!check.ok) return declined(ctx, req.jobId, from, 'offer', 0, check.code, check.reason)
  await ctx.audit.append(
    'train-accepted',
    {
      jobId: req.jobId,
      job: req.job,
      features: check.features.length,
      epsilon: check.jobEpsilon,
      noiseMultiplier: check.plan.noiseMultiplier
    },
    { actor: from, round: 0 }
  )
  return {
    v: TRAIN_WIRE_VERSION,
    jobId: req.jobId,
    kind: 'accepted',
    features: check.features,
    columns: check.columns as Extract<TrainReply, { kind: 'accepted' }>['columns'],
    plan: { noiseMultiplier: check.plan.noiseMultiplier, epsilon: check.jobEpsilon }
  }
}

function sameQuant(
  purpose: QuantPurpose,
  job: FitRequest['job'],
  q: { k: number; clip: number; scale: number }
): boolean {
  const mine = jobQuant(purpose, job)
  return mine.k === q.k && mine.clip === q.clip && mine.scale === q.scale
}

function ready(jobId: string, round: number, summand: Float64Array, plaintext: boolean): TrainReply {
  const r: TrainReply = { v: TRAIN_WIRE_VERSION, jobId, kind: 'ready', round, length: summand.length }
  return plaintext ? { ...r, vector: f64ToBytes(summand) } : r
}

async function jobData(ctx: HandlerContext, state: JobState, m: DatasetManifest, prep: FitRequest['prep']) {
  const key = JSON.stringify([m.name, m.generation, prep])
  if (state.data?.key !== key) state.data = { key, ...(await loadJobData(ctx.store, m, prep)) }
  return state.data
}

/**
 * `stats`: this node's summand of the federated feature statistics.
 * @example
 * const reply = await handleStats(ctx, state, req, from)
 */
export async function handleStats(
  ctx: HandlerContext,
  state: JobState,
  req: StatsRequest,
  from: string
): Promise<TrainReply> {
  const { check, m } = await gate(ctx, req, from, false)
  if (!check.ok) return declined(ctx, req.jobId, from, 'stats', 0, check.code, check.reason)
  const s = req.job
  if (JSON.stringify(check.columns) !== JSON.stringify(req.columns) || !sameQuant('stats', s, req.quant))
    return declined(
      ctx,
      req.jobId,
      from,
      'stats',
      0,
      DECLINE.mismatch,
      'the statistics request does not match the job this node accepted'
    )
  return release(ctx, state, 'stats', req, from, 0, check.plan.statsEvent, async () =>
    statsVector(ctx.store, m!, check.columns, s.statistics.ranges)
  )
}

async function release(
  ctx: HandlerContext,
  state: JobState,
  purpose: 'stats' | 'fit' | 'eval',
  req: StatsRequest | FitRequest | EvalRequest,
  from: string,
  round: number,
  event: Parameters<typeof releaseSummand>[2]['event'],
  compute: () => Promise<Float64Array>
): Promise<TrainReply> {
  const plaintext = req.secaggId === null
  // Evaluations cost no budget and depend on the global model, which a re-run round may change:
  // always recomputed. Statistics and fits are served again, never charged twice.
  const cached = purpose === 'eval' ? undefined : state.released.get(`${purpose}/${round}`)
  if (cached !== undefined) {
    if (cached.served >= MAX_SERVES)
      return declined(
        ctx,
        req.jobId,
        from,
        purpose,
        round,
        DECLINE.rounds,
        `${purpose} of round ${round} was already served ${cached.served} times`
      )
    await serveAgain(ctx, cached, {
      purpose,
      jobId: req.jobId,
      round,
      dataset: req.job.dataset,
      minParticipants: req.job.minParticipants,
      coordinator: from,
      secaggId: req.secaggId,
      ...heOf(req.job)
    })
    return ready(req.jobId, round, cached.summand, plaintext)
  }
  try {
    const r = await releaseSummand(ctx, state, {
      purpose,
      jobId: req.jobId,
      round,
      dataset: req.job.dataset,
      minParticipants: req.job.minParticipants,
      coordinator: from,
      secaggId: req.secaggId,
      quant: jobQuant(purpose, req.job),
      event,
      compute,
      ...heOf(req.job)
    })
    return ready(req.jobId, round, r.summand, plaintext)
  } catch (err) {
    if (err instanceof BudgetExhaustedError)
      return declined(
        ctx,
        req.jobId,
        from,
        purpose,
        round,
        DECLINE.budgetExhausted,
        `the privacy budget of dataset ${req.job.dataset} is exhausted: ${err.message}`
      )
    throw err
  }
}

function heOf(s: FitRequest['job']): { he?: { pinnedFingerprint: string; minParticipants: number } } {
  if (s.secureAggregation !== 'he' || s.he === undefined) return {}
  return { he: { pinnedFingerprint: s.he.keyFingerprint, minParticipants: s.minParticipants } }
}

function checkModel(req: FitRequest | EvalRequest, features: readonly string[]): string | undefined {
  if (JSON.stringify(req.prep.features) !== JSON.stringify(features))
    return "the request's features differ from the ones this node accepted"
  const job = modelSpec(jobModelDescriptor(req.job, features.length)).descriptor
  if (JSON.stringify(job) !== JSON.stringify(modelSpec(req.model).descriptor))
    return 'the request’s model differs from the job’s'
  if (req.round < 1 || req.round > req.job.model.rounds)
    return `round ${req.round} is outside the job's ${req.job.model.rounds} rounds`
  return undefined
}

/**
 * `fit`: local training from the global parameters; the update's summand is released.
 * @example
 * const reply = await handleFit(ctx, state, req, from)
 */
export async function handleFit(
  ctx: HandlerContext,
  state: JobState,
  req: FitRequest,
  from: string
): Promise<TrainReply> {
  const { check, m } = await gate(ctx, req, from, false)
  if (!check.ok) return declined(ctx, req.jobId, from, 'fit', req.round, check.code, check.reason)
  const bad =
    checkModel(req, check.features) ??
    (sameQuant('fit', req.job, req.quant) ? undefined : 'the request’s quantisation differs from the job’s')
  if (bad !== undefined) return declined(ctx, req.jobId, from, 'fit', req.round, DECLINE.mismatch, bad)
  const s = req.job
  const spec = modelSpec(req.model)
  const own = fitConfigFor(s, check.plan.noiseMultiplier)
  // The job summary fixes everything that bears on privacy (epochs, batch size, DP); the strategy's
  // config may add optimiser settings. With DP the weight is 1 (a row count is not private).
  const config = { ...req.config, ...own, ...(s.dp === null ? {} : { weighting: 'uniform' as const }) }
  const data = await jobData(ctx, state, m!, req.prep)
  const event = s.dp === null ? null : fitEvent(spec, config, data.train.rows)
  return release(ctx, state, 'fit', req, from, req.round, event, async () => {
    const global = spec.unflatten(bytesToF64(req.global, spec.layout.length))
    const update = await createTrainer(spec).fit(
      global,
      data.train,
      config,
      ctx.rng === undefined ? {} : { rng: ctx.rng }
    )
    return toSummand(update)
  })
}

/**
 * `eval`: the global parameters on the held-out rows; the evaluation summand is released.
 * @example
 * const reply = await handleEval(ctx, state, req, from)
 */
export async function handleEval(
  ctx: HandlerContext,
  state: JobState,
  req: EvalRequest,
  from: string
): Promise<TrainReply> {
  const { check, m } = await gate(ctx, req, from, false)
  if (!check.ok) return declined(ctx, req.jobId, from, 'eval', req.round, check.code, check.reason)
  const bad =
    checkModel(req, check.features) ??
    (sameQuant('eval', req.job, req.quant) ? undefined : 'the request’s quantisation differs from the job’s')
  if (bad !== undefined) return declined(ctx, req.jobId, from, 'eval', req.round, DECLINE.mismatch, bad)
  const spec = modelSpec(req.model)
  const data = await jobData(ctx, state, m!, req.prep)
  // Training-split evaluation (k-means' training inertia) only for jobs without DP: under DP the
  // training rows are released only through the charged, noised fit.
  const withTrain = req.trainSplit && spec.kind === 'kmeans' && req.job.dp === null
  return release(ctx, state, 'eval', req, from, req.round, null, async () => {
    const trainer = createTrainer(spec)
    const global = spec.unflatten(bytesToF64(req.global, spec.layout.length))
    const test = await trainer.evaluationVector(global, data.test, req.config)
    if (!withTrain) return toSummand({ vector: test, weight: 1 })
    const train = await trainer.evaluationVector(global, data.train, req.config)
    const both = new Float64Array(test.length + train.length)
    both.set(test)
    both.set(train, test.length)
    return toSummand({ vector: both, weight: 1 })
  })
}
