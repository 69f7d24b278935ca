/**
 * Secret uniform permutations for PSI (Fisher–Yates, Knuth vol. 2 §3.4.2 Algorithm P), drawn from
 * crypto.getRandomValues with rejection sampling so every index is exactly uniform. A party permutes
 * its own ids before hashing (so the order of its blinded set says nothing about its rows) and the
 * shuffler permutes the leader's fully blinded set (so the leader cannot relate it to its rows).
 */

const CHUNK = 16_384

/**
 * A uniformly random permutation of [0, n): out[i] is the original index placed at position i.
 *
 * @example
 * const perm = randomPermutation(5) // e.g. Uint32Array [3, 0, 4, 1, 2]
 */
export function randomPermutation(n: number): Uint32Array {
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 32 - 1)
    throw new RangeError('n must be an integer in [0, 2^32)')
  const perm = new Uint32Array(n)
  for (let i = 0; i < n; i++) perm[i] = i
  const size = Math.max(1, Math.min(CHUNK, n))
  const rnd = new Uint32Array(size)
  let at = size
  const next = (): number => {
    if (at === size) {
      crypto.getRandomValues(rnd)
      at = 0
    }
    return rnd[at++]!
  }
  for (let i = n - 1; i > 0; i--) {
    // Uniform j in [0, i]: reject draws from the incomplete top block of [0, 2^32).
    const bound = i + 1
    const limit = 2 ** 32 - (2 ** 32 % bound)
    let r = next()
    while (r >= limit) r = next()
    const j = r % bound
    const t = perm[i]!
    perm[i] = perm[j]!
    perm[j] = t
  }
  return perm
}

/**
 * Applies a permutation to packed fixed-size records: out[i] = records[perm[i]].
 *
 * @example
 * const shuffled = permutePacked(points, perm, 32)
 */
export function permutePacked(records: Uint8Array, perm: Uint32Array, size: number): Uint8Array {
  if (records.length !== perm.length * size) throw new RangeError('records and permutation differ in length')
  const out = new Uint8Array(records.length)
  for (let i = 0; i < perm.length; i++) {
    const from = perm[i]! * size
    out.set(records.subarray(from, from + size), i * size)
  }
  return out
}
