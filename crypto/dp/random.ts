import { CryptoArgumentError } from '../errors.ts'

/**
 * Uniform randomness for DP noise. Every sampler in `crypto/dp` draws only from a `RandomSource`,
 * and the only production source is {@link createRandomSource}, backed by `crypto.getRandomValues`
 * (a CSPRNG; Google's `go/rand/rand.go` reads only `crypto/rand` for the same reason: a predictable
 * noise generator voids the privacy claim). Deterministic sources for tests and simulations are
 * built with {@link randomSourceFromFill} over a seeded keystream, and live only in `tests/` and
 * `simulations/`.
 *
 * Integers are produced by rejection sampling, never by `floor(u * n)` on a float, so every value
 * in `[0, n)` has probability exactly `1/n`.
 *
 * @example
 * const rng: RandomSource = createRandomSource(); rng.uniformInt(10)
 */
export interface RandomSource {
  /** A uniform integer in `[0, 2^32)`. */
  nextUint32(): number
  /** `k` uniform random bits (`0 <= k <= 53`) as a number in `[0, 2^k)`. */
  bits(k: number): number
  /** A uniform integer in `[0, n)` for a safe integer `1 <= n <= 2^53`. */
  uniformInt(n: number): number
  /** A uniform bigint in `[0, n)` for any `n >= 1n`. */
  uniformBigInt(n: bigint): bigint
}

/**
 * Fills `words` with uniform 32-bit values.
 * @example
 * const fill: FillWords = (w) => crypto.getRandomValues(w)
 */
export type FillWords = (words: Uint32Array) => void

/**
 * Options of {@link createRandomSource} / {@link randomSourceFromFill}.
 * @example
 * createRandomSource({ bufferWords: 4096 })
 */
export interface RandomSourceInit {
  /**
   * Words fetched per refill. `crypto.getRandomValues` costs a syscall-sized overhead per call, so
   * reading 4 KiB at a time makes a 32-bit draw cost a few nanoseconds.
   * @default 1024
   */
  bufferWords?: number
}

const TWO_32 = 2 ** 32
const TWO_53 = 2 ** 53
// crypto.getRandomValues refuses more than 65,536 bytes per call (WebCrypto quota).
const MAX_BUFFER_WORDS = 16384

/**
 * A `RandomSource` backed by `crypto.getRandomValues`, with buffered reads.
 *
 * @example
 * const rng = createRandomSource()
 * rng.uniformInt(6) // a fair die roll in [0, 6)
 */
export function createRandomSource(init: RandomSourceInit = {}): RandomSource {
  return randomSourceFromFill((words) => {
    globalThis.crypto.getRandomValues(words)
  }, init)
}

/**
 * A `RandomSource` over any word generator. Production code passes only the CSPRNG (see
 * {@link createRandomSource}); tests pass a seeded keystream to make samplers reproducible.
 *
 * @example
 * const rng = randomSourceFromFill((w) => crypto.getRandomValues(w))
 * rng.uniformBigInt(10n ** 30n)
 */
export function randomSourceFromFill(fill: FillWords, init: RandomSourceInit = {}): RandomSource {
  const size = init.bufferWords ?? 1024
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_BUFFER_WORDS) {
    throw new CryptoArgumentError(`bufferWords must be an integer in [1, ${MAX_BUFFER_WORDS}], got ${size}`)
  }
  const buf = new Uint32Array(size)
  let pos = size

  const nextUint32 = (): number => {
    if (pos === size) {
      fill(buf)
      pos = 0
    }
    return buf[pos++]!
  }

  const bits = (k: number): number => {
    if (k <= 0) return 0
    if (k <= 32) return nextUint32() >>> (32 - k)
    if (k > 53) throw new CryptoArgumentError(`bits: k must be <= 53, got ${k}`)
    const hi = nextUint32() >>> (64 - k)
    return hi * TWO_32 + nextUint32()
  }

  const uniformInt = (n: number): number => {
    if (!Number.isSafeInteger(n) && n !== TWO_53) {
      throw new CryptoArgumentError(`uniformInt: n must be a safe integer, got ${n}`)
    }
    if (n < 1) throw new CryptoArgumentError(`uniformInt: n must be >= 1, got ${n}`)
    if (n <= TWO_32) {
      // Accept u < limit, the largest multiple of n that fits in 2^32; then u mod n is uniform.
      // Rejection probability (2^32 mod n) / 2^32 < n / 2^32.
      const limit = TWO_32 - (TWO_32 % n)
      for (;;) {
        const u = nextUint32()
        if (u < limit) return u % n
      }
    }
    // n > 2^32: draw bitLength(n - 1) bits and reject values >= n (expected < 2 draws).
    const k = bitLength(n - 1)
    for (;;) {
      const u = bits(k)
      if (u < n) return u
    }
  }

  const uniformBigInt = (n: bigint): bigint => {
    if (typeof n !== 'bigint' || n < 1n)
      throw new CryptoArgumentError(`uniformBigInt: n must be a bigint >= 1n`)
    if (n <= BigInt(TWO_53)) return BigInt(uniformInt(Number(n)))
    const k = (n - 1n).toString(2).length
    const words = Math.ceil(k / 32)
    const topBits = k - 32 * (words - 1)
    for (;;) {
      let u = BigInt(bits(topBits))
      for (let i = 1; i < words; i++) u = (u << 32n) | BigInt(nextUint32())
      if (u < n) return u
    }
  }

  return Object.freeze({ nextUint32, bits, uniformInt, uniformBigInt })
}

/** Number of bits of a non-negative safe integer (0 for 0). */
function bitLength(n: number): number {
  if (n < TWO_32) return 32 - Math.clz32(n)
  return 32 + (32 - Math.clz32(Math.floor(n / TWO_32)))
}
