import { sha256 } from '../../crypto/hash.ts'
import { makeDistributedDiscreteGaussian } from '../../crypto/dp/mechanisms/distributed-discrete-gaussian.ts'
import type { IntegerNoiseMechanism } from '../../crypto/dp/mechanisms/mechanism.ts'
import { createRandomSource } from '../../crypto/dp/random.ts'
import type { RandomSource } from '../../crypto/dp/random.ts'
import type { DpEvent } from '../../crypto/dp/events.ts'
import { quantize } from '../../crypto/quantize.ts'
import type { QuantParams } from '../../crypto/quantize.ts'
import type { RingVector } from '../../crypto/ring.ts'
import type { AuditLog } from '../../platform/audit/audit-log.ts'
import type { Ledger, LedgerReservation } from '../ledger/ledger.ts'
import { trainingScope } from './budget-state.ts'
import { QuantisationRangeError } from './errors.ts'
import type { InputStash } from './input-stash.ts'
import { remember } from './job-state.ts'
import type { JobState, Released } from './job-state.ts'

/**
 * The one path by which a node releases a vector for a job (statistics, a fit's update, an
 * evaluation): reserve its privacy cost → compute → range-check → quantise → add the distributed
 * noise share → commit the reservation → audit → stash for SecAgg. The reservation is committed
 * (and written to the ledger with its audit entry, in one batch) before the vector can leave the
 * node; if anything fails before that, it is released again.
 */

/**
 * What the pipeline needs from the node.
 * @example
 * const ctx: ReleaseContext = { ledger, audit, stash, rng }
 */
export interface ReleaseContext {
  ledger: Ledger
  audit: Pick<AuditLog, 'append'>
  stash: InputStash
  rng?: RandomSource
}

/**
 * One release.
 * @example
 * await releaseSummand(ctx, state, { purpose: 'fit', jobId, round, ... compute: () => summandOf(update) })
 */
export interface ReleaseRequest {
  purpose: 'stats' | 'fit' | 'eval'
  jobId: string
  round: number
  dataset: string
  /** The job's minParticipants: the SecAgg participant refuses a round announcing fewer. */
  minParticipants: number
  /** The coordinator (audit actor). */
  coordinator: string
  /** Where the SecAgg participant finds the summand; null = plaintext (returned instead). */
  secaggId: string | null
  quant: Required<Omit<QuantParams, 'rounding' | 'reserve'>>
  /** The release's privacy event, charged to the dataset's ledger; null = not charged. */
  event: DpEvent | null
  /** Extra fields for the audit entry. */
  detail?: Record<string, unknown>
  /** Homomorphic aggregation: the key the job pins (the he-agg participant takes the summand). */
  he?: { pinnedFingerprint: string; minParticipants: number }
  compute: () => Promise<Float64Array>
}

/** Adds the noise share modulo 2^k (the mechanism works on Uint32 for k = 32, exactly on bigints otherwise). */
function addRingNoise(
  ring: RingVector,
  k: number,
  mech: IntegerNoiseMechanism,
  rng: RandomSource
): RingVector {
  if (ring instanceof Uint32Array && k === 32) return mech.apply(ring, rng)
  const noisy = mech.apply(
    Array.from(ring as ArrayLike<number | bigint>, (x) => BigInt(x)),
    rng
  )
  if (k <= 32) return Uint32Array.from(noisy, (x) => Number(BigInt.asUintN(k, x)))
  return BigUint64Array.from(noisy, (x) => BigInt.asUintN(k, x))
}

function checkRange(v: Float64Array, clip: number, what: string): void {
  for (let i = 0; i < v.length; i++) {
    if (!(Math.abs(v[i]!) <= clip))
      throw new QuantisationRangeError(
        `${what} coordinate ${i} is ${v[i]}, outside the secure sum's range ±${clip}; the job's data or settings do not fit fixed-point aggregation`
      )
  }
}

/**
 * Runs the release pipeline and returns what was released.
 *
 * @throws BudgetExhaustedError (from the ledger) before anything is computed, when the cap is hit
 * @example
 * const r = await releaseSummand(ctx, state, request)
 */
export async function releaseSummand(
  ctx: ReleaseContext,
  state: JobState,
  req: ReleaseRequest
): Promise<Released> {
  const ledgerCtx = { actor: req.coordinator, jobId: req.jobId, round: req.round }
  let reservation: LedgerReservation | undefined
  if (req.event !== null) {
    const id = `${req.jobId}/${req.purpose}/${req.round}/${Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString('hex')}`
    reservation = await ctx.ledger.reserve(trainingScope(req.dataset), id, req.event, ledgerCtx)
  }
  let summand: Float64Array
  let ring: RingVector
  try {
    summand = await req.compute()
    checkRange(summand, req.quant.clip, req.purpose)
    ring = quantize(summand, req.quant)
    const e = req.event
    if (e?.kind === 'distributed-discrete-gaussian') {
      const mech = makeDistributedDiscreteGaussian({
        sigmaTotal: e.sigma,
        sensitivity: e.sensitivity,
        dimension: e.dimension,
        minParticipants: e.parties
      })
      ring = addRingNoise(ring, req.quant.k, mech, ctx.rng ?? createRandomSource())
    }
    if (reservation !== undefined) await ctx.ledger.commit(reservation, ledgerCtx)
  } catch (err) {
    if (reservation !== undefined) await ctx.ledger.release(reservation, ledgerCtx).catch(() => undefined)
    throw err
  }
  const bytes = new Uint8Array(ring.buffer, ring.byteOffset, ring.byteLength)
  await ctx.audit.append(
    `train-${req.purpose}-released`,
    {
      jobId: req.jobId,
      round: req.round,
      dataset: req.dataset,
      secaggId: req.secaggId,
      plaintext: req.secaggId === null,
      length: summand.length,
      event: req.event,
      reservation: reservation?.id ?? null,
      sha256: Buffer.from(sha256(bytes)).toString('hex'),
      ...req.detail
    },
    { actor: req.coordinator, round: req.round }
  )
  const released: Released = { ring, summand, served: 1 }
  remember(state, req.purpose, req.round, released)
  stashFor(ctx, req, ring)
  return released
}

/**
 * Serves a summand released before (a coordinator asking for the same round again after a restart):
 * stashes it under the new SecAgg id without recomputing or charging anything.
 *
 * @example
 * await serveAgain(ctx, cached, request)
 */
export async function serveAgain(
  ctx: ReleaseContext,
  r: Released,
  req: Pick<
    ReleaseRequest,
    'purpose' | 'jobId' | 'round' | 'dataset' | 'minParticipants' | 'coordinator' | 'secaggId' | 'he'
  >
): Promise<void> {
  r.served++
  await ctx.audit.append(
    `train-${req.purpose}-served-again`,
    { jobId: req.jobId, round: req.round, secaggId: req.secaggId, served: r.served },
    { actor: req.coordinator, round: req.round }
  )
  stashFor(ctx, req, r.ring)
}

function stashFor(
  ctx: ReleaseContext,
  req: Pick<ReleaseRequest, 'secaggId' | 'round' | 'dataset' | 'minParticipants' | 'he'>,
  ring: RingVector
) {
  if (req.secaggId === null) return
  if (req.he !== undefined) ctx.stash.setHeJob(req.secaggId, req.he)
  ctx.stash.put(req.secaggId, req.round, ring, {
    dataset: req.dataset,
    minParticipants: req.minParticipants
  })
}
