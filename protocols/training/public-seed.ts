import { aBytes } from '../../crypto/asserts.ts'
import { randomSourceFromFill } from '../../crypto/dp/random.ts'
import type { RandomSource } from '../../crypto/dp/random.ts'
import { deriveKey } from '../../crypto/kdf.ts'
import type { DomainLabel } from '../../crypto/kdf.ts'
import { prgFill } from '../../crypto/prg.ts'
import { TrainingConfigError } from './errors.ts'

/**
 * Domain label of the model-initialisation stream.
 * @example
 * publicSeedSource(seed, MODEL_INIT_LABEL)
 */
export const MODEL_INIT_LABEL: DomainLabel = 'cohort/model-init/v1'

/**
 * A reproducible RandomSource expanded from a *public* seed: key = HKDF(seed, label), stream = the
 * project's PRG (AES-128-CTR, crypto/prg.ts). Every party that knows the seed draws the same values,
 * which is what a shared model initialisation needs (the coordinator publishes the seed with the job).
 *
 * Never use it for noise, masks or keys: those must be unpredictable, so they come from
 * `createRandomSource()` (crypto.getRandomValues). The label keeps this stream apart from every mask
 * stream even if a seed were reused.
 *
 * @example
 * const rng = publicSeedSource(jobSeed) // same draws on every node
 */
export function publicSeedSource(seed: Uint8Array, label: DomainLabel = MODEL_INIT_LABEL): RandomSource {
  aBytes(seed, undefined, 'seed')
  if (seed.length === 0) throw new TrainingConfigError('the model seed must not be empty')
  const key = deriveKey(seed, label, { length: 32 })
  let offset = 0
  return randomSourceFromFill((words) => {
    prgFill(key, words, { offset })
    offset += words.length
  })
}

/**
 * The UTF-8 bytes of a string seed (convenience for tests, simulations and job files).
 *
 * @example
 * publicSeedSource(seedBytes('job-42'))
 */
export function seedBytes(seed: string | number): Uint8Array {
  return new TextEncoder().encode(String(seed))
}
