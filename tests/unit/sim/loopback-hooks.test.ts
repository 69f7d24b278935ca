import { describe, expect, it } from 'vitest'
import type { FaultPlan } from '../../../simulations/faults/fault-plan.ts'
import { loopbackHooks } from '../../../simulations/faults/loopback-hooks.ts'
import type { LinkEvent } from '../../../simulations/loopback-transport.ts'

const plan = (over: Partial<FaultPlan>): FaultPlan => ({
  dropouts: new Map(),
  stragglers: new Map(),
  loss: undefined,
  malicious: new Map(),
  coordinatorScripts: [],
  ...over
})

const ev = (
  from: string,
  to: string,
  direction: 'request' | 'response',
  protocol = '/cohort/secagg/2.0.0'
): LinkEvent => ({ from, to, protocol, direction }) as LinkEvent

describe('loopback fault hooks', () => {
  it("adds straggler latency on both directions of the straggler's links only", () => {
    const h = loopbackHooks(plan({ stragglers: new Map([['slow', { latencyMs: 40, jitterMs: 0 }]]) }), {
      seed: 1,
      orgOf: (p) => p
    })
    expect(h.latencyMs!(ev('coord', 'slow', 'request'))).toBe(40)
    expect(h.latencyMs!(ev('slow', 'coord', 'response'))).toBe(40)
    expect(h.latencyMs!(ev('coord', 'fast', 'request'))).toBe(0)
    expect(h.drop).toBeUndefined()
  })

  it('loses messages at the rate, decided per link and message number, not by call order', () => {
    const lost: LinkEvent[] = []
    const make = () =>
      loopbackHooks(plan({ loss: { rate: 0.2, direction: 'both' } }), {
        seed: 3,
        orgOf: (p) => p,
        onLost: (e) => lost.push(e)
      })
    const events = Array.from({ length: 2000 }, (_, i) =>
      ev('coord', `p${i % 10}`, i % 2 === 0 ? 'request' : 'response')
    )
    const a = make()
    const forward = events.map((e) => a.drop!(e))
    const n = forward.filter(Boolean).length
    expect(n).toBeGreaterThan(340)
    expect(n).toBeLessThan(460)
    expect(lost).toHaveLength(n)
    // Interleave the links differently: each link's k-th message meets the same fate.
    const b = make()
    const byLink = new Map<string, boolean[]>()
    const key = (e: LinkEvent) => `${e.to}/${e.direction}`
    for (const e of [...events].reverse()) {
      const fates = byLink.get(key(e)) ?? []
      fates.push(b.drop!(e))
      byLink.set(key(e), fates)
    }
    const expected = new Map<string, boolean[]>()
    events.forEach((e, i) => {
      const fates = expected.get(key(e)) ?? []
      fates.push(forward[i]!)
      expected.set(key(e), fates)
    })
    expect(byLink).toEqual(expected)
  })

  it('loses only the configured direction', () => {
    const h = loopbackHooks(plan({ loss: { rate: 1, direction: 'response' } }), { seed: 1, orgOf: (p) => p })
    expect(h.drop!(ev('coord', 'p', 'request'))).toBe(false)
    expect(h.drop!(ev('p', 'coord', 'response'))).toBe(true)
  })
})
