/**
 * SIMULATIONS ONLY: seeded randomness, so a scenario with the same seed runs the same way. Never
 * import this from crypto/, protocols/ or node/ (nodes take their RandomSource as a parameter; a
 * simulation passes one of these, production the CSPRNG).
 */
import { createCipheriv, createHash } from 'node:crypto'
import { randomSourceFromFill } from '../crypto/dp/random.ts'
import type { RandomSource } from '../crypto/dp/random.ts'

/**
 * A RandomSource over the ChaCha20 keystream keyed by SHA-256("cohort/sim-rng/v1" ‖ seed).
 *
 * @example
 * const rng = simRandom('scenario-1/lender_a')
 */
export function simRandom(seed: string | number): RandomSource {
  const key = createHash('sha256').update('cohort/sim-rng/v1').update(String(seed)).digest()
  const cipher = createCipheriv('chacha20', key, Buffer.alloc(16))
  return randomSourceFromFill(
    (words) => {
      const stream = cipher.update(Buffer.alloc(words.byteLength))
      new Uint8Array(words.buffer, words.byteOffset, words.byteLength).set(stream)
    },
    { bufferWords: 4096 }
  )
}

/**
 * 32 bytes derived from a seed and a label (identity keys, graph seeds).
 * @example
 * const seed = seedBytes32('scenario-1', 'identity/lender_a')
 */
export function seedBytes32(seed: string | number, label: string): Uint8Array {
  return new Uint8Array(
    createHash('sha256').update(`cohort/sim-seed/v1/${label}/`).update(String(seed)).digest()
  )
}

/**
 * A deterministic number in [0, 1) from a string (a hash): for decisions that must not depend on
 * the order in which concurrent code asks (message loss, jitter).
 *
 * @example
 * if (hashUnit(`${seed}/${from}/${to}/${n}`) < rate) drop()
 */
export function hashUnit(key: string): number {
  const h = createHash('sha256').update(key).digest()
  return (h.readUInt32BE(0) * 2 ** 21 + (h.readUInt32BE(4) >>> 11)) / 2 ** 53
}

/**
 * Float draws on top of a RandomSource.
 * @example
 * const f = floats(simRandom(1)); f.normal()
 */
export interface FloatDraws {
  /** Uniform in [0, 1), 53 bits. */
  uniform(): number
  /** Standard normal (Box–Muller). */
  normal(): number
  /** Gamma(shape, 1) (Marsaglia–Tsang; shape < 1 by the boost u^(1/shape)). */
  gamma(shape: number): number
  /** A point of the simplex ~ Dirichlet(alpha, …, alpha) of dimension n. */
  dirichlet(n: number, alpha: number): number[]
  /** Fisher–Yates shuffle in place. */
  shuffle<T>(a: T[]): T[]
}

/**
 * Float draws from a RandomSource.
 * @example
 * floats(simRandom('data')).dirichlet(5, 0.5)
 */
export function floats(rng: RandomSource): FloatDraws {
  let spare: number | undefined
  const uniform = () => rng.bits(53) / 2 ** 53
  const normal = () => {
    if (spare !== undefined) {
      const s = spare
      spare = undefined
      return s
    }
    let u = 0
    while (u === 0) u = uniform()
    const v = uniform()
    const r = Math.sqrt(-2 * Math.log(u))
    spare = r * Math.sin(2 * Math.PI * v)
    return r * Math.cos(2 * Math.PI * v)
  }
  const gamma = (shape: number): number => {
    if (shape < 1) {
      let u = 0
      while (u === 0) u = uniform()
      return gamma(shape + 1) * u ** (1 / shape)
    }
    const d = shape - 1 / 3
    const c = 1 / Math.sqrt(9 * d)
    for (;;) {
      let x: number
      let v: number
      do {
        x = normal()
        v = 1 + c * x
      } while (v <= 0)
      v = v * v * v
      const u = uniform()
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v
    }
  }
  return {
    uniform,
    normal,
    gamma,
    dirichlet(n, alpha) {
      const g = Array.from({ length: n }, () => gamma(alpha))
      const s = g.reduce((a, b) => a + b, 0)
      // All draws can underflow to 0 for a tiny alpha: the mass then goes to one party.
      if (!(s > 0)) {
        const one = rng.uniformInt(n)
        return g.map((_, i) => (i === one ? 1 : 0))
      }
      return g.map((x) => x / s)
    },
    shuffle(a) {
      for (let i = a.length - 1; i > 0; i--) {
        const j = rng.uniformInt(i + 1)
        const t = a[i]!
        a[i] = a[j]!
        a[j] = t
      }
      return a
    }
  }
}
