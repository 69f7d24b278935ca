/**
 * Options, the announced plan, the public batch schedule and the DP calibration of vertical LR.
 *
 * DP model (label protection): every gradient of a batch is released noisy, the feature parties'
 * X_pᵀ r / B and the label party's own [X_L | 1]ᵀ r / B, each + N(0, (z·C/B)²) per coordinate.
 * Neighbouring datasets differ in one label; a label changes r_i by exactly 1 (r_i = a_i + c_i·s_i, a
 * label moves a_i by 1, linearization.ts), and every party's rows (the label party's with the
 * intercept's ones column) are clipped to L2 norm C by their owners, so each gradient has L2
 * sensitivity C. L's own update must be noisy too: its weights set the next batches' a_i and c_i, so
 * an exact update would carry every label into later releases. With it noisy, every party's weights
 * are post-processing of earlier noisy releases, a row is in exactly one batch per epoch (adaptive
 * parallel composition) and each batch is featureParties + 1 Gaussian mechanisms on its labels: a
 * row's privacy loss is epochs × (featureParties + 1) Gaussian mechanisms of multiplier z (RDP
 * composition; no amplification by sampling is claimed, the batch order is public).
 */
import { createRdpAccountant } from '../../../crypto/dp/accountants/rdp.ts'
import { gaussianEvent } from '../../../crypto/dp/events.ts'
import { hashCanonical } from '../../../crypto/hash.ts'
import { publicSeedSource } from '../../training/public-seed.ts'
import type { VerticalParty } from '../types.ts'
import { VerticalLrPlanError } from './errors.ts'
import type { VerticalLrApproximation } from './linearization.ts'
import { VLR_APPROXIMATIONS } from './linearization.ts'

/** Largest batch: one CKKS-8192 ciphertext holds 4096 rows. */
export const MAX_VLR_BATCH = 4096
/** Most parties in one session. */
export const MAX_VLR_PARTIES = 16
/** Most rows of the aligned intersection. */
export const MAX_VLR_ROWS = 10_000_000
/** Most columns one party may hold. */
export const MAX_VLR_COLS = 16_384
/** Most epochs. */
export const MAX_VLR_EPOCHS = 10_000
/** Default delta when the DP options give a noise multiplier without one. */
export const DEFAULT_VLR_DELTA = 1e-5

/** Training options (chosen by the label party, announced in the plan). */
export interface VerticalLrOptions {
  epochs: number
  /** Rows per mini-batch, ≤ 4096 and > the label party's column count + 1. */
  batchSize: number
  learningRate: number
  /** L2 penalty λ on the mean loss: objective = mean logistic loss + λ/2·‖w‖² (intercept excluded). */
  l2?: number
  /** @default 'adam' */
  optimizer?: 'adam' | 'sgd'
  /** How the sigmoid is linearized (linearization.ts). @default 'anchored' */
  approximation?: VerticalLrApproximation
  /** Public: the batch order of every epoch. */
  seed: string
  /** Label-DP Gaussian noise on the released gradients: a noise multiplier, or a target (ε, δ). */
  dp?:
    | { noiseMultiplier: number; clipNorm: number; delta?: number }
    | { epsilon: number; delta: number; clipNorm: number }
}

/** The resolved DP parameters in a plan. */
export interface VerticalLrDpPlan {
  readonly noiseMultiplier: number
  readonly clipNorm: number
  readonly delta: number
  /** ε of the whole run at `delta` (RDP accountant). */
  readonly epsilon: number
}

/** What the label party announces: options, test-row flags, key fingerprints, party list. */
export interface VerticalLrPlan {
  readonly sessionId: string
  /** Protocol variant: linearized residual a + c ⊙ s, one CKKS key pair per party. */
  readonly scheme: 'linearized-2key-ckks/v2'
  readonly approximation: VerticalLrApproximation
  /** Fingerprint of the CKKS parameters (crypto/he HeContext.fingerprint). */
  readonly heParams: string
  readonly parties: readonly VerticalParty[]
  readonly rows: number
  /** 1 = held out (test), per aligned row. */
  readonly testRows: Uint8Array
  /** Columns of the label party's cross-term matrix: its features + 1 (the intercept column). */
  readonly labelCols: number
  readonly epochs: number
  readonly batchSize: number
  readonly learningRate: number
  readonly l2: number
  readonly optimizer: 'adam' | 'sgd'
  readonly seed: string
  readonly dp: VerticalLrDpPlan | null
  /** publicKeyFingerprint of the label party's CKKS key. */
  readonly labelKeyFingerprint: string
  /** Feature party that returns the encrypted batch loss Σ r² (the first one). */
  readonly lossParty: string
  /** Masks are uniform on [−2^maskBits, 2^maskBits]. */
  readonly maskBits: number
}

/** Mask magnitude: |value + mask| must stay under the CKKS bound 2^18 at the last level. */
export const VLR_MASK_BITS = 17

function finitePositive(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw new VerticalLrPlanError(`${what} must be a finite number > 0, got ${String(v)}`)
  return v
}

function intIn(v: unknown, min: number, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    throw new VerticalLrPlanError(`${what} must be an integer in [${min}, ${max}], got ${String(v)}`)
  return v
}

/** Gaussian releases per batch: one gradient per feature party and the label party's own. */
export function vlrReleasesPerBatch(featureParties: number): number {
  return featureParties + 1
}

/**
 * ε of a run: epochs × (featureParties + 1) Gaussian releases of multiplier z per row, at `delta`.
 *
 * @example
 * vlrEpsilon({ noiseMultiplier: 4, epochs: 5, featureParties: 2, delta: 1e-5 })
 */
export function vlrEpsilon(p: {
  noiseMultiplier: number
  epochs: number
  featureParties: number
  delta: number
}) {
  const count = p.epochs * vlrReleasesPerBatch(p.featureParties)
  if (p.epochs === 0) return 0
  return createRdpAccountant().compose(gaussianEvent(p.noiseMultiplier), count).epsilon(p.delta)
}

/** Smallest multiplier (to 1e-4 relative) whose run ε is ≤ the target. */
function calibrateMultiplier(epsilon: number, delta: number, epochs: number, featureParties: number) {
  const eps = (z: number) => vlrEpsilon({ noiseMultiplier: z, epochs, featureParties, delta })
  let lo = 0
  let hi = 1
  while (eps(hi) > epsilon) {
    lo = hi
    hi *= 2
    if (hi > 1e6) throw new VerticalLrPlanError(`no noise multiplier up to 1e6 reaches epsilon ${epsilon}`)
  }
  while (hi - lo > 1e-4 * hi) {
    const mid = (lo + hi) / 2
    if (eps(mid) <= epsilon) hi = mid
    else lo = mid
  }
  return hi
}

/**
 * Checks the options and resolves the DP parameters for `featureParties` feature parties.
 *
 * @throws VerticalLrPlanError for any bad option
 * @example
 * const dp = resolveDp(options, 2)
 */
export function resolveDp(options: VerticalLrOptions, featureParties: number): VerticalLrDpPlan | null {
  const dp = options.dp
  if (dp === undefined) return null
  const clipNorm = finitePositive(dp.clipNorm, 'dp.clipNorm')
  if ('epsilon' in dp) {
    const epsilon = finitePositive(dp.epsilon, 'dp.epsilon')
    const delta = finitePositive(dp.delta, 'dp.delta')
    if (delta >= 1) throw new VerticalLrPlanError('dp.delta must be < 1')
    const z = calibrateMultiplier(epsilon, delta, options.epochs, featureParties)
    return {
      noiseMultiplier: z,
      clipNorm,
      delta,
      epsilon: vlrEpsilon({ noiseMultiplier: z, epochs: options.epochs, featureParties, delta })
    }
  }
  const z = finitePositive(dp.noiseMultiplier, 'dp.noiseMultiplier')
  const delta = dp.delta ?? DEFAULT_VLR_DELTA
  finitePositive(delta, 'dp.delta')
  if (delta >= 1) throw new VerticalLrPlanError('dp.delta must be < 1')
  return {
    noiseMultiplier: z,
    clipNorm,
    delta,
    epsilon: vlrEpsilon({ noiseMultiplier: z, epochs: options.epochs, featureParties, delta })
  }
}

/**
 * Validates the training options (without DP).
 *
 * @throws VerticalLrPlanError
 * @example
 * checkOptions({ epochs: 5, batchSize: 1024, learningRate: 0.05, seed: 'job-1' }, 9)
 */
export function checkOptions(options: VerticalLrOptions, labelCols: number): void {
  if (options === null || typeof options !== 'object') throw new VerticalLrPlanError('options are required')
  intIn(options.epochs, 1, MAX_VLR_EPOCHS, 'epochs')
  intIn(
    options.batchSize,
    labelCols + 1,
    MAX_VLR_BATCH,
    'batchSize (must exceed the label party columns + 1)'
  )
  finitePositive(options.learningRate, 'learningRate')
  if (options.l2 !== undefined && !(Number.isFinite(options.l2) && options.l2 >= 0))
    throw new VerticalLrPlanError(`l2 must be a finite number >= 0, got ${String(options.l2)}`)
  if (options.optimizer !== undefined && options.optimizer !== 'adam' && options.optimizer !== 'sgd')
    throw new VerticalLrPlanError(`optimizer must be 'adam' or 'sgd', got ${String(options.optimizer)}`)
  if (options.approximation !== undefined && !VLR_APPROXIMATIONS.includes(options.approximation))
    throw new VerticalLrPlanError(
      `approximation must be one of ${VLR_APPROXIMATIONS.join(', ')}, got ${String(options.approximation)}`
    )
  if (typeof options.seed !== 'string' || options.seed.length === 0 || options.seed.length > 256)
    throw new VerticalLrPlanError('seed must be a non-empty string of at most 256 characters')
}

/** The training rows (test flag 0), ascending. */
export function trainRowsOf(testRows: Uint8Array): Uint32Array {
  let n = 0
  for (const f of testRows) if (f === 0) n++
  const out = new Uint32Array(n)
  let k = 0
  for (let i = 0; i < testRows.length; i++) if (testRows[i] === 0) out[k++] = i
  return out
}

/** The test rows (test flag 1), ascending. */
export function testRowsOf(testRows: Uint8Array): Uint32Array {
  const out: number[] = []
  for (let i = 0; i < testRows.length; i++) if (testRows[i] === 1) out.push(i)
  return Uint32Array.from(out)
}

/**
 * The public batch schedule of one epoch: the training rows shuffled with a stream keyed by
 * (seed, epoch), cut into batches of batchSize; a last batch not larger than labelCols is dropped (a
 * batch must have more rows than the label party's cross-term columns). Every party computes the same.
 *
 * @example
 * const batches = epochBatches(plan, 0) // Uint32Array[] of aligned row indices
 */
export function epochBatches(
  plan: Pick<VerticalLrPlan, 'seed' | 'batchSize' | 'labelCols' | 'testRows'>,
  epoch: number,
  train: Uint32Array = trainRowsOf(plan.testRows)
): Uint32Array[] {
  const order = Uint32Array.from(train)
  const key = hashCanonical('cohort/vertical-lr-batches/v1', [plan.seed, epoch])
  const rng = publicSeedSource(key, 'cohort/vertical-lr-batches/v1')
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.uniformInt(i + 1)
    const t = order[i]!
    order[i] = order[j]!
    order[j] = t
  }
  const out: Uint32Array[] = []
  for (let s = 0; s < order.length; s += plan.batchSize) {
    const batch = order.subarray(s, Math.min(order.length, s + plan.batchSize))
    if (batch.length > plan.labelCols) out.push(batch)
  }
  return out
}

/** Number of batches per epoch (the same every epoch). */
export function batchesPerEpoch(plan: Pick<VerticalLrPlan, 'batchSize' | 'labelCols' | 'testRows'>): number {
  const n = trainRowsOf(plan.testRows).length
  const full = Math.floor(n / plan.batchSize)
  const rest = n - full * plan.batchSize
  return full + (rest > plan.labelCols ? 1 : 0)
}
