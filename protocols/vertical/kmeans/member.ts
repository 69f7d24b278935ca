/**
 * A member's runner: registers the session on the transport (./registry.ts), steps the member machine
 * with every request, does the local arithmetic and the CKKS steps of its hop, forwards chain
 * messages to the next hop and returns what comes back. Requests of a session are handled one at a
 * time. The runner settles when `finish` was handled (result), on `abort` or when no request arrived
 * for `idleMs` (VerticalKMeansAbortedError).
 */
import { isCohortError } from '../../../crypto/cohort-error.ts'
import { createRandomSource } from '../../../crypto/dp/random.ts'
import type { RandomSource } from '../../../crypto/dp/random.ts'
import { getHeContext, loadPublicKey } from '../../../crypto/he/index.ts'
import type { HeContext, HePublicKey, SerializedHeVector } from '../../../crypto/he/index.ts'
import { PROTOCOLS } from '../../ids.ts'
import type { PeerRef } from '../../transport.ts'
import type { VerticalPartyContext } from '../types.ts'
import { addOwn } from './chain-he.ts'
import { VerticalKMeansAbortedError, VerticalKMeansPlanError } from './errors.ts'
import { VKM_HE_PRESET } from './limits.ts'
import {
  centroidsFromRows,
  initialRows,
  partialGaps,
  partialInertia,
  reseedRow,
  updateCentroids
} from './lloyd.ts'
import { drawScales, scaleWeights } from './mask.ts'
import type { VkmMemberAction, VkmMemberPlan, VkmMemberState } from './member-machine.ts'
import { vkmMemberMachine, vkmPhaseOf } from './member-machine.ts'
import { decodeVkmReply, encodeVkm, VKM_WIRE_VERSION, VkmVectorReply } from './messages.ts'
import type { VkmRequest } from './messages.ts'
import { checkParties } from './plan.ts'
import { defaultClip, releaseCalibration, releaseEvent, segmentProfile } from './profile.ts'
import type { VerticalSegmentProfile } from './profile.ts'
import { registerVkmSession } from './registry.ts'
import type { VerticalKMeansModel } from './types.ts'

/**
 * Inputs of {@link runVerticalKMeansMember}.
 * @example
 * await runVerticalKMeansMember({ transport, sessionId, parties, slice, acceptPlan: async (p) => check(p) })
 */
export interface VerticalKMeansMemberContext extends VerticalPartyContext {
  /** Called with the decoded plan before the member accepts it; throw (a CohortError) to refuse. */
  acceptPlan?: (plan: unknown) => Promise<void>
  /** A session without any request for this long fails. @default timeoutMs × (parties + 1) */
  idleMs?: number
}

/**
 * A member's result.
 * @example
 * const { model, assignments, profile }: VerticalKMeansMemberResult = await runVerticalKMeansMember(ctx)
 */
export interface VerticalKMeansMemberResult {
  model: VerticalKMeansModel
  assignments: Int32Array
  profile: VerticalSegmentProfile
}

const ACK = encodeVkm({ v: VKM_WIRE_VERSION })

interface Round {
  iteration: number
  scope: 'train' | 'all'
  own: Float64Array
  scales?: Float64Array
}

class MemberSession {
  readonly ctx: VerticalKMeansMemberContext
  readonly he: HeContext
  readonly timeoutMs: number
  state: VkmMemberState
  plan?: VkmMemberPlan
  publicKey?: HePublicKey
  centroids: Float64Array[] = []
  round?: Round
  result?: VerticalKMeansMemberResult
  #rng?: RandomSource

  constructor(ctx: VerticalKMeansMemberContext, he: HeContext) {
    this.ctx = ctx
    this.he = he
    this.timeoutMs = ctx.timeoutMs ?? 60_000
    this.state = vkmMemberMachine.init({
      self: ctx.transport.self,
      parties: ctx.parties,
      rows: ctx.slice.rows,
      slots: he.slotCount
    })
  }

  rng = (): RandomSource => {
    this.#rng ??= createRandomSource()
    return this.#rng
  }

  dispose(): void {
    this.publicKey?.dispose()
    this.publicKey = undefined
  }

  /** Steps the machine; runs the action; commits the new state only when the action succeeded. */
  async handle(req: VkmRequest, from: PeerRef): Promise<{ reply: Uint8Array; action: VkmMemberAction }> {
    const { state, output } = vkmMemberMachine.step(this.state, {
      phase: vkmPhaseOf(req),
      from,
      request: req
    })
    let reply: Uint8Array
    switch (output.kind) {
      case 'plan':
        await this.accept(output.plan, req)
        reply = ACK
        break
      case 'distances':
        reply = await this.distances(output, req)
        break
      case 'update':
        reply = await this.update(output, req)
        break
      case 'finish':
        reply = await this.finish(output, req)
        break
      case 'abort':
        reply = ACK
        break
    }
    this.state = state
    return { reply, action: output }
  }

  async accept(plan: VkmMemberPlan, req: VkmRequest): Promise<void> {
    const pk = loadPublicKey(this.he, plan.publicKey)
    try {
      await this.ctx.acceptPlan?.(req)
      if (plan.dp !== null) {
        const cal = releaseCalibration(plan.dp.epsilon, plan.dp.delta, this.ctx.parties.length)
        await this.ctx.charge?.({
          epsilon: cal.epsilon,
          delta: plan.dp.delta,
          mechanism: 'gaussian',
          event: releaseEvent(cal.noiseMultiplier, this.ctx.parties.length)
        })
      }
    } catch (err) {
      pk.dispose()
      throw err
    }
    this.publicKey = pk
    this.plan = plan
    this.centroids = Array.from({ length: plan.nInit }, (_, r) =>
      centroidsFromRows(this.ctx.slice, initialRows(plan.seed, r, plan.k, plan.trainIdx))
    )
  }

  ownRound(a: Extract<VkmMemberAction, { kind: 'distances' }>): Round {
    if (this.round?.iteration === a.iteration && this.round.scope === a.scope && a.batch > 0)
      return this.round
    const plan = this.plan!
    const own = new Float64Array(a.length)
    if (a.scope === 'train') {
      const w = plan.trainIdx.length * (plan.k - 1)
      a.candidates.forEach((r, i) => {
        partialGaps(this.ctx.slice, plan.trainIdx, this.centroids[r]!, plan.k, own, i * w)
      })
    } else {
      const all = Int32Array.from({ length: this.ctx.slice.rows }, (_, i) => i)
      partialGaps(this.ctx.slice, all, this.centroids[a.candidates[0]!]!, plan.k, own, 0)
    }
    const round: Round = { iteration: a.iteration, scope: a.scope, own }
    if (this.state.next === null) round.scales = drawScales(a.length / (plan.k - 1), this.rng())
    this.round = round
    return round
  }

  /** Adds our contribution to `vector`; forwards to the next hop, or (last) returns the result. */
  async relay(
    req: VkmRequest,
    vector: SerializedHeVector,
    own: Float64Array,
    weights?: Float64Array
  ): Promise<Uint8Array> {
    const sum = addOwn(this.he, this.publicKey!, vector, own, weights)
    if (this.state.next === null) return encodeVkm({ v: VKM_WIRE_VERSION, vector: sum })
    const body = encodeVkm(req.phase === 'distances' ? { ...req, vector: sum } : { ...req, inertia: sum })
    const frame = await this.ctx.transport.request(this.state.next, PROTOCOLS.verticalKmeans, body, {
      timeoutMs: this.timeoutMs * (this.state.downstream + 1),
      ...(this.ctx.signal === undefined ? {} : { signal: this.ctx.signal })
    })
    const { vector: back } = decodeVkmReply(VkmVectorReply, frame)
    if (back.length !== vector.length)
      throw new VerticalKMeansPlanError('the next hop returned a vector of another length')
    return encodeVkm({ v: VKM_WIRE_VERSION, vector: back })
  }

  async distances(a: Extract<VkmMemberAction, { kind: 'distances' }>, req: VkmRequest): Promise<Uint8Array> {
    if (req.phase !== 'distances') throw new VerticalKMeansPlanError('not a distances request')
    const round = this.ownRound(a)
    const own = round.own.slice(a.from, a.to)
    if (round.scales === undefined) return this.relay(req, req.vector, own)
    return this.relay(req, req.vector, own, scaleWeights(round.scales, this.plan!.k - 1, a.from, a.to))
  }

  async update(a: Extract<VkmMemberAction, { kind: 'update' }>, req: VkmRequest): Promise<Uint8Array> {
    if (req.phase !== 'update') throw new VerticalKMeansPlanError('not an update request')
    const plan = this.plan!
    const m = plan.trainIdx.length
    const inertia = new Float64Array(a.candidates.length)
    const next = this.centroids.slice()
    a.candidates.forEach((r, i) => {
      const labels = a.assignments.subarray(i * m, (i + 1) * m)
      inertia[i] = partialInertia(this.ctx.slice, plan.trainIdx, labels, this.centroids[r]!) / m
      next[r] = updateCentroids(this.ctx.slice, plan.trainIdx, labels, plan.k, (c) =>
        reseedRow(plan.seed, r, a.iteration, c, plan.trainIdx)
      ).centroids
    })
    const reply = await this.relay(req, req.inertia, inertia)
    this.centroids = next
    return reply
  }

  async finish(a: Extract<VkmMemberAction, { kind: 'finish' }>, req: VkmRequest): Promise<Uint8Array> {
    if (req.phase !== 'finish') throw new VerticalKMeansPlanError('not a finish request')
    const plan = this.plan!
    const { slice } = this.ctx
    const centroids = this.centroids[a.candidate]!
    const trainLabels = new Uint8Array(plan.trainIdx.length)
    plan.trainIdx.forEach((row, j) => {
      trainLabels[j] = a.assignments[row]!
    })
    const mine = partialInertia(slice, plan.trainIdx, trainLabels, centroids) / plan.trainIdx.length
    const reply = await this.relay(req, req.inertia, Float64Array.of(mine))
    const dp =
      plan.dp === null
        ? null
        : {
            noiseMultiplier: releaseCalibration(plan.dp.epsilon, plan.dp.delta, this.ctx.parties.length)
              .noiseMultiplier,
            clip: plan.dp.clip ?? defaultClip(slice.cols)
          }
    const d = slice.cols
    this.result = {
      model: {
        kind: 'vertical-kmeans',
        featureNames: [...slice.featureNames],
        centroids: Array.from({ length: plan.k }, (_, c) =>
          Array.from(centroids.subarray(c * d, (c + 1) * d))
        ),
        sessionId: this.ctx.sessionId
      },
      assignments: Int32Array.from(a.assignments),
      profile: segmentProfile(slice, a.assignments, a.sizes, plan.k, dp, this.rng)
    }
    return reply
  }
}

/**
 * Runs this party's side of a vertical k-means session led by another party (see ./lead.ts and
 * protocols/vertical/README.md). Start it before the lead sends its plan (the lead retries the plan
 * for up to `timeoutMs`).
 *
 * @throws VerticalKMeansConfigError for a bad party list or slice; VerticalKMeansAbortedError when the
 *   session is aborted, times out or `signal` fires
 * @example
 * const { model, assignments, profile } = await runVerticalKMeansMember({ transport, sessionId, parties, slice })
 */
export async function runVerticalKMeansMember(
  ctx: VerticalKMeansMemberContext
): Promise<VerticalKMeansMemberResult> {
  checkParties(ctx.parties, ctx.transport.self)
  const slice = ctx.slice
  if (!(slice.x instanceof Float64Array) || slice.x.length !== slice.rows * slice.cols || slice.cols < 1)
    throw new VerticalKMeansPlanError('slice.x must be a rows × cols Float64Array')
  const he = await getHeContext(VKM_HE_PRESET)
  const session = new MemberSession(ctx, he)
  const idleMs = ctx.idleMs ?? (ctx.timeoutMs ?? 60_000) * (ctx.parties.length + 1)
  let settle!: { resolve: (r: VerticalKMeansMemberResult) => void; reject: (e: unknown) => void }
  const done = new Promise<VerticalKMeansMemberResult>((resolve, reject) => {
    settle = { resolve, reject }
  })
  let timer: ReturnType<typeof setTimeout> | undefined
  const arm = () => {
    clearTimeout(timer)
    timer = setTimeout(
      () => settle.reject(new VerticalKMeansAbortedError(`no request for ${idleMs} ms`, 'COHORT_TIMEOUT')),
      idleMs
    )
  }
  const onAbort = () =>
    settle.reject(new VerticalKMeansAbortedError('the session was cancelled', 'COHORT_CANCELLED'))
  ctx.signal?.addEventListener('abort', onAbort, { once: true })
  let queue: Promise<unknown> = Promise.resolve()
  const unregister = await registerVkmSession(ctx.transport, ctx.sessionId, (req, from) => {
    const run = queue.then(async () => {
      clearTimeout(timer)
      let handled: Awaited<ReturnType<MemberSession['handle']>>
      try {
        handled = await session.handle(req, from)
      } finally {
        arm()
      }
      const { reply, action } = handled
      if (action.kind === 'abort') {
        settle.reject(
          new VerticalKMeansAbortedError(`${from} aborted the session: ${action.reason}`, action.code)
        )
      } else if (action.kind === 'finish') settle.resolve(session.result!)
      return reply
    })
    queue = run.catch(() => undefined)
    return run
  })
  arm()
  try {
    if (ctx.signal?.aborted === true) onAbort()
    return await done
  } catch (err) {
    if (err instanceof VerticalKMeansAbortedError) throw err
    throw new VerticalKMeansAbortedError(
      `vertical k-means session failed: ${(err as Error)?.message}`,
      isCohortError(err) ? err.code : undefined,
      { cause: err }
    )
  } finally {
    clearTimeout(timer)
    ctx.signal?.removeEventListener('abort', onAbort)
    await unregister()
    session.dispose()
  }
}
