import { commit, createBudget, parseBudget, release, reserve, spent } from '../../crypto/dp/budget.ts'
import type { BudgetCap, BudgetState } from '../../crypto/dp/budget.ts'
import { BudgetExhaustedError } from '../../crypto/dp/errors.ts'
import type { DpEvent } from '../../crypto/dp/events.ts'
import type { AuditLog } from '../../platform/audit/audit-log.ts'
import type { NodeStore } from '../../platform/storage/db.ts'

/** What a budget is kept for: one dataset and one purpose. */
export interface BudgetScope {
  dataset: string
  /** @default 'training' */
  purpose?: string
}

export interface LedgerReservation {
  readonly scope: BudgetScope
  readonly id: string
}

export interface ScopeReport {
  scope: BudgetScope
  cap: BudgetCap
  spent: { epsilon: number; delta: number }
  /** Epsilon if every pending reservation were committed too. */
  pendingEpsilon: number
  reserved: number
  exhausted: boolean
  events: number
}

export interface LedgerContext {
  actor?: string
  jobId?: string
  round?: number
}

/** The node's persistent privacy ledger (style.md C2), one budget state per scope. */
export interface Ledger {
  reserve(scope: BudgetScope, id: string, event: DpEvent, ctx?: LedgerContext): Promise<LedgerReservation>
  commit(reservation: LedgerReservation, ctx?: LedgerContext): Promise<void>
  release(reservation: LedgerReservation, ctx?: LedgerContext): Promise<void>
  report(scope: BudgetScope): Promise<ScopeReport>
  list(): Promise<ScopeReport[]>
}

function scopeKey(scope: BudgetScope): string {
  return `${scope.dataset}/${scope.purpose ?? 'training'}`
}

function parseScope(key: string): BudgetScope {
  const i = key.lastIndexOf('/')
  return { dataset: key.slice(0, i), purpose: key.slice(i + 1) }
}

/**
 * Creates the ledger over a node store. Every state change is written in one LevelDB batch with its
 * audit entry, so the ledger and the audit log can never disagree about what was spent. Operations
 * are serialised, so two rounds cannot both fit under a cap that only one fits under.
 *
 * `capFor` gives the policy's current cap. A scope's stored cap can only go down: when the policy
 * lowers its cap the lower one applies from then on, and raising the policy never revives a scope,
 * because an exhausted scope stays exhausted (OpenDP's privacy filter).
 */
export function createLedger(
  store: NodeStore,
  audit: AuditLog,
  capFor: (scope: BudgetScope) => BudgetCap
): Ledger {
  let tail: Promise<unknown> = Promise.resolve()
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn)
    tail = run.catch(() => undefined)
    return run
  }

  async function load(scope: BudgetScope): Promise<BudgetState> {
    const stored = await store.ledger.get(scopeKey(scope))
    const policy = capFor(scope)
    if (stored === undefined) return createBudget(policy)
    const state = parseBudget(stored)
    if (policy.epsilon < state.cap.epsilon || policy.delta < state.cap.delta) {
      return parseBudget({
        ...state,
        cap: {
          epsilon: Math.min(policy.epsilon, state.cap.epsilon),
          delta: Math.min(policy.delta, state.cap.delta)
        }
      })
    }
    return state
  }

  function put(scope: BudgetScope, state: BudgetState) {
    return {
      type: 'put' as const,
      sublevel: store.ledger,
      key: scopeKey(scope),
      value: JSON.parse(JSON.stringify(state)) as unknown
    }
  }

  function toReport(scope: BudgetScope, state: BudgetState): ScopeReport {
    return {
      scope,
      cap: state.cap,
      spent: spent(state),
      pendingEpsilon: spent(state, { includeReserved: true }).epsilon,
      reserved: state.reserved.length,
      exhausted: state.exhausted,
      events: state.events.length
    }
  }

  return {
    reserve(scope, id, event, ctx = {}) {
      return serial(async () => {
        const before = await load(scope)
        let after: BudgetState
        try {
          after = reserve(before, id, event)
        } catch (err) {
          if (err instanceof BudgetExhaustedError && err.state !== undefined && !before.exhausted) {
            await audit.append(
              'budget-exhausted',
              { scope, reservation: id, jobId: ctx.jobId, cap: before.cap, spent: spent(before) },
              {
                actor: ctx.actor ?? 'node',
                round: ctx.round ?? null,
                with: [put(scope, err.state as BudgetState)]
              }
            )
          }
          throw err
        }
        await audit.append(
          'budget-reserved',
          {
            scope,
            reservation: id,
            jobId: ctx.jobId,
            event,
            pendingEpsilon: spent(after, { includeReserved: true }).epsilon
          },
          { actor: ctx.actor ?? 'node', round: ctx.round ?? null, with: [put(scope, after)] }
        )
        return { scope, id }
      })
    },
    commit(res, ctx = {}) {
      return serial(async () => {
        const after = commit(await load(res.scope), res.id)
        await audit.append(
          'budget-committed',
          { scope: res.scope, reservation: res.id, jobId: ctx.jobId, spent: spent(after) },
          { actor: ctx.actor ?? 'node', round: ctx.round ?? null, with: [put(res.scope, after)] }
        )
      })
    },
    release(res, ctx = {}) {
      return serial(async () => {
        const after = release(await load(res.scope), res.id)
        await audit.append(
          'budget-released',
          { scope: res.scope, reservation: res.id, jobId: ctx.jobId },
          { actor: ctx.actor ?? 'node', round: ctx.round ?? null, with: [put(res.scope, after)] }
        )
      })
    },
    async report(scope) {
      await tail
      return toReport(scope, await load(scope))
    },
    async list() {
      await tail
      const out: ScopeReport[] = []
      for await (const key of store.ledger.keys()) {
        const scope = parseScope(key)
        out.push(toReport(scope, await load(scope)))
      }
      return out
    }
  }
}
