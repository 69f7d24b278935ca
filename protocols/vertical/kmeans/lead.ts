/**
 * The lead's runner (the label party, else parties[0]): owns the session's CKKS key pair, drives
 * every phase, decrypts only affine-masked distance vectors and summed inertias, and decides the
 * assignments. See protocols/vertical/README.md (## Vertical k-means) for what each party learns.
 *
 *   plan -> for t < maxIterations while restarts are active:
 *             distances(t, train, active restarts) -> argmin -> update(t) (sum of partial inertias)
 *        -> distances(T, all rows, best restart) -> argmin -> finish (released sizes, final inertia)
 *
 * Any failure (a refusal, a party that drops out, a deadline) aborts the session at every member
 * (best effort) and rejects with VerticalKMeansAbortedError carrying the cause's code.
 */
import { isCohortError } from '../../../crypto/cohort-error.ts'
import { createRandomSource } from '../../../crypto/dp/random.ts'
import type { RandomSource } from '../../../crypto/dp/random.ts'
import { generateKeys, getHeContext, savePublicKey } from '../../../crypto/he/index.ts'
import type { HeContext, HeKeySet } from '../../../crypto/he/index.ts'
import { PROTOCOLS } from '../../ids.ts'
import type { VerticalPartyContext } from '../types.ts'
import { decryptWire, encryptToWire } from './chain-he.ts'
import { VerticalKMeansAbortedError, VerticalKMeansConfigError } from './errors.ts'
import { VKM_HE_PRESET } from './limits.ts'
import {
  argminFromGaps,
  centroidsFromRows,
  initialRows,
  partialGaps,
  partialInertia,
  reseedRow,
  updateCentroids
} from './lloyd.ts'
import { decodeVkmReply, encodeVkm, VKM_WIRE_VERSION, VkmAckReply, VkmVectorReply } from './messages.ts'
import type { VkmPlan } from './messages.ts'
import {
  batchCount,
  batchRange,
  chainOf,
  checkParties,
  leadOf,
  resolveOptions,
  trainIndices
} from './plan.ts'
import type { ResolvedKMeansOptions } from './plan.ts'
import { defaultClip, releaseCalibration, releaseEvent, releasedSizes, segmentProfile } from './profile.ts'
import type { VerticalSegmentProfile } from './profile.ts'
import type { VerticalKMeansModel, VerticalKMeansOptions } from './types.ts'

/**
 * Inputs of {@link runVerticalKMeansLead}.
 * @example
 * await runVerticalKMeansLead({ transport, sessionId, parties, slice, options: { k: 4, seed: 'job-7' } })
 */
export interface VerticalKMeansLeadContext extends VerticalPartyContext {
  options: VerticalKMeansOptions
  /** One flag per aligned row, 1 = used for training. @default every row */
  trainRows?: Uint8Array
}

/**
 * The lead's result.
 * @example
 * const { inertia, iterations, epsilon } = await runVerticalKMeansLead(ctx)
 */
export interface VerticalKMeansLeadResult {
  model: VerticalKMeansModel
  /** Segment of every aligned row (training or not). */
  assignments: Int32Array
  /** Training inertia of the final centroids (sum over all parties' features). */
  inertia: number
  /** Lloyd rounds run (over all restarts side by side). */
  iterations: number
  profile: VerticalSegmentProfile
  /** Epsilon of the DP release (at options.dp.delta), when DP was asked for. */
  epsilon?: number
}

const RETRY_CODES = new Set(['COHORT_PROTOCOL_NOT_SUPPORTED', 'COHORT_VKMEANS_UNKNOWN_SESSION'])

class LeadSession {
  readonly ctx: VerticalKMeansLeadContext
  readonly he: HeContext
  readonly keys: HeKeySet
  readonly members: string[]
  readonly timeoutMs: number
  readonly o: ResolvedKMeansOptions
  readonly trainIdx: Int32Array
  #rng?: RandomSource

  constructor(
    ctx: VerticalKMeansLeadContext,
    he: HeContext,
    keys: HeKeySet,
    o: ResolvedKMeansOptions,
    trainIdx: Int32Array
  ) {
    this.ctx = ctx
    this.he = he
    this.keys = keys
    this.o = o
    this.trainIdx = trainIdx
    this.members = chainOf(ctx.parties).map((p) => p.peer)
    this.timeoutMs = ctx.timeoutMs ?? 60_000
  }

  rng = (): RandomSource => {
    this.#rng ??= createRandomSource()
    return this.#rng
  }

  head(iteration: number) {
    return { v: VKM_WIRE_VERSION, sessionId: this.ctx.sessionId, iteration } as const
  }

  async request(peer: string, body: Uint8Array, hops: number): Promise<Uint8Array> {
    return this.ctx.transport.request(peer, PROTOCOLS.verticalKmeans, body, {
      timeoutMs: this.timeoutMs * hops,
      ...(this.ctx.signal === undefined ? {} : { signal: this.ctx.signal })
    })
  }

  /** Sends a plan, retrying while the member has not started its runner yet. */
  async sendPlan(peer: string, body: Uint8Array): Promise<void> {
    const deadline = Date.now() + this.timeoutMs
    for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
      try {
        decodeVkmReply(VkmAckReply, await this.request(peer, body, 1))
        return
      } catch (err) {
        if (!(isCohortError(err) && RETRY_CODES.has(err.code)) || Date.now() + wait > deadline) throw err
        await new Promise((r) => setTimeout(r, wait))
      }
    }
  }

  /** One round of the chain: own values in, masked (distances) or summed (inertia) values out. */
  async chain(message: Record<string, unknown>, field: 'vector' | 'inertia', own: Float64Array) {
    const body = encodeVkm({ ...message, [field]: encryptToWire(this.keys.publicKey, own) })
    // One deadline per hop plus one, so a member's own forwarding deadline expires first.
    const frame = await this.request(this.members[0]!, body, this.members.length + 1)
    const { vector } = decodeVkmReply(VkmVectorReply, frame)
    return decryptWire(this.he, this.keys.secretKey, vector, own.length)
  }

  async distances(
    iteration: number,
    scope: 'train' | 'all',
    candidates: number[],
    own: Float64Array
  ): Promise<Float64Array> {
    const slots = this.he.slotCount
    const batches = batchCount(own.length, slots)
    const out = new Float64Array(own.length)
    for (let batch = 0; batch < batches; batch++) {
      const { from, to } = batchRange(own.length, slots, batch)
      const msg = { ...this.head(iteration), phase: 'distances', scope, candidates, batch, batches }
      out.set(await this.chain(msg, 'vector', own.subarray(from, to)), from)
    }
    return out
  }
}

function profileDp(s: LeadSession, noiseMultiplier: number | undefined) {
  const dp = s.o.dp
  if (dp === null || noiseMultiplier === undefined) return null
  return { noiseMultiplier, clip: dp.clip ?? defaultClip(s.ctx.slice.cols) }
}

async function lloyd(s: LeadSession, noiseMultiplier: number | undefined) {
  const { ctx, o, trainIdx } = s
  const { slice } = ctx
  const { k } = o
  const m = trainIdx.length
  const centroids = Array.from({ length: o.nInit }, (_, r) =>
    centroidsFromRows(slice, initialRows(o.seed, r, k, trainIdx))
  )
  const lastLabels: Array<Uint8Array | null> = new Array(o.nInit).fill(null)
  const lastInertia = new Array<number>(o.nInit).fill(Number.POSITIVE_INFINITY)
  let active = Array.from({ length: o.nInit }, (_, r) => r)
  let t = 0
  for (; t < o.maxIterations && active.length > 0; t++) {
    const own = new Float64Array(active.length * m * (k - 1))
    active.forEach((r, i) => {
      partialGaps(slice, trainIdx, centroids[r]!, k, own, i * m * (k - 1))
    })
    const labels = argminFromGaps(await s.distances(t, 'train', active, own), k)
    const mine = new Float64Array(active.length)
    active.forEach((r, i) => {
      mine[i] = partialInertia(slice, trainIdx, labels.subarray(i * m, (i + 1) * m), centroids[r]!) / m
    })
    const msg = { ...s.head(t), phase: 'update', candidates: active, assignments: labels }
    const totals = await s.chain(msg, 'inertia', mine)
    const next: number[] = []
    active.forEach((r, i) => {
      const mine = labels.slice(i * m, (i + 1) * m)
      centroids[r] = updateCentroids(slice, trainIdx, mine, k, (c) =>
        reseedRow(o.seed, r, t, c, trainIdx)
      ).centroids
      const inertia = totals[i]! * m
      const prev = lastLabels[r]
      const changed = prev === null || prev.some((v, j) => v !== mine[j])
      const improved = lastInertia[r]! - inertia > o.tolerance * inertia
      lastLabels[r] = mine
      lastInertia[r] = inertia
      if (changed && improved) next.push(r)
    })
    active = next
    ctx.onProgress?.({
      phase: 'lloyd',
      step: t + 1,
      of: o.maxIterations,
      metrics: { inertia: Math.min(...lastInertia), active: active.length }
    })
  }
  let best = 0
  for (let r = 1; r < o.nInit; r++) if (lastInertia[r]! < lastInertia[best]!) best = r

  // Final assignment of every aligned row with the chosen restart's final centroids.
  const all = Int32Array.from({ length: slice.rows }, (_, i) => i)
  const own = new Float64Array(slice.rows * (k - 1))
  partialGaps(slice, all, centroids[best]!, k, own, 0)
  const labels = argminFromGaps(await s.distances(t, 'all', [best], own), k)
  const trainLabels = Uint8Array.from(trainIdx, (row) => labels[row]!)
  const dp = profileDp(s, noiseMultiplier)
  const sizes = releasedSizes(labels, k, dp, s.rng)
  const mine = partialInertia(slice, trainIdx, trainLabels, centroids[best]!) / m
  const finish = { ...s.head(t), phase: 'finish', candidate: best, assignments: labels, sizes }
  const [total] = await s.chain(finish, 'inertia', Float64Array.of(mine))
  ctx.onProgress?.({ phase: 'finish', step: t, of: o.maxIterations, metrics: { inertia: total! * m } })
  return { best, centroids: centroids[best]!, labels, sizes, inertia: total! * m, iterations: t, dp }
}

async function abortAll(s: LeadSession, code: string, reason: string): Promise<void> {
  const body = encodeVkm({
    ...s.head(0),
    phase: 'abort',
    code: code.slice(0, 64),
    reason: reason.slice(0, 300)
  })
  await Promise.allSettled(
    s.members.map((peer) =>
      s.ctx.transport.request(peer, PROTOCOLS.verticalKmeans, body, {
        timeoutMs: Math.min(s.timeoutMs, 5000)
      })
    )
  )
}

function checkTrainRows(flags: Uint8Array | undefined, rows: number): Uint8Array {
  if (flags === undefined) return new Uint8Array(rows).fill(1)
  if (!(flags instanceof Uint8Array) || flags.length !== rows)
    throw new VerticalKMeansConfigError(`trainRows must be a Uint8Array of ${rows} flags`)
  for (const f of flags) if (f > 1) throw new VerticalKMeansConfigError('trainRows flags must be 0 or 1')
  return flags
}

/**
 * Leads a vertical k-means session. Every other party runs {@link runVerticalKMeansMember} with the
 * same sessionId and parties.
 *
 * @throws VerticalKMeansConfigError for bad options, parties or inputs (before anything is sent);
 *   VerticalKMeansAbortedError when the session fails (causeCode: the refusal or transport error)
 * @example
 * const { model, assignments, inertia, profile } = await runVerticalKMeansLead({
 *   transport, sessionId, parties, slice, options: { k: 4, seed: 'job-7' }, trainRows
 * })
 */
export async function runVerticalKMeansLead(
  ctx: VerticalKMeansLeadContext
): Promise<VerticalKMeansLeadResult> {
  const self = ctx.transport.self
  checkParties(ctx.parties, self)
  if (leadOf(ctx.parties).peer !== self)
    throw new VerticalKMeansConfigError(`${self} is not the lead of this session (the label party leads)`)
  const { slice } = ctx
  if (!(slice.x instanceof Float64Array) || slice.x.length !== slice.rows * slice.cols || slice.cols < 1)
    throw new VerticalKMeansConfigError('slice.x must be a rows × cols Float64Array')
  const train = checkTrainRows(ctx.trainRows, slice.rows)
  const trainIdx = trainIndices(train)
  const o = resolveOptions(ctx.options, trainIdx.length)
  const cal = o.dp === null ? undefined : releaseCalibration(o.dp.epsilon, o.dp.delta, ctx.parties.length)
  const he = await getHeContext(VKM_HE_PRESET)
  using keys = generateKeys(he)
  const s = new LeadSession(ctx, he, keys, o, trainIdx)
  try {
    if (cal !== undefined)
      await ctx.charge?.({
        epsilon: cal.epsilon,
        delta: o.dp!.delta,
        mechanism: 'gaussian',
        event: releaseEvent(cal.noiseMultiplier, ctx.parties.length)
      })
    const plan: VkmPlan = {
      ...s.head(0),
      phase: 'plan',
      lead: self,
      parties: ctx.parties.map((p) => ({ peer: p.peer, name: p.name, role: p.role })),
      chain: s.members,
      rows: slice.rows,
      train,
      k: o.k,
      nInit: o.nInit,
      maxIterations: o.maxIterations,
      seed: o.seed,
      hePreset: VKM_HE_PRESET,
      publicKey: savePublicKey(keys.publicKey),
      dp: o.dp
    }
    const body = encodeVkm(plan)
    await Promise.all(s.members.map((peer) => s.sendPlan(peer, body)))
    const r = await lloyd(s, cal?.noiseMultiplier)
    const d = slice.cols
    return {
      model: {
        kind: 'vertical-kmeans',
        featureNames: [...slice.featureNames],
        centroids: Array.from({ length: o.k }, (_, c) =>
          Array.from(r.centroids.subarray(c * d, (c + 1) * d))
        ),
        sessionId: ctx.sessionId
      },
      assignments: Int32Array.from(r.labels),
      inertia: r.inertia,
      iterations: r.iterations,
      profile: segmentProfile(slice, r.labels, r.sizes, o.k, r.dp, s.rng),
      ...(cal === undefined ? {} : { epsilon: cal.epsilon })
    }
  } catch (err) {
    const code = isCohortError(err) ? err.code : 'COHORT_INTERNAL'
    const reason = String((err as Error)?.message ?? err)
    await abortAll(s, code, reason)
    throw new VerticalKMeansAbortedError(`vertical k-means session failed: ${reason}`, code, { cause: err })
  }
}
