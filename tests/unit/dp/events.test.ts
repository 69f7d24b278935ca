import { describe, expect, it } from 'vitest'
import {
  composedEvent,
  DP_EVENT_KINDS,
  type DpEvent,
  discreteGaussianEvent,
  discreteLaplaceEvent,
  distributedDiscreteGaussianEvent,
  gaussianEvent,
  isDpEvent,
  laplaceEvent,
  MAX_EVENT_DEPTH,
  NO_OP_EVENT,
  NON_PRIVATE_EVENT,
  poissonSampledEvent,
  selfComposedEvent,
  validateEvent
} from '../../../crypto/dp/events.ts'

// One example per kind; typed as a Record so adding a kind without an example fails to compile.
const EXAMPLES: Record<DpEvent['kind'], DpEvent> = {
  gaussian: gaussianEvent(1.1),
  'discrete-gaussian': discreteGaussianEvent({ sigma: 10, sensitivity: 3, dimension: 5 }),
  laplace: laplaceEvent(2),
  'discrete-laplace': discreteLaplaceEvent({ scale: 4, sensitivity: 1 }),
  'distributed-discrete-gaussian': distributedDiscreteGaussianEvent({
    sigma: 20,
    sensitivity: 100,
    dimension: 1000,
    parties: 8
  }),
  'poisson-sampled': poissonSampledEvent(0.01, gaussianEvent(1)),
  'self-composed': selfComposedEvent(laplaceEvent(1), 7),
  composed: composedEvent([gaussianEvent(1), NO_OP_EVENT]),
  'no-op': NO_OP_EVENT,
  'non-private': NON_PRIVATE_EVENT
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

describe('DpEvent constructors', () => {
  it('build the documented shapes', () => {
    expect(gaussianEvent(1.1)).toEqual({ kind: 'gaussian', noiseMultiplier: 1.1 })
    expect(discreteGaussianEvent({ sigma: 10, sensitivity: 3 })).toEqual({
      kind: 'discrete-gaussian',
      sigma: 10,
      sensitivity: 3
    })
    expect(poissonSampledEvent(0.5, NO_OP_EVENT)).toEqual({
      kind: 'poisson-sampled',
      q: 0.5,
      event: { kind: 'no-op' }
    })
    expect(selfComposedEvent(NON_PRIVATE_EVENT, 3)).toEqual({
      kind: 'self-composed',
      event: { kind: 'non-private' },
      count: 3
    })
  })

  it('return frozen values', () => {
    const e = composedEvent([gaussianEvent(1)])
    expect(Object.isFrozen(e)).toBe(true)
    expect(Object.isFrozen(e.events)).toBe(true)
    expect(Object.isFrozen(e.events[0])).toBe(true)
  })

  it('cover every kind, and every kind survives a JSON round trip', () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual([...DP_EVENT_KINDS].sort())
    for (const e of Object.values(EXAMPLES)) {
      expect(validateEvent(JSON.parse(JSON.stringify(e)))).toEqual(e)
      expect(isDpEvent(e)).toBe(true)
    }
  })
})

describe('validateEvent', () => {
  it.each([
    ['unknown kind', { kind: 'renyi-magic' }],
    ['missing field', { kind: 'gaussian' }],
    ['negative noise', { kind: 'gaussian', noiseMultiplier: -1 }],
    ['NaN sigma', { kind: 'discrete-gaussian', sigma: Number.NaN, sensitivity: 1 }],
    ['fractional dimension', { kind: 'discrete-gaussian', sigma: 1, sensitivity: 1, dimension: 1.5 }],
    ['q > 1', { kind: 'poisson-sampled', q: 1.5, event: { kind: 'no-op' } }],
    [
      'bad inner event',
      { kind: 'poisson-sampled', q: 0.5, event: { kind: 'gaussian', noiseMultiplier: 'x' } }
    ],
    ['negative count', { kind: 'self-composed', event: { kind: 'no-op' }, count: -1 }],
    ['fractional count', { kind: 'self-composed', event: { kind: 'no-op' }, count: 1.5 }],
    ['events not an array', { kind: 'composed', events: {} }],
    [
      'per-party sigma < 1/2',
      { kind: 'distributed-discrete-gaussian', sigma: 1, sensitivity: 1, dimension: 1, parties: 5 }
    ],
    [
      'distributed without dimension',
      { kind: 'distributed-discrete-gaussian', sigma: 10, sensitivity: 1, parties: 2 }
    ],
    ['null', null],
    ['array', []]
  ])('rejects %s with COHORT_DP_INVALID_EVENT', (_name, value) => {
    expect(codeOf(() => validateEvent(value))).toBe('COHORT_DP_INVALID_EVENT')
    expect(isDpEvent(value)).toBe(false)
  })

  it('drops fields it does not know (only known parameters reach an accountant)', () => {
    expect(validateEvent({ kind: 'gaussian', noiseMultiplier: 2, extra: 'x' })).toEqual({
      kind: 'gaussian',
      noiseMultiplier: 2
    })
  })

  it('refuses nesting deeper than MAX_EVENT_DEPTH', () => {
    let e: unknown = { kind: 'no-op' }
    for (let i = 0; i <= MAX_EVENT_DEPTH; i++) e = { kind: 'self-composed', event: e, count: 1 }
    expect(codeOf(() => validateEvent(e))).toBe('COHORT_DP_INVALID_EVENT')
  })
})
