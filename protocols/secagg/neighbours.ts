/**
 * The SecAgg+ neighbour graph (Bell et al. 2020, §3 and §5: a random k-regular graph, k = O(log n),
 * instead of the complete graph of Bonawitz et al. 2017).
 *
 * Construction (deterministic from a public seed, so every party computes the same graph):
 * 1. the Harary graph H(k, n) on positions 0..n-1 (Harary 1962, "The maximum connectivity of a
 *    graph"): position p is joined to p ± 1, ..., p ± floor(k/2) (mod n); for odd k and even n also
 *    to p + n/2; for odd k and odd n also to p + (n+1)/2 for p = 0..(n-1)/2, so position 0 gets one
 *    extra edge (near-regular: one vertex of degree k+1). H(k, n) is k-connected: dropping fewer
 *    than k parties never disconnects it;
 * 2. a uniformly random permutation of the parties onto positions (Fisher-Yates driven by
 *    PRG(seed)), so a party's neighbours are random rather than its list neighbours.
 * With k = n - 1 the graph is complete (original SecAgg) and no permutation is needed.
 *
 * Invariants: the relation is symmetric and irreflexive; `neighbours(i)` is sorted ascending and
 * has k entries (k + 1 for the one near-regular vertex); `holders(i)` = neighbours(i) ∪ {i}, sorted:
 * the parties that receive a Shamir share of i's secrets, share j going to holders(i)[j - 1].
 */
import { aBytes, aInRange } from '../../crypto/asserts.ts'
import { prgExpand } from '../../crypto/prg.ts'
import { SecaggParamsError } from './errors.ts'

/** The largest number of parties in a round (Shamir x coordinates are 1..1000). */
export const MAX_SECAGG_PARTIES = 1000

/** A neighbour graph over parties 0..n-1 (indices into the round's participant list). */
export interface NeighbourGraph {
  readonly n: number
  /** Nominal degree; k = n - 1 means the complete graph. */
  readonly k: number
  readonly complete: boolean
  /** Sorted neighbour indices of party i (excluding i). */
  neighbours(i: number): readonly number[]
  /** Sorted share holders of party i: its neighbours and itself. */
  holders(i: number): readonly number[]
  isNeighbour(i: number, j: number): boolean
  /** Largest |holders(i)| over all parties. */
  readonly maxHolders: number
  /** Smallest |holders(i)| over all parties. */
  readonly minHolders: number
}

/**
 * SecAgg+'s default neighbourhood size: 2·ceil(log2 n) + 1, capped at n - 1 (15 for n = 100).
 *
 * @example
 * recommendedNeighbours(100) // 15
 */
export function recommendedNeighbours(n: number): number {
  aInRange(n, 2, MAX_SECAGG_PARTIES, 'n')
  return Math.min(n - 1, 2 * Math.ceil(Math.log2(n)) + 1)
}

/**
 * The smallest safe threshold for a holder set of `holders` parties: more than half of it, so two
 * contradictory survivor sets can never both gather t signatures from one neighbourhood
 * (README.md, "why t > |holders| / 2").
 *
 * @example
 * minimumThreshold(16) // 9
 */
export function minimumThreshold(holders: number): number {
  return Math.floor(holders / 2) + 1
}

/** Fisher-Yates permutation of 0..n-1 from a 32-byte seed (53-bit draws: modulo bias < 2^-43). */
function permutation(n: number, seed: Uint8Array): Uint32Array {
  const words = prgExpand(seed, 2 * n) as Uint32Array
  const perm = new Uint32Array(n)
  for (let i = 0; i < n; i++) perm[i] = i
  for (let i = n - 1; i > 0; i--) {
    const r = (words[2 * i]! >>> 11) * 2 ** 32 + words[2 * i + 1]!
    const j = r % (i + 1)
    const tmp = perm[i]!
    perm[i] = perm[j]!
    perm[j] = tmp
  }
  return perm
}

/** Harary H(k, n) neighbour positions of position p. */
function hararyPositions(p: number, n: number, k: number): number[] {
  const out: number[] = []
  const half = Math.floor(k / 2)
  for (let j = 1; j <= half; j++) out.push((p + j) % n, (p - j + n) % n)
  if (k % 2 === 1) {
    if (n % 2 === 0) out.push((p + n / 2) % n)
    else {
      const h = (n + 1) / 2
      // Edges {q, q + h} for q = 0..(n-1)/2: p is the lower end when p <= (n-1)/2, the upper end when p >= h.
      if (p <= (n - 1) / 2) out.push((p + h) % n)
      if (p >= h || p === 0) out.push((p - h + n) % n)
    }
  }
  return out
}

/**
 * Builds the neighbour graph of a round.
 *
 * @param n - number of parties, 2..1000
 * @param k - neighbourhood size, 1..n-1 (n - 1 = complete graph)
 * @param seed - 32 public bytes (derived from the coordinator's graph seed and the round)
 * @example
 * const g = buildNeighbourGraph(100, 15, seed)
 * g.neighbours(0) // 15 sorted indices
 */
export function buildNeighbourGraph(n: number, k: number, seed: Uint8Array): NeighbourGraph {
  aInRange(n, 2, MAX_SECAGG_PARTIES, 'n')
  if (!Number.isSafeInteger(k) || k < 1 || k > n - 1) {
    throw new SecaggParamsError(`neighbourhood size k must be in [1, ${n - 1}] for n = ${n}, got ${k}`)
  }
  aBytes(seed, 32, 'seed')
  if (k === n - 1) return completeGraph(n)
  const perm = permutation(n, seed) // position -> party
  const pos = new Uint32Array(n) // party -> position
  for (let p = 0; p < n; p++) pos[perm[p]!] = p
  const lists: number[][] = []
  const holderLists: number[][] = []
  for (let i = 0; i < n; i++) {
    const nb = hararyPositions(pos[i]!, n, k)
      .map((p) => perm[p]!)
      .sort((a, b) => a - b)
    lists.push(nb)
    holderLists.push([...nb, i].sort((a, b) => a - b))
  }
  const sizes = holderLists.map((h) => h.length)
  return Object.freeze({
    n,
    k,
    complete: false,
    neighbours: (i: number) => lists[i]!,
    holders: (i: number) => holderLists[i]!,
    isNeighbour: (i: number, j: number) => i !== j && binarySearch(lists[i]!, j),
    maxHolders: Math.max(...sizes),
    minHolders: Math.min(...sizes)
  })
}

function completeGraph(n: number): NeighbourGraph {
  const all = Array.from({ length: n }, (_, i) => i)
  const cache = new Map<number, number[]>()
  return Object.freeze({
    n,
    k: n - 1,
    complete: true,
    neighbours(i: number) {
      let nb = cache.get(i)
      if (nb === undefined) {
        nb = all.filter((j) => j !== i)
        if (cache.size < 64) cache.set(i, nb)
      }
      return nb
    },
    holders: () => all,
    isNeighbour: (i: number, j: number) => i !== j && i >= 0 && j >= 0 && i < n && j < n,
    maxHolders: n,
    minHolders: n
  })
}

function binarySearch(sorted: readonly number[], x: number): boolean {
  let lo = 0
  let hi = sorted.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const v = sorted[mid]!
    if (v === x) return true
    if (v < x) lo = mid + 1
    else hi = mid - 1
  }
  return false
}

/**
 * The Shamir x coordinate of `holder`'s share of `owner`'s secrets: its 1-based position in
 * holders(owner), or 0 when it is not a holder.
 *
 * @example
 * shareX(g, 3, 7) // e.g. 4
 */
export function shareX(graph: NeighbourGraph, owner: number, holder: number): number {
  const h = graph.holders(owner)
  let lo = 0
  let hi = h.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const v = h[mid]!
    if (v === holder) return mid + 1
    if (v < holder) lo = mid + 1
    else hi = mid - 1
  }
  return 0
}
