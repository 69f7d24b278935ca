import { CKKS_8192 } from '../../../crypto/he/presets.ts'
import type { VerticalParty, VerticalPartyContext } from '../types.ts'
import { VerticalLrPlanError } from './errors.ts'

/** The HE preset of vertical LR. */
export const VLR_HE_PRESET = CKKS_8192.id

/** The trained model a party keeps. */
export interface VerticalLrModel {
  kind: 'vertical-logreg'
  /** This party's own feature names (never sent to another party). */
  featureNames: string[]
  /** This party's own weights, in featureNames order. */
  weights: number[]
  /** Label party only. */
  intercept?: number
  role: 'label' | 'feature'
  sessionId: string
  /**
   * DP runs: rows were clipped to this L2 norm in training (the label party's rows [x | 1], the
   * intercept's column included); scoring clips the same way.
   */
  clipNorm?: number
}

/** Test metrics at the label party. */
export interface VerticalEvalMetrics {
  auc: number
  ks: number
  logLoss: number
  accuracy: number
  n: number
}

/** Who is who in a session, checked once. */
export interface Roles {
  self: VerticalParty
  label: VerticalParty
  features: VerticalParty[]
}

/**
 * Finds this party, the label party and the feature parties; checks the party list.
 *
 * @throws VerticalLrPlanError for an empty list, duplicate peers, not exactly one label party, or a
 *   transport that is not one of the parties
 */
export function rolesOf(ctx: Pick<VerticalPartyContext, 'parties' | 'transport'>): Roles {
  const parties = ctx.parties
  if (!Array.isArray(parties) || parties.length < 2)
    throw new VerticalLrPlanError('a vertical session needs a label party and at least one feature party')
  if (new Set(parties.map((p) => p.peer)).size !== parties.length)
    throw new VerticalLrPlanError('every party must have its own peer')
  const labels = parties.filter((p) => p.role === 'label')
  if (labels.length !== 1)
    throw new VerticalLrPlanError(`exactly one label party is needed, got ${labels.length}`)
  const self = parties.find((p) => p.peer === ctx.transport.self)
  if (self === undefined)
    throw new VerticalLrPlanError(`${ctx.transport.self} is not a party of this session`)
  return { self, label: labels[0]!, features: parties.filter((p) => p.role === 'feature') }
}

/** Checks a slice's shape. */
export function checkSlice(slice: VerticalPartyContext['slice'], needsLabels: boolean): void {
  if (
    !Number.isSafeInteger(slice.rows) ||
    slice.rows < 1 ||
    !Number.isSafeInteger(slice.cols) ||
    slice.cols < 1
  )
    throw new VerticalLrPlanError('the slice needs at least one row and one column')
  if (slice.x.length !== slice.rows * slice.cols)
    throw new VerticalLrPlanError(`slice.x has ${slice.x.length} values, expected rows × cols`)
  if (slice.featureNames.length !== slice.cols)
    throw new VerticalLrPlanError('one feature name per column is needed')
  for (const v of slice.x) if (!Number.isFinite(v)) throw new VerticalLrPlanError('slice.x must be finite')
  if (needsLabels) {
    if (slice.y === undefined || slice.y.length !== slice.rows)
      throw new VerticalLrPlanError('the label party slice needs one 0/1 label per row')
    for (const y of slice.y) if (y !== 0 && y !== 1) throw new VerticalLrPlanError('labels must be 0 or 1')
  }
}

/** Logistic function. */
export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z))
}
