import { InvalidDpEventError } from './errors.ts'

/**
 * DP events: plain, JSON-able *descriptions* of what a mechanism did, holding exactly what an
 * accountant needs and nothing else (Google dp_accounting `dp_event.py`). Describing (an event),
 * sampling (a `Mechanism`) and composing (an `Accountant`) are kept apart: a node's ledger stores
 * events, and any accountant can re-derive the loss from them later.
 *
 * Sensitivities are measured under the accountant's neighbouring relation (`add-remove-one` unless
 * the accountant says otherwise): a `gaussian` with `noiseMultiplier` z is noise of standard
 * deviation `z * sensitivity`.
 *
 * ## Rules for changing events (the ledger stores them forever)
 *
 * 1. Never remove an event kind or a parameter, and never change what one means.
 * 2. Add only *optional* parameters, whose absence keeps the old meaning.
 * 3. A new meaning needs a new `kind`. Accountants answer `supports() === false` for a kind (or a
 *    combination) they do not know, so an old accountant refuses a new event instead of
 *    under-counting it.
 *
 * Two kinds go beyond the sketch in style.md C2, added under rule 3: `discrete-laplace` (its RDP is
 * *larger* than the continuous Laplace's at the same scale, so it cannot reuse `laplace`) and
 * `distributed-discrete-gaussian` (a sum of discrete Gaussians is not a discrete Gaussian; its
 * bound, Kairouz-Liu-Steinke 2021 Prop. 14, needs the number of parties and the dimension).
 *
 * @example
 * const e: DpEvent = { kind: 'gaussian', noiseMultiplier: 1.1 }
 */
export type DpEvent =
  | { readonly kind: 'gaussian'; readonly noiseMultiplier: number }
  | {
      readonly kind: 'discrete-gaussian'
      /** Standard-deviation parameter of the discrete Gaussian N_Z(0, sigma^2), in integer units. */
      readonly sigma: number
      /** L2 sensitivity of the integer-valued query. */
      readonly sensitivity: number
      /** Length of the noised vector (informational for the central mechanism). */
      readonly dimension?: number
    }
  | { readonly kind: 'laplace'; readonly noiseMultiplier: number }
  | {
      readonly kind: 'discrete-laplace'
      /** Scale b of the discrete Laplace, P(x) proportional to exp(-|x| / b). */
      readonly scale: number
      /** L1 sensitivity of the integer-valued query. */
      readonly sensitivity: number
    }
  | {
      readonly kind: 'distributed-discrete-gaussian'
      /** sigma_total: each of `parties` parties adds N_Z(0, sigma^2 / parties) to each coordinate. */
      readonly sigma: number
      /** L2 sensitivity of the integer-valued sum. */
      readonly sensitivity: number
      /** Length d of the noised vector (the bound grows with d). */
      readonly dimension: number
      /** Minimum number of parties whose noise shares are summed (honest, surviving parties). */
      readonly parties: number
    }
  | { readonly kind: 'poisson-sampled'; readonly q: number; readonly event: DpEvent }
  | { readonly kind: 'self-composed'; readonly event: DpEvent; readonly count: number }
  | { readonly kind: 'composed'; readonly events: readonly DpEvent[] }
  | { readonly kind: 'no-op' }
  | { readonly kind: 'non-private' }

/**
 * Every `kind` this version knows, in declaration order.
 * @example
 * DP_EVENT_KINDS.includes('gaussian') // true
 */
export const DP_EVENT_KINDS = [
  'gaussian',
  'discrete-gaussian',
  'laplace',
  'discrete-laplace',
  'distributed-discrete-gaussian',
  'poisson-sampled',
  'self-composed',
  'composed',
  'no-op',
  'non-private'
] as const

/** The event of a given kind. @example const e: EventOf<'gaussian'> = gaussianEvent(1) */
export type EventOf<K extends DpEvent['kind']> = Extract<DpEvent, { kind: K }>

/**
 * Gaussian noise of standard deviation `noiseMultiplier * sensitivity`.
 * @example gaussianEvent(1.1) // { kind: 'gaussian', noiseMultiplier: 1.1 }
 */
export function gaussianEvent(noiseMultiplier: number): EventOf<'gaussian'> {
  return validateEvent({ kind: 'gaussian', noiseMultiplier }) as EventOf<'gaussian'>
}

/**
 * Discrete Gaussian N_Z(0, sigma^2) added to an integer query of L2 sensitivity `sensitivity`.
 * @example discreteGaussianEvent({ sigma: 10, sensitivity: 1 })
 */
export function discreteGaussianEvent(p: {
  sigma: number
  sensitivity: number
  dimension?: number
}): EventOf<'discrete-gaussian'> {
  const e =
    p.dimension === undefined
      ? { kind: 'discrete-gaussian', sigma: p.sigma, sensitivity: p.sensitivity }
      : { kind: 'discrete-gaussian', sigma: p.sigma, sensitivity: p.sensitivity, dimension: p.dimension }
  return validateEvent(e) as EventOf<'discrete-gaussian'>
}

/**
 * Laplace noise of scale `noiseMultiplier * sensitivity` (L1 sensitivity).
 * @example laplaceEvent(2) // pure DP with epsilon = 1/2
 */
export function laplaceEvent(noiseMultiplier: number): EventOf<'laplace'> {
  return validateEvent({ kind: 'laplace', noiseMultiplier }) as EventOf<'laplace'>
}

/**
 * Discrete Laplace of scale `scale` on an integer query of L1 sensitivity `sensitivity`.
 * @example discreteLaplaceEvent({ scale: 4, sensitivity: 1 }) // (1/4)-DP
 */
export function discreteLaplaceEvent(p: { scale: number; sensitivity: number }): EventOf<'discrete-laplace'> {
  return validateEvent({
    kind: 'discrete-laplace',
    scale: p.scale,
    sensitivity: p.sensitivity
  }) as EventOf<'discrete-laplace'>
}

/**
 * The sum over at least `parties` parties of per-party N_Z(0, sigma^2 / parties)^dimension noise.
 * @example distributedDiscreteGaussianEvent({ sigma: 20, sensitivity: 100, dimension: 1000, parties: 8 })
 */
export function distributedDiscreteGaussianEvent(p: {
  sigma: number
  sensitivity: number
  dimension: number
  parties: number
}): EventOf<'distributed-discrete-gaussian'> {
  const e = {
    kind: 'distributed-discrete-gaussian',
    sigma: p.sigma,
    sensitivity: p.sensitivity,
    dimension: p.dimension,
    parties: p.parties
  }
  return validateEvent(e) as EventOf<'distributed-discrete-gaussian'>
}

/**
 * `event` run on a Poisson subsample: each record is included independently with probability `q`.
 * @example poissonSampledEvent(256 / 60000, gaussianEvent(1.1))
 */
export function poissonSampledEvent(q: number, event: DpEvent): EventOf<'poisson-sampled'> {
  return validateEvent({ kind: 'poisson-sampled', q, event }) as EventOf<'poisson-sampled'>
}

/**
 * `event` run `count` times on the same data.
 * @example selfComposedEvent(poissonSampledEvent(0.01, gaussianEvent(1)), 1000)
 */
export function selfComposedEvent(event: DpEvent, count: number): EventOf<'self-composed'> {
  return validateEvent({ kind: 'self-composed', event, count }) as EventOf<'self-composed'>
}

/**
 * All of `events`, run on the same data.
 * @example composedEvent([gaussianEvent(1), laplaceEvent(3)])
 */
export function composedEvent(events: readonly DpEvent[]): EventOf<'composed'> {
  return validateEvent({ kind: 'composed', events: [...events] }) as EventOf<'composed'>
}

/** An event that touches no private data. @example accountant.compose(NO_OP_EVENT) */
export const NO_OP_EVENT: EventOf<'no-op'> = Object.freeze({ kind: 'no-op' })

/** A release with no privacy guarantee (its epsilon is infinite). @example accountant.compose(NON_PRIVATE_EVENT) */
export const NON_PRIVATE_EVENT: EventOf<'non-private'> = Object.freeze({ kind: 'non-private' })

/**
 * Deepest nesting accepted by {@link validateEvent}, so a hostile ledger entry cannot blow the stack.
 * @example
 * validateEvent(deeplyNested) // throws past MAX_EVENT_DEPTH levels
 */
export const MAX_EVENT_DEPTH = 32

/**
 * Checks that `value` is a well-formed `DpEvent` of a kind this version knows, and returns a deep,
 * frozen copy holding only the known fields. Use it on anything read back from storage or the wire.
 *
 * @throws InvalidDpEventError naming the bad field.
 * @example
 * const event = validateEvent(JSON.parse(row)) // DpEvent
 */
export function validateEvent(value: unknown, path = 'event', depth = 0): DpEvent {
  if (depth > MAX_EVENT_DEPTH) fail(path, `is nested deeper than ${MAX_EVENT_DEPTH} levels`)
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(path, 'must be an object')
  const v = value as Record<string, unknown>
  switch (v.kind) {
    case 'gaussian':
    case 'laplace':
      return Object.freeze({
        kind: v.kind,
        noiseMultiplier: nonNegative(v.noiseMultiplier, `${path}.noiseMultiplier`)
      })
    case 'discrete-gaussian': {
      const sigma = nonNegative(v.sigma, `${path}.sigma`)
      const sensitivity = nonNegative(v.sensitivity, `${path}.sensitivity`)
      if (v.dimension === undefined) return Object.freeze({ kind: v.kind, sigma, sensitivity })
      return Object.freeze({
        kind: v.kind,
        sigma,
        sensitivity,
        dimension: positiveInt(v.dimension, `${path}.dimension`)
      })
    }
    case 'discrete-laplace':
      return Object.freeze({
        kind: v.kind,
        scale: nonNegative(v.scale, `${path}.scale`),
        sensitivity: nonNegative(v.sensitivity, `${path}.sensitivity`)
      })
    case 'distributed-discrete-gaussian': {
      const sigma = nonNegative(v.sigma, `${path}.sigma`)
      const parties = positiveInt(v.parties, `${path}.parties`)
      // KLS21 Prop. 14 holds for per-party sigma >= 1/2; below that the event has no valid bound.
      if (sigma / Math.sqrt(parties) < 0.5)
        fail(`${path}.sigma`, 'must give each party sigma / sqrt(parties) >= 0.5')
      return Object.freeze({
        kind: v.kind,
        sigma,
        sensitivity: nonNegative(v.sensitivity, `${path}.sensitivity`),
        dimension: positiveInt(v.dimension, `${path}.dimension`),
        parties
      })
    }
    case 'poisson-sampled': {
      const q = nonNegative(v.q, `${path}.q`)
      if (q > 1) fail(`${path}.q`, `must be in [0, 1], got ${q}`)
      return Object.freeze({ kind: v.kind, q, event: validateEvent(v.event, `${path}.event`, depth + 1) })
    }
    case 'self-composed': {
      const count = v.count
      if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
        fail(`${path}.count`, `must be an integer >= 0, got ${String(count)}`)
      }
      return Object.freeze({ kind: v.kind, event: validateEvent(v.event, `${path}.event`, depth + 1), count })
    }
    case 'composed': {
      if (!Array.isArray(v.events)) fail(`${path}.events`, 'must be an array')
      const events = (v.events as unknown[]).map((e, i) =>
        validateEvent(e, `${path}.events[${i}]`, depth + 1)
      )
      return Object.freeze({ kind: v.kind, events: Object.freeze(events) })
    }
    case 'no-op':
      return NO_OP_EVENT
    case 'non-private':
      return NON_PRIVATE_EVENT
    default:
      return fail(`${path}.kind`, `is not a known DP event kind: ${JSON.stringify(v.kind)}`)
  }
}

/**
 * True when `value` is a well-formed `DpEvent` (see {@link validateEvent}).
 * @example isDpEvent({ kind: 'no-op' }) // true
 */
export function isDpEvent(value: unknown): value is DpEvent {
  try {
    validateEvent(value)
    return true
  } catch {
    return false
  }
}

function nonNegative(x: unknown, path: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0)
    fail(path, `must be a finite number >= 0, got ${String(x)}`)
  return x as number
}

function positiveInt(x: unknown, path: string): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 1)
    fail(path, `must be an integer >= 1, got ${String(x)}`)
  return x as number
}

function fail(path: string, what: string): never {
  throw new InvalidDpEventError(`${path} ${what}`)
}
