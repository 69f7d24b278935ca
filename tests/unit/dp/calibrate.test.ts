import { describe, expect, it } from 'vitest'
import { calibrate, dpSgdEpsilon } from '../../../crypto/dp/accountants/calibrate.ts'

const Q = 256 / 60000
const STEPS = 14062
const DELTA = 1e-5
const ARG = expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })

describe('calibrate', () => {
  it.each([0.5, 1, 3, 8])('inverts dpSgdEpsilon within 1%% at epsilon = %d', (target) => {
    const c = calibrate({ epsilon: target, delta: DELTA, q: Q, steps: STEPS })
    // Meets the target, and is the smallest such multiplier up to the bisection tolerance.
    expect(c.epsilon).toBeLessThanOrEqual(target)
    expect(c.epsilon).toBeGreaterThanOrEqual(target * 0.99)
    const again = dpSgdEpsilon({ q: Q, noiseMultiplier: c.noiseMultiplier, steps: STEPS, delta: DELTA })
    expect(again).toEqual({ epsilon: c.epsilon, order: c.order })
    const lessNoise = dpSgdEpsilon({
      q: Q,
      noiseMultiplier: c.noiseMultiplier * (1 - 1e-3),
      steps: STEPS,
      delta: DELTA
    })
    expect(lessNoise.epsilon).toBeGreaterThan(target)
  })

  it('round-trips the MNIST setting: sigma = 1.1 -> eps -> sigma', () => {
    const eps = dpSgdEpsilon({ q: Q, noiseMultiplier: 1.1, steps: STEPS, delta: DELTA }).epsilon
    const c = calibrate({ epsilon: eps, delta: DELTA, q: Q, steps: STEPS })
    expect(Math.abs(c.noiseMultiplier / 1.1 - 1)).toBeLessThan(1e-3)
  })

  it('refuses malformed targets', () => {
    expect(() => calibrate({ epsilon: 0, delta: DELTA, q: Q, steps: STEPS })).toThrow(ARG)
    expect(() => calibrate({ epsilon: 1, delta: 1, q: Q, steps: STEPS })).toThrow(ARG)
    expect(() => calibrate({ epsilon: 1, delta: DELTA, q: 0, steps: STEPS })).toThrow(ARG)
    expect(() => calibrate({ epsilon: 1, delta: DELTA, q: Q, steps: 1.5 })).toThrow(ARG)
    expect(() => dpSgdEpsilon({ q: 1.5, noiseMultiplier: 1, steps: 1, delta: DELTA })).toThrow(ARG)
    expect(() => dpSgdEpsilon({ q: Q, noiseMultiplier: -1, steps: 1, delta: DELTA })).toThrow(ARG)
  })
})
