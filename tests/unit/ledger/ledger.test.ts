import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { gaussianEvent, poissonSampledEvent, selfComposedEvent } from '../../../crypto/dp/events.ts'
import { createAuditLog } from '../../../platform/audit/audit-log.ts'
import { createLedger } from '../../../node/ledger/ledger.ts'
import type { BudgetScope } from '../../../node/ledger/ledger.ts'
import { openNodeStore } from '../../../platform/storage/db.ts'
import { memoryNode } from '../../helpers/memory-node.ts'

const scope: BudgetScope = { dataset: 'credit' }
// One DP-SGD epoch-ish step block: enough that a handful of them exhaust a cap of 1.
const round = selfComposedEvent(poissonSampledEvent(0.05, gaussianEvent(1.2)), 10)

describe('privacy ledger', () => {
  it('reserve and commit write the state and an audit entry together', async () => {
    const { store, audit } = await memoryNode()
    const ledger = createLedger(store, audit, () => ({ epsilon: 5, delta: 1e-5 }))
    const r = await ledger.reserve(scope, 'job1/r1', round, { jobId: 'job1', round: 1 })
    let rep = await ledger.report(scope)
    expect(rep).toMatchObject({ reserved: 1, events: 0, exhausted: false })
    expect(rep.spent.epsilon).toBe(0)
    expect(rep.pendingEpsilon).toBeGreaterThan(0)
    await ledger.commit(r, { jobId: 'job1', round: 1 })
    rep = await ledger.report(scope)
    expect(rep).toMatchObject({ reserved: 0, events: 1 })
    expect(rep.spent.epsilon).toBeGreaterThan(0)
    const kinds = (await audit.read()).map((e) => e.kind)
    expect(kinds).toEqual(['budget-reserved', 'budget-committed'])
    expect((await audit.verify()).ok).toBe(true)
  })

  it('refuses past the cap, marks the scope exhausted for good, and it stays so after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cohort-ledger-'))
    try {
      const { signer } = await memoryNode()
      let store = await openNodeStore(dir)
      let ledger = createLedger(store, createAuditLog(store, signer), () => ({ epsilon: 2, delta: 1e-5 }))
      let refusedAt = -1
      for (let i = 0; i < 50; i++) {
        try {
          await ledger.commit(await ledger.reserve(scope, `r${i}`, round))
        } catch (err) {
          expect((err as { code: string }).code).toBe('COHORT_BUDGET_EXHAUSTED')
          refusedAt = i
          break
        }
      }
      // eps after 1, 2, 3, 4 such rounds: 1.43, 1.65, 1.87, 2.01 -> the fourth is refused
      expect(refusedAt).toBe(3)
      const rep = await ledger.report(scope)
      expect(rep.exhausted).toBe(true)
      expect(rep.spent.epsilon).toBeLessThanOrEqual(2)
      await store.close()

      // Restart with a *higher* policy cap: still exhausted, even for a tiny event.
      store = await openNodeStore(dir)
      const audit = createAuditLog(store, signer)
      ledger = createLedger(store, audit, () => ({ epsilon: 100, delta: 1e-5 }))
      await expect(ledger.reserve(scope, 'tiny', gaussianEvent(1000))).rejects.toMatchObject({
        code: 'COHORT_BUDGET_EXHAUSTED'
      })
      expect((await ledger.report(scope)).cap.epsilon).toBe(2)
      const kinds = (await audit.read()).map((e) => e.kind)
      expect(kinds.filter((k) => k === 'budget-exhausted')).toHaveLength(1)
      expect((await audit.verify()).ok).toBe(true)
      await store.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('a lowered policy cap applies at once; other scopes are independent', async () => {
    const { store, audit } = await memoryNode()
    let cap = 10
    const ledger = createLedger(store, audit, () => ({ epsilon: cap, delta: 1e-5 }))
    await ledger.commit(await ledger.reserve(scope, 'a', round))
    cap = 0.01
    await expect(ledger.reserve(scope, 'b', round)).rejects.toMatchObject({ code: 'COHORT_BUDGET_EXHAUSTED' })
    cap = 10
    const other = await ledger.reserve({ dataset: 'churn' }, 'c', round)
    await ledger.release(other)
    expect((await ledger.list()).map((r) => [r.scope.dataset, r.exhausted])).toEqual([
      ['churn', false],
      ['credit', true]
    ])
  })

  it('never exceeds the cap under random concurrent reserve/commit/release sequences', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            op: fc.constantFrom('commit', 'release'),
            sigma: fc.double({ min: 0.6, max: 5, noNaN: true })
          }),
          {
            minLength: 1,
            maxLength: 25
          }
        ),
        async (ops) => {
          const { store, audit } = await memoryNode()
          const ledger = createLedger(store, audit, () => ({ epsilon: 2, delta: 1e-5 }))
          await Promise.all(
            ops.map(async ({ op, sigma }, i) => {
              try {
                const r = await ledger.reserve(scope, `r${i}`, selfComposedEvent(gaussianEvent(sigma), 3))
                await (op === 'commit' ? ledger.commit(r) : ledger.release(r))
              } catch (err) {
                expect((err as { code: string }).code).toBe('COHORT_BUDGET_EXHAUSTED')
              }
            })
          )
          const rep = await ledger.report(scope)
          expect(rep.spent.epsilon).toBeLessThanOrEqual(2)
          expect(rep.reserved).toBe(0)
        }
      ),
      { numRuns: 40 }
    )
  })
})
