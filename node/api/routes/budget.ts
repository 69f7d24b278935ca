import { Hono } from 'hono'
import { createLedger } from '../../ledger/ledger.ts'
import type { Ledger } from '../../ledger/ledger.ts'
import { budgetCapFor } from '../../jobs/dataset-policy.ts'
import { readPolicy } from '../../policy/policy-store.ts'
import type { AdminContext } from '../context.ts'

/**
 * `GET /` the privacy ledger: for every (dataset, purpose) scope its cap, the epsilon spent, what
 * pending reservations would bring it to, and whether it is exhausted. Read-only, for data owners
 * and regulators.
 *
 * @example
 * app.route('/v1/budget', budgetRoutes(ctx))
 */
export function budgetRoutes(ctx: AdminContext): Hono {
  const { home, node } = ctx
  return new Hono().get('/', async (c) => {
    let ledger: Ledger
    if (node !== undefined) ledger = node.participants.ledger
    else {
      const policy = await readPolicy(home.store, home.config.policy)
      ledger = createLedger(
        home.store,
        home.audit,
        budgetCapFor(() => policy)
      )
    }
    return c.json({ scopes: await ledger.list() })
  })
}
