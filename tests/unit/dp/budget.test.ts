import { describe, expect, it } from 'vitest'
import {
  type BudgetState,
  commit,
  composeAll,
  createBudget,
  parseBudget,
  release,
  reserve,
  spent
} from '../../../crypto/dp/budget.ts'
import { BudgetExhaustedError } from '../../../crypto/dp/errors.ts'
import {
  type DpEvent,
  gaussianEvent,
  laplaceEvent,
  NON_PRIVATE_EVENT,
  poissonSampledEvent
} from '../../../crypto/dp/events.ts'

const CAP = { epsilon: 3, delta: 1e-5 }
// One round of a sampled Gaussian; ~1.3 epsilon each for a handful, so the cap is reached quickly.
const ROUND: DpEvent = gaussianEvent(4)

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

describe('budget', () => {
  it('reserves, commits and releases', () => {
    let s = createBudget(CAP)
    s = reserve(s, 'a', ROUND)
    s = reserve(s, 'b', ROUND)
    expect(s.reserved.map((r) => r.id)).toEqual(['a', 'b'])
    expect(spent(s).epsilon).toBe(0)
    s = commit(s, 'a')
    s = release(s, 'b')
    expect(s.events).toEqual([ROUND])
    expect(s.reserved).toEqual([])
    expect(spent(s)).toEqual({ epsilon: composeAll([ROUND]).epsilon(CAP.delta), delta: CAP.delta })
    expect(spent(s).epsilon).toBeGreaterThan(0)
  })

  it('counts reservations against the cap, then refuses and stays exhausted for good', () => {
    let s = createBudget(CAP)
    let n = 0
    let refusal: unknown
    for (;;) {
      try {
        s = reserve(s, `r${n}`, ROUND)
        n++
      } catch (err) {
        refusal = err
        break
      }
    }
    expect(n).toBeGreaterThan(0)
    expect(refusal).toBeInstanceOf(BudgetExhaustedError)
    expect((refusal as BudgetExhaustedError).code).toBe('COHORT_BUDGET_EXHAUSTED')
    expect(spent(s, { includeReserved: true }).epsilon).toBeLessThanOrEqual(CAP.epsilon)
    const exhausted = (refusal as BudgetExhaustedError).state as BudgetState
    expect(exhausted.exhausted).toBe(true)
    expect(exhausted.reserved).toEqual(s.reserved)
    // Releasing everything frees budget, but the scope answers nothing more: even a tiny event is refused.
    let after = exhausted
    for (let i = 0; i < n; i++) after = release(after, `r${i}`)
    expect(after.exhausted).toBe(true)
    expect(codeOf(() => reserve(after, 'tiny', gaussianEvent(1000)))).toBe('COHORT_BUDGET_EXHAUSTED')
    // Earlier reservations can still be committed (their values were released before the refusal).
    expect(commit(exhausted, 'r0').events).toHaveLength(1)
  })

  it('a non-private event exhausts the scope', () => {
    const s = createBudget(CAP)
    expect(codeOf(() => reserve(s, 'x', NON_PRIVATE_EVENT))).toBe('COHORT_BUDGET_EXHAUSTED')
  })

  it('refuses duplicate and unknown reservation ids', () => {
    const s = reserve(createBudget(CAP), 'a', ROUND)
    expect(codeOf(() => reserve(s, 'a', ROUND))).toBe('COHORT_BUDGET_RESERVATION')
    expect(codeOf(() => reserve(s, '', ROUND))).toBe('COHORT_BUDGET_RESERVATION')
    expect(codeOf(() => commit(s, 'nope'))).toBe('COHORT_BUDGET_RESERVATION')
    expect(codeOf(() => release(s, 'nope'))).toBe('COHORT_BUDGET_RESERVATION')
  })

  it('refuses an event it cannot account for without exhausting the scope', () => {
    const s = createBudget(CAP)
    expect(codeOf(() => reserve(s, 'a', poissonSampledEvent(0.1, laplaceEvent(1))))).toBe(
      'COHORT_DP_UNSUPPORTED_EVENT'
    )
    expect(codeOf(() => reserve(s, 'a', { kind: 'gaussian' } as unknown as DpEvent))).toBe(
      'COHORT_DP_INVALID_EVENT'
    )
    expect(reserve(s, 'a', ROUND).exhausted).toBe(false)
  })

  it('is plain data: survives JSON and parseBudget', () => {
    let s = createBudget(CAP)
    s = reserve(s, 'a', poissonSampledEvent(0.01, gaussianEvent(1.1)))
    s = commit(s, 'a')
    s = reserve(s, 'b', ROUND)
    const back = parseBudget(JSON.parse(JSON.stringify(s)))
    expect(back).toEqual(s)
    expect(spent(back, { includeReserved: true })).toEqual(spent(s, { includeReserved: true }))
  })

  it('parseBudget rejects malformed states', () => {
    const good = JSON.parse(JSON.stringify(createBudget(CAP)))
    expect(codeOf(() => parseBudget({ ...good, exhausted: 'no' }))).toBe('COHORT_CRYPTO_ARGUMENT')
    expect(codeOf(() => parseBudget({ ...good, cap: { epsilon: -1, delta: 1e-5 } }))).toBe(
      'COHORT_CRYPTO_ARGUMENT'
    )
    expect(codeOf(() => parseBudget({ ...good, events: [{ kind: 'nope' }] }))).toBe('COHORT_DP_INVALID_EVENT')
    const dup = {
      ...good,
      reserved: [
        { id: 'a', event: ROUND },
        { id: 'a', event: ROUND }
      ]
    }
    expect(codeOf(() => parseBudget(dup))).toBe('COHORT_CRYPTO_ARGUMENT')
  })

  it('states are frozen', () => {
    const s = reserve(createBudget(CAP), 'a', ROUND)
    expect(Object.isFrozen(s)).toBe(true)
    expect(Object.isFrozen(s.reserved)).toBe(true)
    expect(Object.isFrozen(s.events)).toBe(true)
  })
})
