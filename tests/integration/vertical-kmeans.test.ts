/**
 * Vertical k-means end to end over the loopback transport on datasets/credit_data: three parties
 * (lender = label party and lead, payroll_provider, retailer) hold the columns of
 * partitions/vertical.json for the intersection of partitions/vertical_overlap.json; training rows are
 * row_index % 5 != 0. Acceptance (issue 7): k = 4 training inertia within 5% of centralized k-means on
 * the pooled intersection training rows (plain k-means++ / Lloyd, n_init 10, and the project's
 * trainKMeans; the lower one is the reference). The main session runs with DP (epsilon = 1): DP only
 * touches the released profile, so the same session checks the noisy profile and the charges.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { composeAll } from '../../crypto/dp/budget.ts'
import { makeDataset } from '../../node/training/matrix.ts'
import { runVerticalKMeansLead, runVerticalKMeansMember } from '../../protocols/vertical/kmeans/index.ts'
import { releaseCalibration } from '../../protocols/vertical/kmeans/profile.ts'
import type {
  VerticalKMeansLeadResult,
  VerticalKMeansMemberResult
} from '../../protocols/vertical/kmeans/index.ts'
import type { VerticalCharge, VerticalParty } from '../../protocols/vertical/types.ts'
import { trainKMeans } from '../../simulations/baselines/centralized.ts'
import { createLoopbackNetwork } from '../../simulations/loopback-transport.ts'
import { seededRandom } from '../helpers/seeded-random.ts'
import { loadVerticalKMeansData, plainKMeans } from '../helpers/vertical-kmeans-data.ts'
import type { VerticalKMeansData } from '../helpers/vertical-kmeans-data.ts'

const K = 4
let data: VerticalKMeansData
let parties: VerticalParty[]
let reference: number

beforeAll(async () => {
  data = await loadVerticalKMeansData('credit_data')
  parties = data.parties.map((p) => ({
    peer: `peer-${p.name}`,
    name: p.name,
    role: p.name === 'lender' ? 'label' : 'feature'
  }))
  const { x, rows, cols } = data.pooledTrain
  const plain = plainKMeans(x, rows, cols, K, 10, seededRandom('vertical-kmeans/reference'))
  const pooled = makeDataset({ x, y: null, features: cols })
  const project = await trainKMeans(pooled, pooled, { k: K, silhouetteRows: 0 })
  reference = Math.min(plain.inertia, project.inertiaTrain)
})

interface Run {
  lead: VerticalKMeansLeadResult
  members: VerticalKMeansMemberResult[]
  charges: Map<string, Array<Parameters<VerticalCharge>[0]>>
  ms: number
}

async function run(sessionId: string, options: Parameters<typeof runVerticalKMeansLead>[0]['options']) {
  const net = createLoopbackNetwork()
  const charges: Run['charges'] = new Map()
  const charge =
    (name: string): VerticalCharge =>
    async (c) => {
      charges.set(name, [...(charges.get(name) ?? []), c])
    }
  const started = performance.now()
  const members = data.parties.slice(1).map((p, i) =>
    runVerticalKMeansMember({
      transport: net.transport(parties[i + 1]!.peer),
      sessionId,
      parties,
      slice: p.slice,
      charge: charge(p.name)
    })
  )
  const lead = await runVerticalKMeansLead({
    transport: net.transport(parties[0]!.peer),
    sessionId,
    parties,
    slice: data.parties[0]!.slice,
    trainRows: data.train,
    options,
    charge: charge('lender')
  })
  return { lead, members: await Promise.all(members), charges, ms: performance.now() - started } satisfies Run
}

/** Exact per-segment means of a party's own features over every aligned row. */
function exactMeans(slice: VerticalKMeansData['parties'][number]['slice'], labels: Int32Array) {
  const d = slice.cols
  const sums = new Float64Array(K * d)
  const counts = new Float64Array(K)
  labels.forEach((c, i) => {
    counts[c]!++
    for (let f = 0; f < d; f++) sums[c * d + f]! += slice.x[i * d + f]!
  })
  return { counts, means: (c: number, f: number) => sums[c * d + f]! / counts[c]! }
}

describe('vertical k-means on credit_data (3 parties, k = 4)', () => {
  it('reaches the centralized training inertia (within 5%), with a DP profile (epsilon = 1)', async () => {
    const r = await run('vkm-credit-dp', { k: K, seed: 'credit-vkm', dp: { epsilon: 1, delta: 1e-5 } })
    const ratio = r.lead.inertia / reference
    console.info(
      `vertical k-means credit_data: inertia ${r.lead.inertia.toFixed(1)}, centralized ${reference.toFixed(1)}, ` +
        `ratio ${ratio.toFixed(4)}, ${r.lead.iterations} iterations, ${(r.ms / 1000).toFixed(1)} s`
    )
    expect(ratio).toBeLessThan(1.05)
    expect(ratio).toBeGreaterThan(0.95)

    // The reported inertia is the pooled inertia of the final assignments and the parties' slices.
    const labels = r.lead.assignments
    expect(labels.length).toBe(data.rowIndex.length)
    for (const m of r.members) expect(Array.from(m.assignments)).toEqual(Array.from(labels))
    const models = [r.lead.model, ...r.members.map((m) => m.model)]
    let pooled = 0
    data.parties.forEach((p, pi) => {
      const d = p.slice.cols
      expect(models[pi]!.featureNames).toEqual(p.slice.featureNames)
      for (let i = 0; i < p.slice.rows; i++) {
        if (data.train[i] !== 1) continue
        const c = models[pi]!.centroids[labels[i]!]!
        for (let f = 0; f < d; f++) pooled += (p.slice.x[i * d + f]! - c[f]!) ** 2
      }
    })
    expect(Math.abs(pooled - r.lead.inertia) / pooled).toBeLessThan(1e-6)

    // DP: one (epsilon, delta) charge per party, before the release; noisy sizes close to n.
    expect(r.lead.epsilon).toBeLessThanOrEqual(1)
    expect(r.lead.epsilon).toBeGreaterThan(0.9)
    for (const p of parties) {
      expect(r.charges.get(p.name)).toEqual([
        {
          epsilon: r.lead.epsilon,
          delta: 1e-5,
          mechanism: 'gaussian',
          // P + 1 Gaussian releases per customer (3 parties' sums and the sizes): what the ledger books
          event: {
            kind: 'self-composed',
            count: 4,
            event: { kind: 'gaussian', noiseMultiplier: expect.any(Number) }
          }
        }
      ])
      expect(composeAll([r.charges.get(p.name)![0]!.event]).epsilon(1e-5)).toBeCloseTo(r.lead.epsilon!, 9)
    }
    // Sizes: counts + N(0, z²), z calibrated for the 4 releases (sizes + 3 parties' sums).
    const z = releaseCalibration(1, 1e-5, 3).noiseMultiplier
    const n = data.rowIndex.length
    const sizes = r.lead.profile.sizes
    for (const m of r.members) expect(m.profile.sizes).toEqual(sizes)
    expect(Math.abs(sizes.reduce((a, b) => a + b, 0) - n)).toBeLessThan(6 * z * Math.sqrt(K))
    const exact = exactMeans(data.parties[0]!.slice, labels)
    expect(sizes).not.toEqual(Array.from(exact.counts))
    for (let c = 0; c < K; c++) expect(Math.abs(sizes[c]! - exact.counts[c]!)).toBeLessThan(6 * z + 1)
    // Means = (sums of row slices clipped to √cols + N(0, (z·clip)²)) / released size: the noise is
    // what the calibration says, and every mean is noisy.
    const profiles = [r.lead.profile, ...r.members.map((m) => m.profile)]
    let worst = 0
    let bias = 0
    data.parties.forEach((p, pi) => {
      const d = p.slice.cols
      const clip = Math.sqrt(d)
      const clipped = new Float64Array(K * d)
      labels.forEach((c, i) => {
        const row = p.slice.x.subarray(i * d, (i + 1) * d)
        const norm = Math.hypot(...row)
        for (let f = 0; f < d; f++) clipped[c * d + f]! += row[f]! * Math.min(1, clip / norm)
      })
      const e = exactMeans(p.slice, labels)
      p.slice.featureNames.forEach((name, f) => {
        const got = profiles[pi]!.means[name]!
        expect(got).toHaveLength(K)
        for (let c = 0; c < K; c++) {
          const expected = clipped[c * d + f]! / sizes[c]!
          const sd = (z * clip) / sizes[c]!
          expect(got[c]).not.toBe(expected)
          expect(Math.abs(got[c]! - expected)).toBeLessThan(6 * sd)
          worst = Math.max(worst, Math.abs(got[c]! - expected) / sd)
          bias = Math.max(bias, Math.abs(e.means(c, f) - clipped[c * d + f]! / e.counts[c]!))
        }
      })
    })
    console.info(
      `DP profile: z = ${z.toFixed(2)}, sizes ${sizes} (exact ${Array.from(exact.counts)}), largest mean noise ${worst.toFixed(2)} sd, largest clipping bias ${bias.toFixed(3)}`
    )
  }, 240_000)

  it('releases the exact profile without DP and charges nothing', async () => {
    const r = await run('vkm-credit-plain', { k: K, seed: 'credit-vkm-2', nInit: 1, maxIterations: 4 })
    expect(r.lead.epsilon).toBeUndefined()
    expect(r.charges.size).toBe(0)
    expect(r.lead.iterations).toBeLessThanOrEqual(4)
    const profiles = [r.lead.profile, ...r.members.map((m) => m.profile)]
    data.parties.forEach((p, pi) => {
      const e = exactMeans(p.slice, r.lead.assignments)
      expect(profiles[pi]!.sizes).toEqual(Array.from(e.counts))
      p.slice.featureNames.forEach((name, f) => {
        for (let c = 0; c < K; c++) expect(profiles[pi]!.means[name]![c]).toBeCloseTo(e.means(c, f), 9)
      })
    })
  })
})
