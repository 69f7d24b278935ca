import type { NodePolicy } from '../../configs/node-config.ts'
import type { BudgetCap } from '../../crypto/dp/budget.ts'
import type { BudgetScope } from '../ledger/ledger.ts'

/**
 * The policy that applies to one dataset: the node-wide values with the dataset's own overrides
 * (configs/node-config.ts `datasets`).
 *
 * @example
 * const p = effectivePolicy(policy, 'credit_data') // p.epsilonCap, p.allowedFeatures, ...
 */
export interface EffectivePolicy {
  readonly federations: readonly string[]
  /** Org names or peer ids; undefined = any coordinator of the manifest. */
  readonly coordinators?: readonly string[]
  /** Column or encoded feature names; undefined = every feature. */
  readonly allowedFeatures?: readonly string[]
  readonly epsilonCap: number
  readonly delta: number
  readonly minNoiseMultiplier: number
  readonly minParticipants: number
  readonly allowPlaintext: boolean
}

/**
 * The effective policy of `dataset`.
 *
 * @example
 * effectivePolicy(policy, 'credit_data').epsilonCap // the dataset's cap, else the node's
 */
export function effectivePolicy(policy: NodePolicy, dataset: string): EffectivePolicy {
  const d = Object.hasOwn(policy.datasets ?? {}, dataset) ? policy.datasets[dataset]! : {}
  const out: EffectivePolicy = {
    federations: d.federations ?? policy.federations,
    epsilonCap: d.epsilonCap ?? policy.epsilonCap,
    delta: d.delta ?? policy.delta,
    minNoiseMultiplier: d.minNoiseMultiplier ?? policy.minNoiseMultiplier,
    minParticipants: d.minParticipants ?? policy.minParticipants,
    allowPlaintext: d.allowPlaintext ?? policy.allowPlaintext
  }
  return {
    ...out,
    ...(d.coordinators === undefined ? {} : { coordinators: d.coordinators }),
    ...(d.allowedFeatures === undefined ? {} : { allowedFeatures: d.allowedFeatures })
  }
}

/**
 * The ledger's `capFor` from a live policy: each scope's cap is its dataset's effective (ε, δ).
 * The node passes it to `createLedger`, so a lowered cap applies at the next reservation.
 *
 * @example
 * const ledger = createLedger(store, audit, budgetCapFor(() => currentPolicy))
 */
export function budgetCapFor(policy: () => NodePolicy): (scope: BudgetScope) => BudgetCap {
  return (scope) => {
    const p = effectivePolicy(policy(), scope.dataset)
    return { epsilon: p.epsilonCap, delta: p.delta }
  }
}

/**
 * Whether an encoded feature (`Home=owner`) of column `column` is allowed: its own name or its
 * column's is in the allow-list (no allow-list = allowed).
 *
 * @example
 * featureAllowed(policy, 'Home=owner', 'Home')
 */
export function featureAllowed(p: EffectivePolicy, feature: string, column: string): boolean {
  return (
    p.allowedFeatures === undefined ||
    p.allowedFeatures.includes(feature) ||
    p.allowedFeatures.includes(column)
  )
}

/**
 * Fewest parties a SecAgg+ round may aggregate this node's summand over: the `minParticipants` of
 * the dataset the summand came from (as the policy is now) and of the job it was released for
 * (whose distributed noise assumes that many shares); the node-wide value for a round with no
 * known summand. The SecAgg participant refuses announcements below it.
 *
 * @example
 * registerSecaggParticipant(transport, { ..., minParticipants: (id) => secaggFloor(policy(), stash.roundOf(id)) })
 */
export function secaggFloor(
  policy: NodePolicy,
  round: { dataset: string; minParticipants: number } | undefined
): number {
  if (round === undefined) return policy.minParticipants
  return Math.max(effectivePolicy(policy, round.dataset).minParticipants, round.minParticipants)
}
