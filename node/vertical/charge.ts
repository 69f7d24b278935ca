/**
 * The ledger behind a vertical party's `charge` hook (protocols/vertical/types.ts): a protocol
 * announces each DP release as (ε, δ, mechanism) and the node reserves and commits it on its privacy
 * ledger before the release leaves, booked as the DP event the protocol names (exact RDP composition
 * with the node's other releases). {@link epsilonEvent} is only for the offer-time dry run of a job
 * announced by its total ε: one pure-DP stand-in whose ledger ε is at least that total.
 */
import { composeAll } from '../../crypto/dp/budget.ts'
import { laplaceEvent, validateEvent } from '../../crypto/dp/events.ts'
import type { DpEvent } from '../../crypto/dp/events.ts'
import type { VerticalCharge } from '../../protocols/vertical/types.ts'
import type { BudgetScope, Ledger } from '../ledger/ledger.ts'
import { VerticalDataError } from './errors.ts'

const memo = new Map<string, DpEvent>()

/**
 * The ledger event booked for an (ε, δ)-DP release when the ledger reads ε at `capDelta`.
 *
 * @example
 * composeAll([epsilonEvent(1, 1e-5)]).epsilon(1e-5) // ≥ 1, within 0.1%
 */
export function epsilonEvent(epsilon: number, capDelta: number): DpEvent {
  if (!(epsilon > 0 && Number.isFinite(epsilon)))
    throw new VerticalDataError(`a DP release must announce a finite ε > 0, got ${epsilon}`)
  const key = `${epsilon}/${capDelta}`
  const known = memo.get(key)
  if (known !== undefined) return known
  const eps = (lambda: number) => composeAll([laplaceEvent(lambda)]).epsilon(capDelta)
  // The ledger ε falls as the Laplace scale grows: bisect (on log scale) for the largest scale whose
  // ε still reaches the announced one.
  let lo = Math.log(1e-6)
  let hi = Math.log(1e6)
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2
    if (eps(Math.exp(mid)) >= epsilon) lo = mid
    else hi = mid
  }
  const event = laplaceEvent(Math.exp(lo))
  if (memo.size > 256) memo.delete(memo.keys().next().value!)
  memo.set(key, event)
  return event
}

/**
 * A `charge` hook over the node's ledger for one job.
 *
 * @example
 * const charge = ledgerCharge({ ledger, scope: trainingScope('credit'), jobId, actor: coordinator, capDelta: 1e-5 })
 */
export function ledgerCharge(o: {
  ledger: Ledger
  scope: BudgetScope
  jobId: string
  actor: string
  /** The policy's δ: a release announcing a larger δ is refused. */
  capDelta: number
  /** Called after each committed charge (total ε announced so far). */
  onCharged?: (total: { epsilon: number; releases: number }) => void
}): VerticalCharge {
  let releases = 0
  let total = 0
  return async ({ epsilon, delta, mechanism, event }) => {
    if (!(delta >= 0 && delta <= o.capDelta))
      throw new VerticalDataError(
        `the ${mechanism} release announces δ = ${delta}, above the policy's δ = ${o.capDelta}`
      )
    const id = `${o.jobId}/vertical/${++releases}`
    const ctx = { actor: o.actor, jobId: o.jobId }
    const r = await o.ledger.reserve(o.scope, id, validateEvent(event), ctx)
    await o.ledger.commit(r, ctx)
    total += epsilon
    o.onCharged?.({ epsilon: total, releases })
  }
}
