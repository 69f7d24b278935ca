import { CryptoArgumentError } from '../errors.ts'
import { createRdpAccountant, type RdpAccountant } from './accountants/rdp.ts'
import { BudgetExhaustedError, ReservationError, UnsupportedEventError } from './errors.ts'
import { type DpEvent, validateEvent } from './events.ts'

/**
 * Budget arithmetic for one ledger scope (e.g. one dataset and purpose): pure functions over a plain,
 * JSON-able value. The node's ledger stores the value in LevelDB and calls these functions; nothing
 * here does I/O.
 *
 * Rules:
 * - Privacy loss is the RDP composition of every committed *and* reserved event, converted to
 *   epsilon at `cap.delta` (epsilon does not add up linearly under RDP, so there is no "remaining
 *   epsilon", only "would this still fit").
 * - `reserve` refuses an event that would push epsilon past `cap.epsilon`, and the refusal marks the
 *   scope exhausted **for good** (OpenDP `make_privacy_filter`: after the first refusal nothing is
 *   answered again, otherwise the pattern of refusals itself would leak). Commit and release of
 *   reservations made before still work; `exhausted` never goes back to false.
 * - `commit` turns a reservation into spent budget (the noised value was released); `release`
 *   returns a reservation whose value was never released.
 */

/**
 * Cap of a scope: the (epsilon, delta) it may never exceed.
 * @example
 * createBudget({ epsilon: 3, delta: 1e-5 })
 */
export interface BudgetCap {
  readonly epsilon: number
  readonly delta: number
}

/**
 * A pending reservation.
 * @example
 * state.reserved.map((r: Reservation) => r.id)
 */
export interface Reservation {
  readonly id: string
  readonly event: DpEvent
}

/**
 * The state of one scope. Plain data: `JSON.stringify` it, and read it back with {@link parseBudget}.
 * @example
 * const row = JSON.stringify(state); const back: BudgetState = parseBudget(JSON.parse(row))
 */
export interface BudgetState {
  readonly cap: BudgetCap
  /** Committed events (spent budget), in commit order. */
  readonly events: readonly DpEvent[]
  /** Pending reservations, in reservation order. */
  readonly reserved: readonly Reservation[]
  /** True once a reservation was refused; never reset. */
  readonly exhausted: boolean
}

/**
 * Privacy loss of a scope at its cap's delta.
 * @example
 * const { epsilon, delta }: Spent = spent(state)
 */
export interface Spent {
  readonly epsilon: number
  readonly delta: number
}

/**
 * A fresh scope with nothing spent.
 *
 * @example
 * let state = createBudget({ epsilon: 3, delta: 1e-5 })
 */
export function createBudget(cap: BudgetCap): BudgetState {
  return freeze({ cap: checkCap(cap), events: [], reserved: [], exhausted: false })
}

/**
 * Reserves `event` under `id`, or refuses it.
 *
 * @throws BudgetExhaustedError when the scope is exhausted or the event would exceed the cap; its
 *   `state` is the exhausted state, which the caller must persist.
 * @throws ReservationError when `id` is already pending.
 * @throws UnsupportedEventError when the accountant cannot account for `event` (state unchanged).
 * @example
 * state = reserve(state, 'job-7/round-2', event)
 */
export function reserve(state: BudgetState, id: string, event: DpEvent): BudgetState {
  if (typeof id !== 'string' || id.length === 0)
    throw new ReservationError('reservation id must be a non-empty string')
  const valid = validateEvent(event)
  if (state.exhausted) {
    throw new BudgetExhaustedError(
      'the privacy budget of this scope is exhausted; it answers no more queries',
      state
    )
  }
  if (state.reserved.some((r) => r.id === id))
    throw new ReservationError(`reservation '${id}' is already pending`)
  const acc = composeAll([...state.events, ...state.reserved.map((r) => r.event), valid])
  const epsilon = acc.epsilon(state.cap.delta)
  if (!(epsilon <= state.cap.epsilon)) {
    const exhausted = freeze({ ...state, exhausted: true })
    throw new BudgetExhaustedError(
      `reserving '${id}' would bring epsilon to ${epsilon} (cap ${state.cap.epsilon} at delta ${state.cap.delta}); the scope is now exhausted`,
      exhausted
    )
  }
  return freeze({ ...state, reserved: [...state.reserved, { id, event: valid }] })
}

/**
 * Marks reservation `id` as spent.
 *
 * @throws ReservationError when `id` is not pending.
 * @example
 * state = commit(state, 'job-7/round-2')
 */
export function commit(state: BudgetState, id: string): BudgetState {
  const r = find(state, id)
  return freeze({
    ...state,
    events: [...state.events, r.event],
    reserved: state.reserved.filter((x) => x.id !== id)
  })
}

/**
 * Drops reservation `id` (its value was never released). Does not undo exhaustion.
 *
 * @throws ReservationError when `id` is not pending.
 * @example
 * state = release(state, 'job-7/round-2')
 */
export function release(state: BudgetState, id: string): BudgetState {
  find(state, id)
  return freeze({ ...state, reserved: state.reserved.filter((x) => x.id !== id) })
}

/**
 * Privacy loss of the committed events (with `includeReserved`, of committed + reserved, which is
 * what `reserve` checks against the cap), as epsilon at the cap's delta.
 *
 * @example
 * spent(state) // { epsilon: 0.82, delta: 1e-5 }
 */
export function spent(state: BudgetState, options: { includeReserved?: boolean } = {}): Spent {
  const events =
    options.includeReserved === true ? [...state.events, ...state.reserved.map((r) => r.event)] : state.events
  return Object.freeze({ epsilon: composeAll(events).epsilon(state.cap.delta), delta: state.cap.delta })
}

/**
 * Validates a stored state (e.g. `JSON.parse` of a ledger row) and returns it frozen.
 *
 * @throws CryptoArgumentError or InvalidDpEventError naming the bad field.
 * @example
 * const state = parseBudget(JSON.parse(row))
 */
export function parseBudget(value: unknown): BudgetState {
  if (value === null || typeof value !== 'object')
    throw new CryptoArgumentError('budget state must be an object')
  const v = value as Record<string, unknown>
  const cap = checkCap(v.cap as BudgetCap)
  if (!Array.isArray(v.events)) throw new CryptoArgumentError('budget state events must be an array')
  if (!Array.isArray(v.reserved)) throw new CryptoArgumentError('budget state reserved must be an array')
  if (typeof v.exhausted !== 'boolean')
    throw new CryptoArgumentError('budget state exhausted must be a boolean')
  const events = v.events.map((e, i) => validateEvent(e, `events[${i}]`))
  const ids = new Set<string>()
  const reserved = v.reserved.map((r: unknown, i) => {
    const rr = r as Record<string, unknown> | null
    if (
      rr === null ||
      typeof rr !== 'object' ||
      typeof rr.id !== 'string' ||
      rr.id.length === 0 ||
      ids.has(rr.id)
    ) {
      throw new CryptoArgumentError(`reserved[${i}] must have a unique non-empty string id`)
    }
    ids.add(rr.id)
    return { id: rr.id, event: validateEvent(rr.event, `reserved[${i}].event`) }
  })
  return freeze({ cap, events, reserved, exhausted: v.exhausted })
}

/**
 * An RDP accountant holding `events`, with identical events grouped (one RDP curve per distinct
 * event, multiplied by its count) so that long ledgers stay cheap.
 *
 * @throws UnsupportedEventError when an event has no RDP bound.
 * @example
 * composeAll(state.events).epsilon(1e-5)
 */
export function composeAll(events: readonly DpEvent[]): RdpAccountant {
  const groups = new Map<string, { event: DpEvent; count: number }>()
  for (const e of events) {
    const key = JSON.stringify(e)
    const g = groups.get(key)
    if (g === undefined) groups.set(key, { event: e, count: 1 })
    else g.count++
  }
  let acc = createRdpAccountant()
  for (const { event, count } of groups.values()) {
    if (!acc.supports(event))
      throw new UnsupportedEventError(`the budget cannot account for a '${event.kind}' event`)
    acc = acc.compose(event, count)
  }
  return acc
}

function find(state: BudgetState, id: string): Reservation {
  const r = state.reserved.find((x) => x.id === id)
  if (r === undefined) throw new ReservationError(`no pending reservation '${id}'`)
  return r
}

function checkCap(cap: BudgetCap): BudgetCap {
  if (cap === null || typeof cap !== 'object')
    throw new CryptoArgumentError('budget cap must be { epsilon, delta }')
  const { epsilon, delta } = cap
  if (typeof epsilon !== 'number' || !(epsilon >= 0) || !Number.isFinite(epsilon)) {
    throw new CryptoArgumentError(`cap epsilon must be a finite number >= 0, got ${String(epsilon)}`)
  }
  if (typeof delta !== 'number' || !(delta > 0 && delta < 1)) {
    throw new CryptoArgumentError(`cap delta must be in (0, 1), got ${String(delta)}`)
  }
  return Object.freeze({ epsilon, delta })
}

function freeze(s: {
  cap: BudgetCap
  events: readonly DpEvent[]
  reserved: readonly Reservation[]
  exhausted: boolean
}): BudgetState {
  return Object.freeze({
    cap: s.cap,
    events: Object.freeze([...s.events]),
    reserved: Object.freeze(s.reserved.map((r) => Object.freeze({ id: r.id, event: r.event }))),
    exhausted: s.exhausted
  })
}
