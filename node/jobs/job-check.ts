import { composeAll, reserve } from '../../crypto/dp/budget.ts'
import type { BudgetState } from '../../crypto/dp/budget.ts'
import { BudgetExhaustedError } from '../../crypto/dp/errors.ts'
import { composedEvent, selfComposedEvent } from '../../crypto/dp/events.ts'
import type { DpEvent } from '../../crypto/dp/events.ts'
import { isCohortError } from '../../crypto/cohort-error.ts'
import type { StatsColumn } from '../../protocols/training/feature-stats.ts'
import { planJobPrivacy } from '../../protocols/training/job-privacy.ts'
import type { PrivacyPlan } from '../../protocols/training/job-privacy.ts'
import type { JobSummary } from '../../protocols/training/job-summary.ts'
import { DECLINE } from '../../protocols/training/wire.ts'
import { featureLayout } from '../data/schema.ts'
import type { DatasetSchema } from '../data/schema.ts'
import { featureAllowed } from './dataset-policy.ts'
import type { EffectivePolicy } from './dataset-policy.ts'
import { checkDatasetAccess } from './job-access.ts'

/**
 * A node's decision on a job: every rule of its policy, checked in a fixed order so the reason a
 * user sees is always the first rule the job breaks. Pure: the caller loads the policy, the dataset
 * schema and the ledger state. The same check runs on the offer and again on every request, so a
 * policy tightened mid-job applies from the next round.
 */

/**
 * What {@link checkJob} needs.
 * @example
 * checkJob({ summary, policy, federation: 'credit', coordinator, schema, trainRows: 2248, budget })
 */
export interface JobCheckInput {
  summary: JobSummary
  policy: EffectivePolicy
  /** The federation the node belongs to (its manifest's name). */
  federation: string
  coordinator: { peerId: string; org?: string }
  /** The dataset's schema, or undefined when the node has no such dataset. */
  schema: DatasetSchema | undefined
  /** Training rows of the dataset (the DP-SGD sampling rate depends on it). */
  trainRows: number
  /**
   * The dataset's ledger state for the whole-job dry run (offers); null skips the dry run (requests
   * of a job already under way, whose earlier rounds are in the ledger: each round's reservation is
   * checked by the ledger itself).
   */
  budget: BudgetState | null
  /** Memoised planJobPrivacy (same arguments, same plan). @default planJobPrivacy */
  planner?: typeof planJobPrivacy
}

/**
 * The decision: accepted with the features, their columns and the node's privacy plan, or declined.
 * @example
 * const r = checkJob(input); if (!r.ok) reply({ kind: 'declined', code: r.code, reason: r.reason })
 */
export type JobCheck =
  | {
      ok: true
      features: string[]
      columns: StatsColumn[]
      plan: PrivacyPlan
      jobEvent: DpEvent | null
      /** The whole job's ε at the policy's δ (null without DP). */
      jobEpsilon: number | null
    }
  | { ok: false; code: string; reason: string }

const no = (code: string, reason: string): JobCheck => ({ ok: false, code, reason })
const fmt = (x: number) => (Number.isFinite(x) ? x.toPrecision(3) : String(x))

/**
 * Checks a job against the node's policy and budget.
 *
 * @example
 * const decision = checkJob({ summary, policy: effectivePolicy(p, summary.dataset), ... })
 */
export function checkJob(input: JobCheckInput): JobCheck {
  const { summary: s, policy: p, schema } = input
  const ds = s.dataset
  const c = input.coordinator
  const access = checkDatasetAccess({ dataset: ds, policy: p, federation: input.federation, coordinator: c })
  if (access !== undefined) return no(access.code, access.reason)
  if (schema === undefined) return no(DECLINE.unknownDataset, `this node has no dataset named ${ds}`)
  if (s.secureAggregation === 'he' && s.he === undefined)
    return no(
      DECLINE.unsupported,
      'the job uses homomorphic aggregation but pins no key fingerprint (he.keyFingerprint)'
    )
  if (s.secureAggregation === 'none' && !p.allowPlaintext)
    return no(
      DECLINE.plaintext,
      `the policy of dataset ${ds} does not allow aggregation without secure aggregation`
    )
  if (s.secureAggregation === 'none' && s.dp !== null)
    return no(
      DECLINE.unsupported,
      'differential privacy needs secure aggregation here (each node adds only a share of the distributed noise); use secagg+'
    )
  if (s.minParticipants < p.minParticipants)
    return no(
      DECLINE.minParticipants,
      `the job aggregates over at least ${s.minParticipants} parties; dataset ${ds} requires at least ${p.minParticipants}`
    )
  if (s.model.kind !== 'kmeans' && schema.target === undefined)
    return no(
      DECLINE.model,
      `dataset ${ds} has no target column, so it cannot train a ${s.model.kind} classifier`
    )
  if (s.model.kind === 'kmeans' && s.dp?.mode === 'record')
    return no(DECLINE.model, 'k-means supports update-level DP (dp.mode: update), not record-level DP-SGD')

  const layout = featureLayout(schema)
  const byName = new Map(layout.map((f) => [f.name, f]))
  const features = s.features ?? layout.map((f) => f.name)
  const unknown = features.filter((f) => !byName.has(f))
  if (unknown.length > 0)
    return no(DECLINE.features, `dataset ${ds} has no feature ${unknown.slice(0, 5).join(', ')}`)
  const refused = features.filter((f) => !featureAllowed(p, f, byName.get(f)!.column))
  if (refused.length > 0)
    return no(
      DECLINE.features,
      `the policy of dataset ${ds} does not allow feature${refused.length > 1 ? 's' : ''} ${refused.slice(0, 5).join(', ')}`
    )
  const used = new Set(features.map((f) => byName.get(f)!.column))
  const columns: StatsColumn[] = []
  for (const col of schema.columns) {
    if (col.role !== 'feature' || !used.has(col.name)) continue
    if (col.kind === 'number') columns.push({ name: col.name, kind: 'number' })
    else if (col.kind === 'category')
      columns.push({ name: col.name, kind: 'category', levels: [...col.levels], encoding: col.encoding })
  }

  const floor = p.minNoiseMultiplier
  if (s.dp === null) {
    if (floor > 0)
      return no(
        DECLINE.noiseFloor,
        `the job adds no noise (no DP); dataset ${ds} requires a noise multiplier of at least ${floor}`
      )
    const plan = safePlan(input, s, columns, features.length, p.delta)
    if ('code' in plan) return no(plan.code, plan.reason)
    return { ok: true, features, columns, plan, jobEvent: null, jobEpsilon: null }
  }
  if (s.statistics.noiseMultiplier < floor)
    return no(
      DECLINE.noiseFloor,
      `the statistics noise multiplier ${s.statistics.noiseMultiplier} is below dataset ${ds}'s floor ${floor}`
    )
  // Record-level DP calibrates at the stricter of the job's and the policy's delta, so the ledger
  // (which reads epsilon at the policy's delta) shows at most the job's target.
  const delta = s.dp.mode === 'record' ? Math.min(s.dp.delta, p.delta) : s.dp.delta
  let plan = safePlan(input, s, columns, features.length, delta)
  if ('code' in plan) return no(plan.code, plan.reason)
  if (plan.noiseMultiplier! < floor) {
    if (s.dp.mode === 'record' && s.dp.epsilon !== undefined) {
      // A target ε is met by any larger noise: use the floor (a smaller ε).
      const floored = { ...s, dp: { ...s.dp, epsilon: undefined, noiseMultiplier: floor } }
      plan = safePlan(input, floored, columns, features.length, delta)
      if ('code' in plan) return no(plan.code, plan.reason)
    } else
      return no(
        DECLINE.noiseFloor,
        `the job's noise multiplier ${fmt(plan.noiseMultiplier!)} is below dataset ${ds}'s floor ${floor}`
      )
  }
  const jobEvent = composedEvent([plan.statsEvent!, selfComposedEvent(plan.roundEvent!, s.model.rounds)])
  const cap = { epsilon: p.epsilonCap, delta: p.delta }
  const jobEpsilon = composeAll([jobEvent]).epsilon(cap.delta)
  const ok = { ok: true as const, features, columns, plan, jobEvent, jobEpsilon }
  if (input.budget === null) return ok
  if (input.budget.exhausted)
    return no(DECLINE.budgetExhausted, `the privacy budget of dataset ${ds} is exhausted`)
  try {
    reserve(input.budget, 'job-check', jobEvent)
  } catch (err) {
    if (!(err instanceof BudgetExhaustedError)) throw err
    const spentEps = composeAll(input.budget.events).epsilon(input.budget.cap.delta)
    return no(
      DECLINE.epsilonCap,
      `the job needs ε = ${fmt(jobEpsilon)} at δ = ${cap.delta} on dataset ${ds}, whose cap is ε = ${input.budget.cap.epsilon} (${fmt(spentEps)} already spent)`
    )
  }
  return ok
}

function safePlan(
  input: JobCheckInput,
  s: JobSummary,
  columns: StatsColumn[],
  features: number,
  delta: number
): PrivacyPlan | { code: string; reason: string } {
  try {
    return (input.planner ?? planJobPrivacy)(s, { columns, features, rows: input.trainRows, delta })
  } catch (err) {
    if (isCohortError(err)) return { code: err.code, reason: err.message }
    throw err
  }
}
