import type { SyntheticConfig } from '../../configs/scenario.ts'
import { floats, simRandom } from '../rng.ts'

/**
 * Seeded synthetic customer data for scale tests: `segments` Gaussian clusters in `features`
 * numeric columns (each on a customer-like scale), a categorical `channel` that leans on the
 * segment, and a binary risk label drawn from a logistic model of the standardised features plus a
 * segment effect. The true segment is kept as an ignored column, so a segmentation can be scored
 * against it. The minimal spec (docs/datasets.md) goes with it; the split is row_index % 5 == 0.
 */

/** Customer-like names, scales (offset, spread), lower bounds and integrality of the first numeric columns. */
const NAMED: ReadonlyArray<readonly [string, number, number, number, boolean]> = [
  ['age', 42, 9, 18, true],
  ['income', 4200, 1500, 0, false],
  ['tenure_months', 48, 20, 0, true],
  ['balance', 2500, 1800, 0, false],
  ['utilization', 0.45, 0.18, 0, false],
  ['n_products', 3, 1.2, 1, true],
  ['late_payments', 1.2, 0.9, 0, true],
  ['monthly_spend', 900, 350, 0, false]
]

const CHANNELS = ['branch', 'online', 'partner'] as const

/**
 * Ground truth of a generated dataset.
 * @example
 * generateSynthetic(cfg, 1).truth.centres.length // cfg.segments
 */
export interface SyntheticTruth {
  /** Segment centres in standard units, segments × features. */
  centres: number[][]
  /** Logistic weights on the standard-unit features, then the segment effects. */
  weights: number[]
  segmentEffects: number[]
  intercept: number
}

/**
 * A generated dataset: CSV header and data lines, the minimal spec, and the ground truth.
 * @example
 * const d = generateSynthetic(SyntheticConfig.parse({ rows: 1000 }), 7)
 */
export interface SyntheticDataset {
  header: string
  lines: string[]
  spec: Record<string, unknown>
  truth: SyntheticTruth
  /** True segment of each row. */
  segments: Int32Array
  /** Label of each row (1 = default). */
  labels: Uint8Array
}

/** Name of numeric column j. */
function columnName(j: number): string {
  return NAMED[j]?.[0] ?? `feature_${String(j + 1).padStart(2, '0')}`
}

/** Raw value of numeric column j from its standard-unit value. */
function rawValue(j: number, z: number): string {
  const n = NAMED[j]
  if (n === undefined) return z.toFixed(4)
  const [, offset, spread, lower, integer] = n
  const v = Math.max(lower, offset + spread * z)
  return integer ? String(Math.round(v)) : v.toFixed(spread >= 100 ? 0 : spread >= 1 ? 2 : 4)
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z))

/**
 * The minimal spec of a synthetic dataset with `features` numeric columns.
 * @example
 * syntheticSpec(8).target // { column: 'default', levels: ['no', 'yes'], positive: 'yes' }
 */
export function syntheticSpec(features: number): Record<string, unknown> {
  return {
    id: 'uid',
    index: 'row_index',
    target: { column: 'default', levels: ['no', 'yes'], positive: 'yes' },
    split: { modulus: 5, test: 0 },
    columns: [
      { name: 'row_index', type: 'index' },
      { name: 'uid', type: 'id' },
      ...Array.from({ length: features }, (_, j) => ({ name: columnName(j), type: 'number' })),
      { name: 'channel', type: 'category', levels: [...CHANNELS] },
      { name: 'segment', type: 'ignore' },
      { name: 'default', type: 'target' }
    ]
  }
}

/**
 * Generates the dataset (deterministic in `cfg` and `seed`).
 *
 * @example
 * const d = generateSynthetic({ rows: 200_000, segments: 4, features: 8, positiveRate: 0.2, separation: 4 }, 1)
 * d.lines.length // 200000
 */
export function generateSynthetic(cfg: SyntheticConfig, seed: number | string): SyntheticDataset {
  const f = floats(simRandom(`synthetic/${cfg.seed ?? seed}`))
  const { rows, segments: K, features: F } = cfg
  const half = cfg.separation / 2
  const centres = Array.from({ length: K }, () => Array.from({ length: F }, () => f.normal() * half))
  // Segment weights: sizes vary (some segments are niche), every one is present.
  const sizes = f.dirichlet(K, 4)
  const cum = sizes.map((_, k) => sizes.slice(0, k + 1).reduce((a, b) => a + b, 0))
  const weights = Array.from({ length: F }, (_, j) => (j % 3 === 2 ? 0 : f.normal() * 0.8))
  const segmentEffects = Array.from({ length: K }, () => f.normal() * 0.7)
  const channelLean = Array.from({ length: K }, () => f.dirichlet(CHANNELS.length, 1))
  const segs = new Int32Array(rows)
  const z = new Float64Array(rows * F)
  const logit0 = new Float64Array(rows)
  for (let i = 0; i < rows; i++) {
    const u = f.uniform()
    let k = 0
    while (k < K - 1 && u >= cum[k]!) k++
    segs[i] = k
    let s = segmentEffects[k]!
    for (let j = 0; j < F; j++) {
      const v = centres[k]![j]! + f.normal()
      z[i * F + j] = v
      s += weights[j]! * v
    }
    logit0[i] = s
  }
  const intercept = solveIntercept(logit0, cfg.positiveRate)
  const labels = new Uint8Array(rows)
  const lines = new Array<string>(rows)
  const fields = new Array<string>(F + 5)
  for (let i = 0; i < rows; i++) {
    labels[i] = f.uniform() < sigmoid(intercept + logit0[i]!) ? 1 : 0
    const lean = channelLean[segs[i]!]!
    const u = f.uniform()
    const c = u < lean[0]! ? 0 : u < lean[0]! + lean[1]! ? 1 : 2
    fields[0] = String(i)
    fields[1] = `s${String(i).padStart(8, '0')}`
    for (let j = 0; j < F; j++) fields[2 + j] = rawValue(j, z[i * F + j]!)
    fields[F + 2] = CHANNELS[c]!
    fields[F + 3] = String(segs[i])
    fields[F + 4] = labels[i] === 1 ? 'yes' : 'no'
    lines[i] = fields.join(',')
  }
  const header = [
    'row_index',
    'uid',
    ...Array.from({ length: F }, (_, j) => columnName(j)),
    'channel',
    'segment',
    'default'
  ].join(',')
  return {
    header,
    lines,
    spec: syntheticSpec(F),
    truth: { centres, weights, segmentEffects, intercept },
    segments: segs,
    labels
  }
}

/** The intercept b with mean σ(b + s_i) = rate (bisection; the mean is increasing in b). */
function solveIntercept(s: Float64Array, rate: number): number {
  let lo = -50
  let hi = 50
  for (let it = 0; it < 60; it++) {
    const mid = (lo + hi) / 2
    let m = 0
    for (let i = 0; i < s.length; i++) m += sigmoid(mid + s[i]!)
    if (m / s.length < rate) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}
