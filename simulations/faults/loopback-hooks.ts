import type { LinkEvent, LoopbackHooks } from '../loopback-transport.ts'
import { hashUnit } from '../rng.ts'
import type { FaultPlan } from './fault-plan.ts'

/**
 * The loopback network's fault hooks for a plan: straggler latency on every message to and from a
 * straggling party, and message loss. Each decision hashes (seed, link, the link's message number),
 * never a shared random stream, so it does not depend on how concurrent messages interleave.
 */

/**
 * Options of {@link loopbackHooks}.
 * @example
 * loopbackHooks(plan, { seed: 1, orgOf: (p) => fed.orgOf(p), onLost: (e) => log.count(tap.currentRound(), 'loss', 'messages') })
 */
export interface LoopbackHookOptions {
  seed: number | string
  /** Resolved lazily: the hooks exist before the federation's identities are known to the caller. */
  orgOf: (peer: string) => string
  onLost?: (e: LinkEvent) => void
}

/**
 * Builds the hooks.
 * @example
 * const net = createLoopbackNetwork(loopbackHooks(plan, options))
 */
export function loopbackHooks(plan: FaultPlan, o: LoopbackHookOptions): LoopbackHooks {
  const counters = new Map<string, number>()
  const next = (key: string) => {
    const n = (counters.get(key) ?? 0) + 1
    counters.set(key, n)
    return n
  }
  const hooks: LoopbackHooks = {}
  if (plan.stragglers.size > 0) {
    hooks.latencyMs = (e) => {
      const party = o.orgOf(e.direction === 'request' ? e.to : e.from)
      const s = plan.stragglers.get(party)
      if (s === undefined) return 0
      if (s.jitterMs === 0) return s.latencyMs
      const n = next(`jitter/${e.from}/${e.to}/${e.protocol}/${e.direction}`)
      return (
        s.latencyMs +
        Math.floor(
          hashUnit(`${o.seed}/jitter/${e.from}/${e.to}/${e.protocol}/${e.direction}/${n}`) * s.jitterMs
        )
      )
    }
  }
  const loss = plan.loss
  if (loss !== undefined && loss.rate > 0) {
    hooks.drop = (e) => {
      if (loss.direction !== 'both' && loss.direction !== e.direction) return false
      const link = `${e.from}/${e.to}/${e.protocol}/${e.direction}`
      const n = next(`loss/${link}`)
      const lost = hashUnit(`${o.seed}/loss/${link}/${n}`) < loss.rate
      if (lost) o.onLost?.(e)
      return lost
    }
  }
  return hooks
}
