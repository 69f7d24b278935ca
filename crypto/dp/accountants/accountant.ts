import type { DpEvent } from '../events.ts'

/**
 * Who counts as a neighbouring dataset (Google dp_accounting `NeighboringRelation`). Sensitivities in
 * events are measured under this relation.
 *
 * @example
 * createRdpAccountant({ relation: 'replace-one' })
 */
export type NeighboringRelation = 'add-remove-one' | 'replace-one'

/**
 * A privacy accountant: composes DP events and reports (epsilon, delta). Immutable: `compose`
 * returns a new accountant and leaves this one as it was, so a caller can try an event on a copy
 * and keep the old state if the result is over budget.
 *
 * Contract (dp_accounting `PrivacyAccountant`): `supports(e)` is a dry run of `compose(e)`;
 * `compose` throws `UnsupportedEventError` *before* changing anything; `ledger` lists everything
 * composed so far, in order.
 *
 * @example
 * const acc = createRdpAccountant().compose(poissonSampledEvent(0.01, gaussianEvent(1.1)), 1000)
 * acc.epsilon(1e-5)
 */
export interface Accountant {
  readonly relation: NeighboringRelation
  /** Events composed so far; an event composed `count > 1` times appears as one `self-composed`. */
  readonly ledger: readonly DpEvent[]
  /** True when this accountant can account for `event` (false for unknown or malformed events). */
  supports(event: DpEvent): boolean
  /** A new accountant with `event` composed `count` times (default 1). */
  compose(event: DpEvent, count?: number): Accountant
  /** The smallest epsilon this accountant can certify at `delta`. */
  epsilon(delta: number): number
}
