import { CryptoArgumentError } from '../../errors.ts'
import { UnsupportedEventError } from '../errors.ts'
import { type DpEvent, selfComposedEvent, validateEvent } from '../events.ts'
import type { Accountant, NeighboringRelation } from './accountant.ts'
import { eventRdp } from './rdp-events.ts'
import { type EpsilonAtOrder, epsilonFromRdp } from './rdp-conversion.ts'

/**
 * Renyi-DP accountant (Mironov 2017): keeps RDP(alpha) at a fixed grid of orders, adds curves under
 * composition (RDP composes additively at each order), and converts to (epsilon, delta) at the end
 * with the Balle et al. 2020 bound. Supported events: gaussian, laplace, discrete-gaussian (via
 * zCDP), discrete-laplace (via pure DP), distributed-discrete-gaussian (KLS21), poisson-sampled
 * gaussian (MTZ19; add/remove-one only), self-composed, composed, no-op, non-private.
 */

/**
 * Default orders: fractional orders near 1 (they win for small epsilon), every integer 2..64, and a
 * few large ones (they win when epsilon is large or delta tiny).
 *
 * @example
 * createRdpAccountant({ orders: [...DEFAULT_RDP_ORDERS, 1024] })
 */
export const DEFAULT_RDP_ORDERS: readonly number[] = Object.freeze([
  1.25,
  1.5,
  1.75,
  2,
  2.25,
  2.5,
  3,
  3.5,
  4,
  4.5,
  ...Array.from({ length: 60 }, (_, i) => i + 5),
  128,
  256,
  512
])

/**
 * Options of {@link createRdpAccountant}.
 * @example
 * createRdpAccountant({ orders: [2, 4, 8], relation: "add-remove-one" })
 */
export interface RdpAccountantInit {
  /** RDP orders (each > 1). @default DEFAULT_RDP_ORDERS */
  orders?: readonly number[]
  /** @default 'add-remove-one' */
  relation?: NeighboringRelation
}

/**
 * The RDP accountant's extra read-outs.
 * @example
 * const acc: RdpAccountant = createRdpAccountant().compose(gaussianEvent(1))
 */
export interface RdpAccountant extends Accountant {
  readonly orders: readonly number[]
  /** Accumulated RDP at each order (same index as `orders`). */
  readonly rdp: readonly number[]
  compose(event: DpEvent, count?: number): RdpAccountant
  /** epsilon at `delta` and the order that achieved it. */
  epsilonAndOrder(delta: number): EpsilonAtOrder
}

/**
 * An empty RDP accountant.
 *
 * @example
 * const acc = createRdpAccountant().compose(
 *   poissonSampledEvent(256 / 60000, gaussianEvent(1.1)), 14062)
 * acc.epsilonAndOrder(1e-5) // { epsilon: ~2.9, order: ... }
 */
export function createRdpAccountant(init: RdpAccountantInit = {}): RdpAccountant {
  const orders = init.orders ?? DEFAULT_RDP_ORDERS
  if (!Array.isArray(orders) || orders.length === 0)
    throw new CryptoArgumentError('orders must be a non-empty array')
  for (const a of orders) {
    if (typeof a !== 'number' || !(a > 1))
      throw new CryptoArgumentError(`RDP orders must be > 1, got ${String(a)}`)
  }
  const relation = init.relation ?? 'add-remove-one'
  if (relation !== 'add-remove-one' && relation !== 'replace-one') {
    throw new CryptoArgumentError(
      `relation must be 'add-remove-one' or 'replace-one', got ${String(relation)}`
    )
  }
  return build(Object.freeze([...orders]), relation, new Array<number>(orders.length).fill(0), [])
}

function build(
  orders: readonly number[],
  relation: NeighboringRelation,
  rdp: number[],
  ledger: DpEvent[]
): RdpAccountant {
  const frozenRdp = Object.freeze(rdp)
  const frozenLedger = Object.freeze(ledger)
  const curve = (event: DpEvent): Float64Array | undefined => {
    let valid: DpEvent
    try {
      valid = validateEvent(event)
    } catch {
      return undefined
    }
    return eventRdp(valid, orders, relation)
  }
  const self: RdpAccountant = {
    relation,
    orders,
    rdp: frozenRdp,
    ledger: frozenLedger,
    supports: (event) => curve(event) !== undefined,
    compose(event, count = 1) {
      if (!Number.isSafeInteger(count) || count < 1) {
        throw new CryptoArgumentError(`count must be an integer >= 1, got ${String(count)}`)
      }
      // Check everything before building the new state (dp_accounting: raise before composing).
      const valid = validateEvent(event)
      const c = eventRdp(valid, orders, relation)
      if (c === undefined) {
        throw new UnsupportedEventError(
          `the RDP accountant (${relation}) cannot account for a '${valid.kind}' event here`
        )
      }
      const next = frozenRdp.map((r, i) => r + c[i]! * count)
      return build(orders, relation, next, [
        ...frozenLedger,
        count === 1 ? valid : selfComposedEvent(valid, count)
      ])
    },
    epsilonAndOrder: (delta) => epsilonFromRdp(orders, frozenRdp, delta),
    epsilon: (delta) => epsilonFromRdp(orders, frozenRdp, delta).epsilon
  }
  return Object.freeze(self)
}
