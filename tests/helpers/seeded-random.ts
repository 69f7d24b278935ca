/**
 * TEST ONLY: a reproducible RandomSource over the ChaCha20 keystream (node:crypto), keyed by
 * SHA-256("cohort/test-rng/v1" || seed). Never import this from crypto/, protocols/ or node/ (a
 * unit test checks crypto/dp does not).
 */
import { createCipheriv, createHash } from 'node:crypto'
import { type RandomSource, randomSourceFromFill } from '../../crypto/dp/random.ts'

/**
 * A seeded RandomSource: the same seed gives the same sequence on every platform.
 *
 * @example
 * const rng = seededRandom('samplers/sigma=10')
 */
export function seededRandom(seed: string | number): RandomSource {
  const key = createHash('sha256').update('cohort/test-rng/v1').update(String(seed)).digest()
  // node's 'chacha20' takes a 16-byte IV: 4-byte little-endian block counter || 12-byte nonce.
  const cipher = createCipheriv('chacha20', key, Buffer.alloc(16))
  return randomSourceFromFill((words) => {
    const stream = cipher.update(Buffer.alloc(words.byteLength))
    new Uint8Array(words.buffer, words.byteOffset, words.byteLength).set(stream)
  })
}
