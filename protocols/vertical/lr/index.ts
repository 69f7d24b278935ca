/**
 * Vertical logistic regression (two-key CKKS, linearized sigmoid). See README.md in
 * protocols/vertical for the protocol and what each party learns.
 */
export type { VerticalEvalMetrics, VerticalLrModel } from './common.ts'
export type { VerticalLrApproximation } from './linearization.ts'
export * from './errors.ts'
export { runVerticalLrFeature } from './feature.ts'
export type { VerticalLrFeatureContext } from './feature.ts'
export { runVerticalLrLabel } from './label.ts'
export type { VerticalLrLabelContext, VerticalLrLabelResult } from './label.ts'
export { VLR_FEATURE_PHASES, VLR_FEATURE_TRANSITIONS } from './machine.ts'
export { MAX_VLR_BATCH, resolveDp, vlrEpsilon } from './options.ts'
export type { VerticalLrDpPlan, VerticalLrOptions, VerticalLrPlan } from './options.ts'
export { scoreVerticalLabel, serveVerticalScores } from './scoring.ts'
