import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type BudgetState, commit, createBudget, release, reserve, spent } from '../../crypto/dp/budget.ts'
import { BudgetExhaustedError } from '../../crypto/dp/errors.ts'
import {
  type DpEvent,
  discreteGaussianEvent,
  gaussianEvent,
  laplaceEvent,
  poissonSampledEvent
} from '../../crypto/dp/events.ts'

// Random events whose single cost ranges from negligible to above the cap.
const eventArb: fc.Arbitrary<DpEvent> = fc.oneof(
  fc.double({ min: 0.3, max: 20, noNaN: true }).map((z) => gaussianEvent(z)),
  fc.double({ min: 0.5, max: 50, noNaN: true }).map((z) => laplaceEvent(z)),
  fc
    .tuple(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 20 }))
    .map(([sigma, sensitivity]) => discreteGaussianEvent({ sigma, sensitivity })),
  fc
    .tuple(fc.double({ min: 0.001, max: 0.2, noNaN: true }), fc.double({ min: 0.5, max: 3, noNaN: true }))
    .map(([q, z]) => poissonSampledEvent(q, gaussianEvent(z)))
)

type Op =
  | { op: 'reserve'; id: number; event: DpEvent }
  | { op: 'commit'; id: number }
  | { op: 'release'; id: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('reserve' as const),
      id: fc.integer({ min: 0, max: 7 }),
      event: eventArb
    }),
    weight: 3
  },
  {
    arbitrary: fc.record({ op: fc.constant('commit' as const), id: fc.integer({ min: 0, max: 7 }) }),
    weight: 2
  },
  {
    arbitrary: fc.record({ op: fc.constant('release' as const), id: fc.integer({ min: 0, max: 7 }) }),
    weight: 1
  }
)

describe('budget (property)', () => {
  it('never exceeds its cap, and an exhausted scope stays exhausted', () => {
    // Coverage counters: the property must see both granted and refused reservations.
    let granted = 0
    let refused = 0
    fc.assert(
      fc.property(
        fc.record({
          epsilon: fc.double({ min: 0.1, max: 10, noNaN: true }),
          delta: fc.constantFrom(1e-5, 1e-7)
        }),
        fc.array(opArb, { minLength: 1, maxLength: 30 }),
        (cap, ops) => {
          let s: BudgetState = createBudget(cap)
          for (const o of ops) {
            const wasExhausted = s.exhausted
            const id = `r${o.id}`
            try {
              if (o.op === 'reserve') s = reserve(s, id, o.event)
              else if (o.op === 'commit') s = commit(s, id)
              else s = release(s, id)
              // A reservation never succeeds on an exhausted scope.
              if (o.op === 'reserve') {
                expect(wasExhausted).toBe(false)
                granted++
              }
            } catch (err) {
              if (err instanceof BudgetExhaustedError) {
                expect(o.op).toBe('reserve')
                s = err.state as BudgetState
                refused++
                expect(s.exhausted).toBe(true)
              } else {
                // Only id misuse may fail otherwise; the state is unchanged.
                expect((err as { code?: string }).code).toBe('COHORT_BUDGET_RESERVATION')
              }
            }
            if (wasExhausted) expect(s.exhausted).toBe(true)
            expect(spent(s, { includeReserved: true }).epsilon).toBeLessThanOrEqual(cap.epsilon)
          }
        }
      ),
      { numRuns: 150 }
    )
    expect(granted).toBeGreaterThan(50)
    expect(refused).toBeGreaterThan(20)
  })
})
