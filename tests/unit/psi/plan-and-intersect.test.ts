/** Chain routes, the ordered packed intersection, permutations and the PSI wire codec. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { intersectPacked, PackedIndex } from '../../../protocols/psi/intersect.ts'
import { MAX_PSI_FRAME_BYTES } from '../../../protocols/psi/limits.ts'
import {
  decodePsiRequest,
  encodePsi,
  packPositions,
  unpackPositions
} from '../../../protocols/psi/messages.ts'
import { permutePacked, randomPermutation } from '../../../protocols/psi/permutation.ts'
import {
  batchCount,
  chainRoute,
  incomingChains,
  nextHop,
  normaliseId,
  previousHop,
  psiSaltCommitment
} from '../../../protocols/psi/plan.ts'

describe('chain routes', () => {
  for (let n = 2; n <= 6; n++) {
    it(`n = ${n}: every chain visits every party once and ends fully blinded at the leader`, () => {
      for (let c = 0; c < n; c++) {
        const route = chainRoute(n, c)
        expect(route[0]).toBe(c)
        expect([...route].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i))
        // The leader applies its key last on others' chains; the shuffler sends the leader's chain home.
        if (c === 0) expect(nextHop(n, 0, n - 1)).toBe(0)
        else expect(route[n - 1]).toBe(0)
        for (let i = 1; i < route.length; i++) expect(previousHop(n, c, route[i]!)).toBe(route[i - 1])
      }
      for (let at = 0; at < n; at++) {
        // Every chain but our own reaches us; the leader also receives its own chain home.
        const expected = Array.from({ length: n }, (_, c) => c).filter((c) => c !== at || at === 0)
        expect(incomingChains(n, at)).toEqual(expected)
      }
    })
  }

  it('batch counts cover the set exactly', () => {
    expect(batchCount(70_000, 32_768, 0)).toBe(32_768)
    expect(batchCount(70_000, 32_768, 2)).toBe(4_464)
    expect(batchCount(70_000, 32_768, 3)).toBe(0)
  })

  it('normalisation and salt commitments', () => {
    expect(normaliseId(' U00042 ', 'nfkc-casefold-trim')).toBe('u00042')
    expect(normaliseId('ｕ００４２', 'nfkc-casefold-trim')).toBe('u0042') // full-width forms (NFKC)
    expect(normaliseId(' U1', 'exact')).toBe(' U1')
    const salt = new Uint8Array(32).fill(7)
    const a = psiSaltCommitment('session-1', 'job', salt)
    expect(a).toHaveLength(32)
    expect(Buffer.from(psiSaltCommitment('session-2', 'job', salt)).equals(Buffer.from(a))).toBe(false)
    expect(
      Buffer.from(psiSaltCommitment('session-1', 'job', new Uint8Array(32))).equals(Buffer.from(a))
    ).toBe(false)
  })
})

describe('packed intersection', () => {
  const point = fc.uint8Array({ minLength: 32, maxLength: 32 })
  const pack = (pts: Uint8Array[]) => {
    const out = new Uint8Array(pts.length * 32)
    for (const [i, p] of pts.entries()) out.set(p, i * 32)
    return out
  }
  const hex = (set: Uint8Array, i: number) => Buffer.from(set.subarray(i * 32, i * 32 + 32)).toString('hex')

  it('finds exactly the common points, in ascending byte order, at the right positions', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(point, { selector: (p) => Buffer.from(p).toString('hex'), maxLength: 60 }),
        fc.integer({ min: 2, max: 4 }),
        fc.nat(),
        (pool, n, seed) => {
          // Each set takes a pseudo-random subset of the pool, in a pseudo-random order.
          const sets = Array.from({ length: n }, (_, j) =>
            pack(pool.filter((_, i) => (i * 7 + j * 13 + seed) % 5 !== 0).reverse())
          )
          const { size, positions } = intersectPacked(sets)
          const common = [...new Set(pool.map((p) => Buffer.from(p).toString('hex')))].filter((h) =>
            sets.every((s) => Array.from({ length: s.length / 32 }, (_, i) => hex(s, i)).includes(h))
          )
          expect(size).toBe(common.length)
          const ordered = [...common].sort()
          for (let j = 0; j < n; j++) {
            expect(Array.from(positions[j]!, (p) => hex(sets[j]!, p))).toEqual(ordered)
          }
        }
      ),
      { numRuns: 100 }
    )
  })

  it('an index finds its own points and misses others', () => {
    const pts = Array.from({ length: 1000 }, () => crypto.getRandomValues(new Uint8Array(32)))
    const index = new PackedIndex(pack(pts))
    expect(index.find(pack(pts), 999 * 32)).toBe(999)
    expect(index.find(crypto.getRandomValues(new Uint8Array(32)), 0)).toBe(-1)
  })
})

describe('permutations', () => {
  it('is a permutation, and permutePacked moves records accordingly', () => {
    const perm = randomPermutation(1000)
    expect([...perm].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i))
    const recs = Uint8Array.from({ length: 4 * 3 }, (_, i) => Math.floor(i / 3))
    const out = permutePacked(recs, Uint32Array.of(2, 0, 3, 1), 3)
    expect([...out]).toEqual([2, 2, 2, 0, 0, 0, 3, 3, 3, 1, 1, 1])
  })

  it('every position is reachable by every element (first position, 4000 draws of n = 4)', () => {
    const counts = new Array(4).fill(0)
    for (let i = 0; i < 4000; i++) counts[randomPermutation(4)[0]!]++
    // Each ~1000: a binomial tail beyond ±200 has probability < 1e-10.
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(200)
  })
})

describe('PSI wire codec', () => {
  const head = { v: 1, sessionId: 'session-0001' }
  it('round-trips a batch and positions', () => {
    const points = crypto.getRandomValues(new Uint8Array(64))
    const req = decodePsiRequest(encodePsi({ ...head, phase: 'batch', chain: 1, seq: 0, points }))
    expect(req.phase).toBe('batch')
    expect([...unpackPositions(packPositions(Uint32Array.of(0, 7, 4_000_000_000)))]).toEqual([
      0, 7, 4_000_000_000
    ])
  })

  it('refuses malformed, unknown-field, partial-point and oversized frames', () => {
    expect(() => decodePsiRequest(Uint8Array.of(0xc1))).toThrow(
      expect.objectContaining({ code: 'COHORT_MALFORMED_MESSAGE' })
    )
    expect(() =>
      decodePsiRequest(encodePsi({ ...head, phase: 'done', intersectionSize: 3, extra: 1 }))
    ).toThrow(expect.objectContaining({ code: 'COHORT_MALFORMED_MESSAGE' }))
    expect(() =>
      decodePsiRequest(encodePsi({ ...head, phase: 'batch', chain: 0, seq: 0, points: new Uint8Array(33) }))
    ).toThrow(expect.objectContaining({ code: 'COHORT_MALFORMED_MESSAGE' }))
    expect(() => decodePsiRequest(new Uint8Array(MAX_PSI_FRAME_BYTES + 1))).toThrow(
      expect.objectContaining({ code: 'COHORT_MESSAGE_TOO_LARGE' })
    )
  })
})
