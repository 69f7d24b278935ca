/**
 * Property: for random n, k, t and random dropout schedules (any party, any phase), a round either
 * returns exactly Σ x_u mod 2^k over the parties whose masked inputs it used, or aborts with
 * COHORT_SECAGG_BELOW_THRESHOLD; it never returns a wrong sum or fails otherwise. Without dropouts
 * it always completes.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { ringAddInPlace, ringZeros } from '../../crypto/ring.ts'
import { SECAGG_PHASES } from '../../protocols/secagg/phases.ts'
import type { SecaggPhase } from '../../protocols/secagg/phases.ts'
import { runDirectRound } from '../../simulations/secagg-direct.ts'
import type { DirectParty } from '../../simulations/secagg-direct.ts'
import { seededInput } from '../../simulations/secagg-federation.ts'
import { makeParties } from '../helpers/secagg-fixture.ts'

let pool: DirectParty[]
beforeAll(async () => {
  pool = await makeParties(12)
})

const scenario = fc
  .record({
    n: fc.integer({ min: 3, max: 12 }),
    kFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    ringBits: fc.constantFrom(32, 16, 48),
    drops: fc.array(fc.record({ who: fc.nat(), phase: fc.constantFrom(...SECAGG_PHASES) }), { maxLength: 6 })
  })
  .map(({ n, kFrac, ringBits, drops }) => {
    const k = Math.max(2, Math.min(n - 1, 2 + Math.floor(kFrac * (n - 2))))
    // More than half of the largest holder set (k + 2 for near-regular graphs), at most k + 1.
    const t = Math.min(k + 1, Math.floor((k + 2) / 2) + 1)
    return { n, k, t, ringBits, drops: drops.map((d) => ({ who: d.who % n, phase: d.phase })) }
  })

describe('secagg rounds under random dropouts', () => {
  it('return the exact ring sum of the used inputs or abort below threshold', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ n, k, t, ringBits, drops }) => {
        const parties = pool.slice(0, n)
        const d = 9
        const inputs = new Map(parties.map((p, i) => [p.peerId, seededInput('prop', i, d, ringBits)]))
        const dropAt = new Map<string, SecaggPhase>()
        for (const x of drops)
          if (!dropAt.has(parties[x.who]!.peerId)) dropAt.set(parties[x.who]!.peerId, x.phase)
        const out = await runDirectRound({
          jobId: 'prop',
          round: 1,
          parties,
          inputs,
          t,
          k,
          ringBits,
          d,
          dropAt
        })
        expect(out.refusals).toEqual([])
        if (out.error !== undefined) {
          expect(dropAt.size).toBeGreaterThan(0)
          expect(out.error.code).toBe('COHORT_SECAGG_BELOW_THRESHOLD')
          return
        }
        const { sum, survivors } = out.result!
        for (const s of survivors) {
          const at = dropAt.get(s)
          expect(at === undefined || at === 'consistency-check' || at === 'unmask').toBe(true)
        }
        const expected = ringZeros(d, ringBits)
        for (const s of survivors) ringAddInPlace(expected, inputs.get(s)!, ringBits)
        expect([...sum]).toEqual([...expected])
      }),
      { numRuns: 40 }
    )
  })
})
