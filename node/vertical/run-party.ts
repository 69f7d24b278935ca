/**
 * One node's part of a vertical session: picks the protocol party for the job's model and the node's
 * role (protocols/vertical/lr, protocols/vertical/kmeans), runs it over the node's transport, and
 * returns this node's model slice plus — label / lead party only — the aggregate metrics it reports to
 * the coordinator. Which rows are held out is the label party's split rule; the other parties learn it
 * from the session plan.
 */
import type { VerticalKMeansOptions } from '../../protocols/vertical/kmeans/index.ts'
import type { VerticalLrOptions, VerticalLrPlan } from '../../protocols/vertical/lr/index.ts'
import type { VerticalJobSummary } from '../../protocols/vertical/job-wire.ts'
import type { VerticalPartyContext } from '../../protocols/vertical/types.ts'
import { VerticalStateError } from './errors.ts'
import { verticalKMeans, verticalLr } from './protocols.ts'

/**
 * What a finished party keeps and reports.
 * @example
 * const { model, params, metrics } = await runVerticalParty(ctx, summary, testRows)
 */
export interface VerticalPartyOutcome {
  /** The protocol's model object (this party's slice only). */
  model: unknown
  kind: 'vertical-logreg' | 'vertical-kmeans'
  /** This party's parameters, flat (weights [+ intercept], or centroid coordinates row-major). */
  params: number[]
  k?: number
  /** Aggregate metrics the label / lead party reports (empty at the other parties). */
  metrics: Record<string, number>
}

/**
 * The logistic-regression options of a job summary.
 * @example
 * lrOptions(summary) // { epochs: 30, batchSize: 256, learningRate: 0.1, ... }
 */
export function lrOptions(s: VerticalJobSummary): VerticalLrOptions {
  if (s.lr === undefined) throw new VerticalStateError('the job summary has no logistic-regression options')
  const dp = s.dp
  return {
    epochs: s.lr.epochs,
    batchSize: s.lr.batchSize,
    learningRate: s.lr.learningRate,
    l2: s.lr.l2,
    optimizer: s.lr.optimizer,
    seed: s.seed,
    ...(dp === null
      ? {}
      : {
          dp:
            dp.epsilon !== undefined
              ? { epsilon: dp.epsilon, delta: dp.delta, clipNorm: dp.clipNorm }
              : { noiseMultiplier: dp.noiseMultiplier!, clipNorm: dp.clipNorm }
        })
  }
}

/**
 * The k-means options of a job summary.
 * @example
 * kmeansOptions(summary) // { k: 4, maxIterations: 20, ... }
 */
export function kmeansOptions(s: VerticalJobSummary): VerticalKMeansOptions {
  if (s.kmeans === undefined) throw new VerticalStateError('the job summary has no k-means options')
  const dp = s.dp
  return {
    k: s.kmeans.k,
    maxIterations: s.kmeans.maxIterations,
    ...(s.kmeans.nInit === undefined ? {} : { nInit: s.kmeans.nInit }),
    ...(s.kmeans.tolerance === undefined ? {} : { tolerance: s.kmeans.tolerance }),
    seed: s.seed,
    ...(dp === null || dp.epsilon === undefined
      ? {}
      : { dp: { epsilon: dp.epsilon, delta: dp.delta, clip: dp.clipNorm } })
  }
}

/**
 * Runs this node's party of the session.
 *
 * @throws the protocol's errors (a refusal, an abort, a timeout)
 * @example
 * const out = await runVerticalParty(ctx, summary, testRows)
 */
export async function runVerticalParty(
  ctx: VerticalPartyContext,
  s: VerticalJobSummary,
  testRows: Uint8Array | undefined
): Promise<VerticalPartyOutcome> {
  if (s.model === 'logreg') {
    const { runVerticalLrFeature, runVerticalLrLabel } = await verticalLr()
    if (s.role === 'label') {
      if (testRows === undefined) throw new VerticalStateError('the label party needs its test rows')
      const r = await runVerticalLrLabel({ ...ctx, options: lrOptions(s), testRows })
      const metrics: Record<string, number> = {
        auc: r.test.auc,
        ks: r.test.ks,
        logloss: r.test.logLoss,
        accuracy: r.test.accuracy,
        n: r.test.n,
        rows: ctx.slice.rows
      }
      const last = r.history.at(-1)
      if (last?.trainLoss !== undefined) metrics.trainLoss = last.trainLoss
      if (r.epsilon !== undefined) metrics.epsilon = r.epsilon
      return { model: r.model, kind: 'vertical-logreg', params: lrParams(r.model), metrics }
    }
    const r = await runVerticalLrFeature({ ...ctx, acceptPlan: async (plan) => checkLrPlan(plan, s, ctx) })
    return { model: r.model, kind: 'vertical-logreg', params: lrParams(r.model), metrics: {} }
  }
  const { runVerticalKMeansLead, runVerticalKMeansMember } = await verticalKMeans()
  if (s.role === 'label') {
    const r = await runVerticalKMeansLead({
      ...ctx,
      options: kmeansOptions(s),
      ...(testRows === undefined ? {} : { trainRows: testRows.map((t) => 1 - t) })
    })
    const metrics: Record<string, number> = {
      inertia: r.inertia,
      iterations: r.iterations,
      k: r.model.centroids.length,
      rows: ctx.slice.rows
    }
    r.profile.sizes.forEach((n, i) => {
      metrics[`segment_${i}`] = n
    })
    if (r.epsilon !== undefined) metrics.epsilon = r.epsilon
    return {
      model: r.model,
      kind: 'vertical-kmeans',
      params: r.model.centroids.flat(),
      k: r.model.centroids.length,
      metrics
    }
  }
  const r = await runVerticalKMeansMember({
    ...ctx,
    acceptPlan: async (plan) => checkKMeansPlan(plan, s, ctx)
  })
  return {
    model: r.model,
    kind: 'vertical-kmeans',
    params: r.model.centroids.flat(),
    k: r.model.centroids.length,
    metrics: {}
  }
}

function lrParams(m: { weights: number[]; intercept?: number }): number[] {
  return m.intercept === undefined ? [...m.weights] : [...m.weights, m.intercept]
}

/**
 * A member refuses a k-means plan that is not the job the coordinator offered it (another k, seed,
 * number of iterations, DP, party list or row count): the lead cannot change the job on its own.
 *
 * @throws VerticalStateError naming the first difference
 * @example
 * await checkKMeansPlan(plan, summary, ctx)
 */
export async function checkKMeansPlan(
  plan: unknown,
  s: VerticalJobSummary,
  ctx: VerticalPartyContext
): Promise<void> {
  const p = plan as {
    k?: number
    nInit?: number
    maxIterations?: number
    seed?: string
    rows?: number
    parties?: Array<{ peer: string; role: string }>
    dp?: { epsilon: number; delta: number } | null
  }
  const km = s.kmeans!
  const diff: string[] = []
  if (p.k !== km.k) diff.push(`k ${p.k} (the job's ${km.k})`)
  if (p.maxIterations !== km.maxIterations)
    diff.push(`maxIterations ${p.maxIterations} (the job's ${km.maxIterations})`)
  if (km.nInit !== undefined && p.nInit !== km.nInit) diff.push(`nInit ${p.nInit} (the job's ${km.nInit})`)
  if (p.seed !== s.seed) diff.push('another seed')
  if (p.rows !== ctx.slice.rows) diff.push(`${p.rows} rows (${ctx.slice.rows} aligned here)`)
  const peers = (xs: ReadonlyArray<{ peer: string; role: string }> | undefined) =>
    JSON.stringify((xs ?? []).map((x) => [x.peer, x.role]))
  if (peers(p.parties) !== peers(ctx.parties)) diff.push('another party list')
  const wantEps = s.dp?.epsilon ?? null
  const gotEps = p.dp?.epsilon ?? null
  if (wantEps !== gotEps || (p.dp != null && p.dp.delta !== s.dp?.delta)) diff.push('other DP parameters')
  if (diff.length > 0)
    throw new VerticalStateError(`the k-means plan differs from the job: ${diff.join(', ')}`)
}

/**
 * A feature party refuses a logistic-regression plan that is not the job the coordinator offered it
 * (other epochs, batch size, learning rate, penalty, optimiser, seed, party list, row count, or more
 * privacy loss than the job's ε).
 *
 * @throws VerticalStateError naming the first differences
 * @example
 * await checkLrPlan(plan, summary, ctx)
 */
export async function checkLrPlan(
  plan: VerticalLrPlan,
  s: VerticalJobSummary,
  ctx: VerticalPartyContext
): Promise<void> {
  const lr = s.lr!
  const diff: string[] = []
  if (plan.epochs !== lr.epochs) diff.push(`epochs ${plan.epochs} (the job's ${lr.epochs})`)
  if (plan.batchSize !== lr.batchSize) diff.push(`batch size ${plan.batchSize} (the job's ${lr.batchSize})`)
  if (plan.learningRate !== lr.learningRate) diff.push('another learning rate')
  if (plan.l2 !== lr.l2) diff.push('another L2 penalty')
  if (plan.optimizer !== lr.optimizer) diff.push(`optimizer ${plan.optimizer} (the job's ${lr.optimizer})`)
  if (plan.seed !== s.seed) diff.push('another seed')
  if (plan.rows !== ctx.slice.rows) diff.push(`${plan.rows} rows (${ctx.slice.rows} aligned here)`)
  const peers = (xs: ReadonlyArray<{ peer: string; role: string }>) =>
    JSON.stringify(xs.map((x) => [x.peer, x.role]))
  if (peers(plan.parties) !== peers(ctx.parties)) diff.push('another party list')
  if ((plan.dp === null) !== (s.dp === null))
    diff.push(s.dp === null ? 'DP the job does not ask for' : 'no DP')
  else if (plan.dp !== null && s.dp !== null) {
    if (s.dp.epsilon !== undefined && plan.dp.epsilon > s.dp.epsilon * (1 + 1e-9))
      diff.push(`ε = ${plan.dp.epsilon} above the job's ${s.dp.epsilon}`)
    if (s.dp.noiseMultiplier !== undefined && plan.dp.noiseMultiplier < s.dp.noiseMultiplier)
      diff.push(`noise multiplier ${plan.dp.noiseMultiplier} below the job's ${s.dp.noiseMultiplier}`)
    if (plan.dp.clipNorm !== s.dp.clipNorm) diff.push('another clipping norm')
  }
  if (diff.length > 0)
    throw new VerticalStateError(`the logistic-regression plan differs from the job: ${diff.join(', ')}`)
}
