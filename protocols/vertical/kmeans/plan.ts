/**
 * Session layout shared by the lead and the members: who leads, the chain order, the resolved
 * options, and how the distance vector of an iteration is laid out and cut into batches.
 *
 * Distance vector of a `train` round over candidates [r_0, ..., r_{A-1}] and the m training rows
 * (in aligned-row order): slot ((a · m) + j) · (k − 1) + c − 1 holds the gap D(j, c) − D(j, 0) of
 * training row j between centroids c and 0 of candidate r_a (c = 1..k−1, D the squared distance). An
 * `all` round has A = 1 and every aligned row. Batches are runs of VKM_BATCH_CIPHERTEXTS · slots
 * consecutive values.
 */
import type { VerticalParty } from '../types.ts'
import { VerticalKMeansConfigError } from './errors.ts'
import {
  VKM_BATCH_CIPHERTEXTS,
  VKM_MAX_CANDIDATES,
  VKM_MAX_ITERATIONS,
  VKM_MAX_K,
  VKM_MAX_PARTIES,
  VKM_MAX_ROWS
} from './limits.ts'

/**
 * Values per `distances` batch for a context of `slots` slots.
 * @example
 * batchValues(4096) // 32768
 */
export function batchValues(slots: number): number {
  return VKM_BATCH_CIPHERTEXTS * slots
}

/**
 * Number of batches of a vector of `length` values.
 * @example
 * batchCount(40_000, 4096) // 2
 */
export function batchCount(length: number, slots: number): number {
  return Math.ceil(length / batchValues(slots))
}

/**
 * The value range [from, to) of batch `b`.
 * @example
 * batchRange(40_000, 4096, 1) // { from: 32768, to: 40000 }
 */
export function batchRange(length: number, slots: number, b: number): { from: number; to: number } {
  const size = batchValues(slots)
  return { from: b * size, to: Math.min(length, (b + 1) * size) }
}

/**
 * The lead: the party with role 'label', else the first party.
 * @example
 * leadOf(ctx.parties).peer
 */
export function leadOf(parties: readonly VerticalParty[]): VerticalParty {
  return parties.find((p) => p.role === 'label') ?? parties[0]!
}

/**
 * The members in chain order: every party but the lead, in `parties` order.
 * @example
 * chainOf(ctx.parties).map((p) => p.peer)
 */
export function chainOf(parties: readonly VerticalParty[]): VerticalParty[] {
  const lead = leadOf(parties)
  return parties.filter((p) => p !== lead)
}

/**
 * Checks the party list: 2..16 parties, distinct peers, at most one label party, `self` among them.
 *
 * @throws VerticalKMeansConfigError
 * @example
 * checkParties(ctx.parties, ctx.transport.self)
 */
export function checkParties(parties: readonly VerticalParty[], self: string): void {
  if (!Array.isArray(parties) || parties.length < 2 || parties.length > VKM_MAX_PARTIES) {
    throw new VerticalKMeansConfigError(`a session needs 2 to ${VKM_MAX_PARTIES} parties`)
  }
  const peers = new Set(parties.map((p) => p.peer))
  if (peers.size !== parties.length) throw new VerticalKMeansConfigError('parties must be distinct peers')
  if (parties.filter((p) => p.role === 'label').length > 1)
    throw new VerticalKMeansConfigError('at most one party may have role label')
  if (!peers.has(self)) throw new VerticalKMeansConfigError(`${self} is not a party of the session`)
}

/**
 * Training-row indices (ascending) from the per-row flags.
 * @example
 * trainIndices(Uint8Array.of(1, 0, 1)) // Int32Array [0, 2]
 */
export function trainIndices(train: Uint8Array): Int32Array {
  let m = 0
  for (const f of train) if (f === 1) m++
  const out = new Int32Array(m)
  let j = 0
  for (let i = 0; i < train.length; i++) if (train[i] === 1) out[j++] = i
  return out
}

/**
 * Options with defaults applied.
 * @example
 * const o: ResolvedKMeansOptions = resolveOptions({ k: 4, seed: 's' }, 2000, 3)
 */
export interface ResolvedKMeansOptions {
  k: number
  maxIterations: number
  nInit: number
  tolerance: number
  seed: string
  dp: { epsilon: number; delta: number; clip: number | null } | null
}

function isInt(v: unknown, lo: number, hi: number): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= lo && v <= hi
}

/**
 * Applies defaults (maxIterations 50, nInit 10, tolerance 1e-4) and checks ranges; `trainRows` is
 * the number of training rows (at least k are needed).
 *
 * @throws VerticalKMeansConfigError
 * @example
 * resolveOptions({ k: 4, seed: 'job-7' }, 2190)
 */
export function resolveOptions(
  o: {
    k: number
    maxIterations?: number
    nInit?: number
    tolerance?: number
    seed: string
    dp?: { epsilon: number; delta: number; clip?: number }
  },
  trainRows: number
): ResolvedKMeansOptions {
  if (o === null || typeof o !== 'object') throw new VerticalKMeansConfigError('options are required')
  if (!isInt(o.k, 2, VKM_MAX_K))
    throw new VerticalKMeansConfigError(`k must be an integer in [2, ${VKM_MAX_K}], got ${String(o.k)}`)
  const maxIterations = o.maxIterations ?? 50
  if (!isInt(maxIterations, 1, VKM_MAX_ITERATIONS))
    throw new VerticalKMeansConfigError(`maxIterations must be an integer in [1, ${VKM_MAX_ITERATIONS}]`)
  const nInit = o.nInit ?? 10
  if (!isInt(nInit, 1, VKM_MAX_CANDIDATES))
    throw new VerticalKMeansConfigError(`nInit must be an integer in [1, ${VKM_MAX_CANDIDATES}]`)
  const tolerance = o.tolerance ?? 1e-4
  if (!(typeof tolerance === 'number' && Number.isFinite(tolerance) && tolerance >= 0))
    throw new VerticalKMeansConfigError('tolerance must be a finite number >= 0')
  if (typeof o.seed !== 'string' || o.seed.length < 1 || o.seed.length > 200)
    throw new VerticalKMeansConfigError('seed must be a non-empty string of at most 200 characters')
  if (!isInt(trainRows, o.k, VKM_MAX_ROWS))
    throw new VerticalKMeansConfigError(`need at least k = ${o.k} training rows, got ${trainRows}`)
  let dp: ResolvedKMeansOptions['dp'] = null
  if (o.dp !== undefined) {
    const { epsilon, delta, clip } = o.dp
    if (!(typeof epsilon === 'number' && epsilon > 0 && epsilon <= 1000))
      throw new VerticalKMeansConfigError('dp.epsilon must be in (0, 1000]')
    if (!(typeof delta === 'number' && delta > 0 && delta < 1))
      throw new VerticalKMeansConfigError('dp.delta must be in (0, 1)')
    if (clip !== undefined && !(typeof clip === 'number' && clip > 0 && clip <= 1e6))
      throw new VerticalKMeansConfigError('dp.clip must be in (0, 1e6]')
    dp = { epsilon, delta, clip: clip ?? null }
  }
  return { k: o.k, maxIterations, nInit, tolerance, seed: o.seed, dp }
}
