import { CryptoArgumentError } from '../../errors.ts'
import type { DpEvent } from '../events.ts'
import type { RandomSource } from '../random.ts'
import type { IntegerSampler } from '../samplers/discrete-laplace.ts'

/**
 * A mechanism is a function that carries its privacy claim (OpenDP `Measurement`): `apply` samples,
 * `event` describes what it did for an accountant. The event is fixed when the mechanism is made, so
 * the claim cannot drift from the noise actually added.
 *
 * @example
 * const m: Mechanism<Int32Array, Int32Array> = makeDiscreteGaussian({ sigma: 10, sensitivity: 1 })
 * ledger.reserve(scope, m.event)
 */
export interface Mechanism<I, O> {
  readonly event: DpEvent
  apply(input: I, rng: RandomSource): O
}

/**
 * Integer vectors a noise mechanism accepts. `Int32Array` and `Uint32Array` are the ring Z_2^32 of
 * secure aggregation: noise is added modulo 2^32 (two's complement for Int32Array), so it survives
 * the masking; `bigint[]` is exact, without wrap-around.
 *
 * @example
 * const v: IntegerVector = new Uint32Array(1000)
 */
export type IntegerVector = Int32Array | Uint32Array | bigint[]

/**
 * A mechanism adding independent integer noise to each coordinate; the output has the input's type.
 *
 * @example
 * const noisy: Uint32Array = mechanism.apply(quantised, createRandomSource())
 */
export interface IntegerNoiseMechanism extends Mechanism<IntegerVector, IntegerVector> {
  apply<V extends IntegerVector>(input: V, rng: RandomSource): V
}

/**
 * Adds one draw of `sampler` to each coordinate of `input` into a new vector of the same type.
 * `maxLength` (the event's dimension, when it has one) guards the accounting's assumption.
 *
 * @example
 * addIntegerNoise(new Int32Array(10), makeDiscreteGaussianSampler(100), rng)
 */
export function addIntegerNoise<V extends IntegerVector>(
  input: V,
  sampler: IntegerSampler,
  rng: RandomSource,
  maxLength?: number
): V {
  if (!(input instanceof Int32Array || input instanceof Uint32Array || Array.isArray(input))) {
    throw new CryptoArgumentError('input must be an Int32Array, a Uint32Array or a bigint[]')
  }
  if (maxLength !== undefined && input.length > maxLength) {
    throw new CryptoArgumentError(
      `input has ${input.length} coordinates, more than the event's dimension ${maxLength}`
    )
  }
  if (input instanceof Int32Array) {
    const out = new Int32Array(input.length)
    // ToInt32 reduces any safe integer exactly modulo 2^32.
    for (let i = 0; i < input.length; i++) out[i] = (input[i]! + sampler.sample(rng)) | 0
    return out as V
  }
  if (input instanceof Uint32Array) {
    const out = new Uint32Array(input.length)
    for (let i = 0; i < input.length; i++) out[i] = (input[i]! + sampler.sample(rng)) >>> 0
    return out as V
  }
  const out = new Array<bigint>(input.length)
  for (let i = 0; i < input.length; i++) {
    const x = input[i]
    if (typeof x !== 'bigint') throw new CryptoArgumentError(`input[${i}] must be a bigint`)
    out[i] = x + BigInt(sampler.sample(rng))
  }
  return out as V
}
