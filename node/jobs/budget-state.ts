import { createBudget, parseBudget } from '../../crypto/dp/budget.ts'
import type { BudgetCap, BudgetState } from '../../crypto/dp/budget.ts'
import type { NodeStore } from '../../platform/storage/db.ts'
import type { BudgetScope } from '../ledger/ledger.ts'

/**
 * The ledger scope a job's releases are charged to: the dataset's training budget.
 * @example
 * await ledger.reserve(trainingScope('credit_data'), id, event)
 */
export function trainingScope(dataset: string): BudgetScope {
  return { dataset, purpose: 'training' }
}

/**
 * A read-only copy of a scope's ledger state with the policy's current cap applied the way the
 * ledger applies it (the stored cap can only go down), for dry-run checks of a whole job before it
 * is accepted. Reads the row node/ledger/ledger.ts writes (`<dataset>/<purpose>` in the `ledger`
 * sublevel); the ledger itself stays the only writer.
 *
 * @example
 * const state = await readBudget(store, trainingScope('credit_data'), { epsilon: 1, delta: 1e-5 })
 */
export async function readBudget(store: NodeStore, scope: BudgetScope, cap: BudgetCap): Promise<BudgetState> {
  const stored = await store.ledger.get(`${scope.dataset}/${scope.purpose ?? 'training'}`)
  if (stored === undefined) return createBudget(cap)
  const state = parseBudget(stored)
  return parseBudget({
    ...state,
    cap: { epsilon: Math.min(cap.epsilon, state.cap.epsilon), delta: Math.min(cap.delta, state.cap.delta) }
  })
}
