/**
 * A node's decision on a vertical job offer: the same policy rules as a horizontal job
 * (node/jobs/job-check.ts), in a fixed order so the reason shown is the first rule the job breaks:
 * coordinator, federation, dataset, number of parties, label, id column, features, noise floor, ε cap
 * (a dry run of the job's target ε on the ledger). Pure: the caller loads policy, schema and ledger.
 */
import { reserve } from '../../crypto/dp/budget.ts'
import type { BudgetState } from '../../crypto/dp/budget.ts'
import { BudgetExhaustedError } from '../../crypto/dp/errors.ts'
import { DECLINE } from '../../protocols/training/wire.ts'
import type { VerticalJobSummary } from '../../protocols/vertical/job-wire.ts'
import type { DatasetSchema } from '../data/schema.ts'
import { featureLayout } from '../data/schema.ts'
import { featureAllowed } from '../jobs/dataset-policy.ts'
import type { EffectivePolicy } from '../jobs/dataset-policy.ts'
import { epsilonEvent } from './charge.ts'
import { checkDatasetAccess } from '../jobs/job-access.ts'

/**
 * The decision.
 * @example
 * const d = checkVerticalJob(input); if (!d.ok) decline(d.code, d.reason)
 */
export type VerticalCheck =
  | { ok: true; features: string[]; idColumn: string; epsilon: number | null }
  | { ok: false; code: string; reason: string }

/**
 * What the check needs.
 * @example
 * checkVerticalJob({ summary, policy, federation, coordinator, schema, budget })
 */
export interface VerticalCheckInput {
  summary: VerticalJobSummary
  policy: EffectivePolicy
  federation: string
  coordinator: { peerId: string; org?: string }
  schema: DatasetSchema | undefined
  /** The dataset's ledger state (dry run of the job's ε), or null to skip it. */
  budget: BudgetState | null
}

const no = (code: string, reason: string): VerticalCheck => ({ ok: false, code, reason })

/**
 * Checks a vertical job against the node's policy.
 * @example
 * const d = checkVerticalJob({ summary, policy: effectivePolicy(p, summary.dataset), ... })
 */
export function checkVerticalJob(input: VerticalCheckInput): VerticalCheck {
  const { summary: s, policy: p, schema } = input
  const ds = s.dataset
  const c = input.coordinator
  const access = checkDatasetAccess({ dataset: ds, policy: p, federation: input.federation, coordinator: c })
  if (access !== undefined) return no(access.code, access.reason)
  if (schema === undefined) return no(DECLINE.unknownDataset, `this node has no dataset named ${ds}`)
  if (s.parties.length < p.minParticipants)
    return no(
      DECLINE.minParticipants,
      `the job has ${s.parties.length} parties; dataset ${ds} requires at least ${p.minParticipants}`
    )
  if (s.role === 'label' && s.model === 'logreg' && schema.target === undefined)
    return no(DECLINE.model, `dataset ${ds} has no target column, so this node cannot hold the job's label`)
  const idColumn = s.idColumn ?? schema.id
  const id = schema.columns.find((x) => x.name === idColumn)
  if (id === undefined || id.kind !== 'id')
    return no(DECLINE.features, `dataset ${ds} has no id column ${idColumn} to align customers on`)

  const layout = featureLayout(schema)
  const wanted = s.features ?? layout.map((f) => f.name)
  const features: string[] = []
  const unknown: string[] = []
  for (const f of wanted) {
    const hits = layout.filter((x) => x.name === f || x.column === f)
    if (hits.length === 0) unknown.push(f)
    for (const h of hits) if (!features.includes(h.name)) features.push(h.name)
  }
  if (unknown.length > 0)
    return no(DECLINE.features, `dataset ${ds} has no feature ${unknown.slice(0, 5).join(', ')}`)
  if (features.length === 0) return no(DECLINE.features, `the job selects no feature of dataset ${ds}`)
  const byName = new Map(layout.map((f) => [f.name, f]))
  const refused = features.filter((f) => !featureAllowed(p, f, byName.get(f)!.column))
  if (refused.length > 0)
    return no(
      DECLINE.features,
      `the policy of dataset ${ds} does not allow feature${refused.length > 1 ? 's' : ''} ${refused.slice(0, 5).join(', ')}`
    )

  const floor = p.minNoiseMultiplier
  if (s.dp === null) {
    if (floor > 0)
      return no(
        DECLINE.noiseFloor,
        `the job adds no noise (no DP); dataset ${ds} requires a noise multiplier of at least ${floor}`
      )
    return { ok: true, features, idColumn, epsilon: null }
  }
  if (s.dp.noiseMultiplier !== undefined && s.dp.noiseMultiplier < floor)
    return no(
      DECLINE.noiseFloor,
      `the job's noise multiplier ${s.dp.noiseMultiplier} is below dataset ${ds}'s floor ${floor}`
    )
  if (s.dp.delta > p.delta)
    return no(DECLINE.epsilonCap, `the job's δ = ${s.dp.delta} is above dataset ${ds}'s δ = ${p.delta}`)
  const epsilon = s.dp.epsilon ?? null
  if (epsilon === null || input.budget === null) return { ok: true, features, idColumn, epsilon }
  if (input.budget.exhausted)
    return no(DECLINE.budgetExhausted, `the privacy budget of dataset ${ds} is exhausted`)
  try {
    reserve(input.budget, 'vertical-job-check', epsilonEvent(epsilon, input.budget.cap.delta))
  } catch (err) {
    if (!(err instanceof BudgetExhaustedError)) throw err
    return no(
      DECLINE.epsilonCap,
      `the job needs ε = ${epsilon} on dataset ${ds}, whose cap is ε = ${input.budget.cap.epsilon} at δ = ${input.budget.cap.delta}`
    )
  }
  return { ok: true, features, idColumn, epsilon }
}
