import { isCohortError } from '../../crypto/cohort-error.ts'
import { SECAGG_PHASES } from '../../protocols/secagg/phases.ts'
import { AggregateMismatchError } from '../../protocols/strategies/errors.ts'
import { fromSummand } from '../../protocols/strategies/strategy.ts'
import type { AggregateResult, Metrics, Strategy } from '../../protocols/strategies/strategy.ts'
import { fitEvent } from '../../protocols/training/dp-plan.ts'
import { fitConfigFor } from '../../protocols/training/job-privacy.ts'
import type { ModelSpec, NamedParams } from '../../protocols/training/model-spec.ts'
import { jobQuant } from '../../protocols/training/quantisation.ts'
import { f64ToBytes, TRAIN_WIRE_VERSION } from '../../protocols/training/wire.ts'
import { prepOf, quantJob, summaryFor } from './job-plan.ts'
import type { GatherResult } from './gather.ts'
import { gatherWithRetries, offeredOf } from './phases.ts'
import { cpuMsSince } from './secure-sum.ts'
import type { Roster } from './phases.ts'
import type { JobRuntime } from './runtime.ts'
import type { JobRecord, RoundRecord } from './types.ts'

/**
 * One training round: fit requests to every participant → secure sum of the ready nodes' updates →
 * strategy.aggregateFit → evaluation requests with the new global model → secure sum of the
 * evaluation vectors → strategy.aggregateEvaluate. Returns the round record and the new global model;
 * the runner persists both atomically.
 */

/**
 * A job's model machinery (coordinator/jobs/job-plan.ts `jobModel`).
 * @example
 * const m: JobModel = jobModel(job, summary, columns)
 */
export interface JobModel {
  spec: ModelSpec<NamedParams>
  strategy: Strategy<NamedParams>
  /** Common noise multiplier of update-level DP (null otherwise). */
  noiseMultiplier: number | null
}

/**
 * What a round produced.
 * @example
 * const { record, global } = await trainRound(rt, job, roster, model, 3, global)
 */
export interface RoundOutcome {
  record: RoundRecord
  global: NamedParams
}

function fitNoiseSigma(job: JobRecord, roster: Roster, model: JobModel): number {
  const s = summaryFor(job.config, roster.participants[0]!.org, offeredOf(roster))
  if (s.dp?.mode !== 'update') return 0
  const e = fitEvent(model.spec, fitConfigFor(s, model.noiseMultiplier), 1)
  return e.kind === 'distributed-discrete-gaussian' ? e.sigma : 0
}

/**
 * Runs round `r` from `global`.
 *
 * @throws TooFewParticipantsError | RoundFailedError | the abort reason
 * @example
 * const { record, global: next } = await trainRound(rt, job, roster, model, r, global)
 */
export async function trainRound(
  rt: JobRuntime,
  job: JobRecord,
  roster: Roster,
  model: JobModel,
  r: number,
  global: NamedParams
): Promise<RoundOutcome> {
  const started = performance.now()
  const cfg = job.config
  const { spec, strategy } = model
  const prep = prepOf(job)
  const offered = offeredOf(roster)
  const fleet = () => ({ available: roster.participants.map((p) => p.peerId) })
  const asked = roster.participants.map((p) => p.peerId)
  const configs = new Map(strategy.configureFit(r, global, fleet()).map((i) => [i.peer, i.config]))
  const fitQuant = jobQuant('fit', quantJob(cfg))
  const globalBytes = f64ToBytes(spec.flatten(global))
  const fitCpu0 = process.cpuUsage()
  const fit = await gatherWithRetries(rt, job, roster, `round ${r} fit`, {
    purpose: 'fit',
    round: r,
    d: strategy.fitLength + 1,
    quant: fitQuant,
    noiseSigma: fitNoiseSigma(job, roster, model),
    timeoutMs: cfg.deadlines.trainMs,
    build: (secaggId, p) => ({
      v: TRAIN_WIRE_VERSION,
      jobId: job.id,
      kind: 'fit',
      round: r,
      job: summaryFor(cfg, p.org, offered),
      secaggId,
      model: spec.descriptor as never,
      global: globalBytes,
      config: configs.get(p.peerId) ?? [...configs.values()][0]!,
      prep: prep as never,
      quant: fitQuant
    })
  })
  const fitCpuMs = cpuMsSince(fitCpu0)
  const agg = fromSummand(fit.sum, fit.survivors)
  let next = global
  let fitMetrics: Metrics = {}
  // A sanity check on the unmasked sum (e.g. a norm bound from the clip norm and party count):
  // under secure aggregation nobody can see which party sent an outsized update, so the whole
  // round is discarded rather than applied.
  let discarded: RoundRecord['discarded'] = rt.ctx.checkAggregate?.({
    round: r,
    sum: agg.sum,
    weight: agg.weight,
    participants: agg.participants,
    job
  })
  if (discarded !== undefined) rt.log(`round ${r}: aggregate discarded: ${discarded.reason}`)
  else {
    try {
      const a = strategy.aggregateFit(r, agg, global)
      next = a.global
      fitMetrics = a.metrics
    } catch (err) {
      if (!(err instanceof AggregateMismatchError)) throw err
      discarded = { code: err.code, reason: err.message }
      rt.log(`round ${r}: aggregate discarded: ${err.message}`)
    }
  }

  const e0 = performance.now()
  const evalCpu0 = process.cpuUsage()
  let evalMetrics: Metrics = {}
  let evalSplit: EvalTimings | undefined
  try {
    const ev = await evaluate(rt, job, roster, model, r, next, offered)
    evalMetrics = ev.metrics
    evalSplit = ev.timings
  } catch (err) {
    if (rt.signal.aborted) throw rt.signal.reason ?? err
    const code = isCohortError(err) ? err.code : 'COHORT_INTERNAL'
    rt.log(`round ${r}: evaluation failed: ${(err as Error).message} [${code}]`)
    evalMetrics = { evalFailed: 1 }
  }
  const evalMs = performance.now() - e0
  const evalCpuMs = cpuMsSince(evalCpu0)
  const fitSumCpuMs = fit.timings.phases?.cpuMs ?? 0
  const all =
    spec.kind === 'kmeans'
      ? kmeansMetrics(fitMetrics, evalMetrics)
      : { ...evalMetrics, stepNorm: fitMetrics.stepNorm ?? Number.NaN }
  all.participants = fit.survivors.length
  // Stored as JSON: a NaN (no positives in a tiny test split, a failed evaluation) is left out.
  const metrics = Object.fromEntries(Object.entries(all).filter(([, v]) => Number.isFinite(v)))
  const record: RoundRecord = {
    jobId: job.id,
    round: r,
    participants: asked,
    survivors: fit.survivors,
    dropped: fit.dropped,
    metrics,
    timings: {
      train: fit.timings.prepareMs,
      secagg: fit.timings.sumMs,
      eval: evalMs,
      ...(evalSplit === undefined ? {} : { evalCompute: evalSplit.prepareMs, evalSecagg: evalSplit.sumMs }),
      ...phaseTimings('secagg', fit.timings.phases),
      // This process's CPU time per part (a simulation's nodes included): steadier than wall time
      // when other work shares the machine.
      'cpu.train': fitCpuMs - fitSumCpuMs,
      'cpu.secagg': fitSumCpuMs,
      'cpu.eval': evalCpuMs,
      total: performance.now() - started
    },
    bytes: rt.takeBytes(),
    ...(discarded === undefined ? {} : { discarded })
  }
  return { record, global: next }
}

/** k-means: training inertia from the training-split evaluation when there is one, else the fit's. */
function kmeansMetrics(fit: Metrics, ev: Metrics): Metrics {
  const out: Metrics = {}
  // Per-candidate inertias stay out of the round record; `best` is the candidate of lowest training
  // inertia (what the published model keeps), and testInertia is that candidate's.
  for (const [k, v] of Object.entries(ev)) if (!k.startsWith('train_') && !/^inertia\d+$/.test(k)) out[k] = v
  const best = ev.train_best ?? fit.best ?? ev.best
  if (best !== undefined) out.best = best
  out.testInertia = (best === undefined ? undefined : ev[`inertia${best}`]) ?? ev.inertia ?? Number.NaN
  out.inertia = ev.train_inertia ?? fit.inertia ?? Number.NaN
  if (ev.train_simplifiedSilhouette !== undefined) out.simplifiedSilhouette = ev.train_simplifiedSilhouette
  out.fitInertia = fit.inertia ?? Number.NaN
  if (ev.evalFailed !== undefined) out.evalFailed = 1
  return out
}

type EvalTimings = GatherResult['timings']

/** `{ '<prefix>.<phase>': ms }` for the five SecAgg+ phases (RoundRecord.timings is a flat record). */
function phaseTimings(prefix: string, phases: Record<string, number> | undefined): Record<string, number> {
  const out: Record<string, number> = {}
  for (const phase of SECAGG_PHASES) {
    const ms = phases?.[phase]
    if (ms !== undefined) out[`${prefix}.${phase}`] = ms
  }
  return out
}

async function evaluate(
  rt: JobRuntime,
  job: JobRecord,
  roster: Roster,
  model: JobModel,
  r: number,
  global: NamedParams,
  offered: number
): Promise<{ metrics: Metrics; timings: EvalTimings }> {
  const cfg = job.config
  const { spec, strategy } = model
  const withTrain = spec.kind === 'kmeans' && cfg.dp === 'none'
  const L = strategy.evalLength
  const fleet = { available: roster.participants.map((p) => p.peerId) }
  const configs = new Map(strategy.configureEvaluate(r, global, fleet).map((i) => [i.peer, i.config]))
  const quant = jobQuant('eval', quantJob(cfg))
  const prep = prepOf(job)
  const globalBytes = f64ToBytes(spec.flatten(global))
  const ev = await gatherWithRetries(rt, job, roster, `round ${r} evaluation`, {
    purpose: 'eval',
    round: r,
    d: (withTrain ? 2 * L : L) + 1,
    quant,
    noiseSigma: 0,
    timeoutMs: cfg.deadlines.phaseMs,
    build: (secaggId, p) => ({
      v: TRAIN_WIRE_VERSION,
      jobId: job.id,
      kind: 'eval',
      round: r,
      job: summaryFor(cfg, p.org, offered),
      secaggId,
      model: spec.descriptor as never,
      global: globalBytes,
      config: configs.get(p.peerId) ?? [...configs.values()][0]!,
      prep: prep as never,
      quant,
      trainSplit: withTrain
    })
  })
  const part = (from: number): AggregateResult => ({
    sum: ev.sum.slice(from, from + L),
    weight: ev.sum[ev.sum.length - 1]!,
    participants: ev.survivors
  })
  const test = strategy.aggregateEvaluate(r, part(0))
  if (!withTrain) return { metrics: test, timings: ev.timings }
  const train = strategy.aggregateEvaluate(r, part(L))
  const out: Metrics = { ...test }
  for (const [k, v] of Object.entries(train)) out[`train_${k}`] = v
  return { metrics: out, timings: ev.timings }
}
