/**
 * The feature party of vertical LR: answers the label party's requests (and the other feature
 * parties' shares) until `done`, keeping its features, weights and partial predictors to itself.
 * Every request is checked by the session machine (machine.ts) before any work.
 */
import { createRandomSource } from '../../../crypto/dp/random.ts'
import { getHeContext } from '../../../crypto/he/context.ts'
import { disposeAll } from '../../../crypto/he/dispose.ts'
import { matvecBlocks } from '../../../crypto/he/ckks-matvec.ts'
import { publicKeyFingerprint } from '../../../crypto/he/keys.ts'
import { loadGaloisKeys, loadPublicKey, loadRelinKeys, savePublicKey } from '../../../crypto/he/serialize.ts'
import { isCohortError } from '../../../crypto/cohort-error.ts'
import { PROTOCOLS } from '../../ids.ts'
import type { VerticalPartyContext } from '../types.ts'
import type { VerticalLrModel } from './common.ts'
import { checkSlice, rolesOf, VLR_HE_PRESET } from './common.ts'
import {
  VerticalLrAbortedError,
  VerticalLrInputError,
  VerticalLrPlanError,
  VerticalLrReplayError,
  VerticalLrSenderError,
  VerticalLrSessionError
} from './errors.ts'
import type { Session } from './feature-session.ts'
import { need, openSession, padTo } from './feature-session.ts'
import {
  buildResidual,
  decryptProduct,
  encryptToBytes,
  encryptedSumOfSquares,
  maskedMatvec,
  slopeShare,
  unmask
} from './he-steps.ts'
import type { VerticalLrPlan } from './options.ts'
import { batchesPerEpoch, epochBatches, testRowsOf } from './options.ts'
import { acceptFeatureMessage, acceptShare } from './machine.ts'
import type { VlrFeatureState } from './machine.ts'
import {
  bytesF64,
  decodeVlr,
  encodeVlr,
  f64Bytes,
  MAX_VLR_FRAME_BYTES,
  VLR_WIRE_VERSION,
  VlrRequestSchema
} from './messages.ts'
import type { VlrRequest } from './messages.ts'
import { gatherRows, partialScores } from './optimizer.ts'

/** Inputs of {@link runVerticalLrFeature}. */
export type VerticalLrFeatureContext = VerticalPartyContext & {
  /** Policy hook: throw a CohortError to decline the plan. */
  acceptPlan?: (plan: VerticalLrPlan) => Promise<void>
}

const ack = () => encodeVlr({ v: VLR_WIRE_VERSION })

/**
 * Takes part in one vertical LR session as a feature party; resolves with this party's model when
 * the label party says `done`.
 *
 * @throws VerticalLrAbortedError when the label party aborts or goes silent; VerticalLrPlanError for
 *   a bad context
 * @example
 * const { model } = await runVerticalLrFeature({ transport, sessionId, parties, slice })
 */
export async function runVerticalLrFeature(
  ctx: VerticalLrFeatureContext
): Promise<{ model: VerticalLrModel }> {
  const roles = rolesOf(ctx)
  if (roles.self.role !== 'feature')
    throw new VerticalLrPlanError('runVerticalLrFeature runs on a feature party')
  checkSlice(ctx.slice, false)
  const he = await getHeContext(VLR_HE_PRESET)
  const rng = createRandomSource()
  const timeoutMs = ctx.timeoutMs ?? 60_000
  const idleMs = 3 * timeoutMs
  let state: VlrFeatureState = {
    sessionId: ctx.sessionId,
    label: roles.label.peer,
    phase: 'idle',
    step: -1,
    totalSteps: 0,
    multiFeature: roles.features.length > 1
  }
  let session: Session | undefined
  let settle!: { resolve: (m: { model: VerticalLrModel }) => void; reject: (e: unknown) => void }
  const finished = new Promise<{ model: VerticalLrModel }>((resolve, reject) => {
    settle = { resolve, reject }
  })
  let idle: ReturnType<typeof setTimeout> | undefined
  const touch = () => {
    clearTimeout(idle)
    idle = setTimeout(
      () =>
        fail(
          new VerticalLrAbortedError(
            `the label party ${roles.label.name} sent nothing for ${idleMs} ms`,
            'COHORT_TIMEOUT'
          )
        ),
      idleMs
    )
  }
  let over = false
  const cleanup = () => {
    over = true
    clearTimeout(idle)
    ctx.signal?.removeEventListener('abort', onSignal)
    void ctx.transport.unhandle(PROTOCOLS.verticalLr)
    if (session !== undefined)
      disposeAll([
        ...session.ownGalois,
        ...session.labelGalois,
        session.labelKey,
        session.labelRelin,
        session.own
      ])
  }
  const fail = (err: unknown) => {
    if (over) return
    state = { ...state, phase: 'aborted' }
    cleanup()
    settle.reject(err)
  }
  const onSignal = () => fail(new VerticalLrAbortedError('the session was cancelled', 'COHORT_ABORTED'))
  ctx.signal?.addEventListener('abort', onSignal, { once: true })

  const handle = async (body: Uint8Array, from: string): Promise<Uint8Array> => {
    if (over) throw new VerticalLrSessionError(`session ${ctx.sessionId} is over here`)
    const req = decodeVlr(VlrRequestSchema, body, 'vertical LR request')
    if (req.sessionId !== ctx.sessionId)
      throw new VerticalLrSessionError(`message for session ${req.sessionId}, this is ${ctx.sessionId}`)
    if (req.phase === 'share') {
      const s = need(session)
      acceptShare(
        state,
        { step: req.step, from, sessionId: req.sessionId },
        roles.features.map((f) => f.peer),
        roles.self.peer
      )
      let m = s.shares.get(req.step)
      if (m === undefined) {
        m = new Map()
        s.shares.set(req.step, m)
      }
      if (m.has(from)) throw new VerticalLrReplayError(`second share of step ${req.step} from ${from}`)
      m.set(from, req.share)
      return ack()
    }
    if (from !== roles.label.peer)
      throw new VerticalLrSenderError(
        `${req.phase} must come from the label party ${roles.label.peer}, not ${from}`
      )
    if (req.phase === 'abort') {
      fail(new VerticalLrAbortedError(`the label party aborted: ${req.reason}`, req.code))
      return ack()
    }
    touch()
    switch (req.phase) {
      case 'plan': {
        if (state.phase !== 'idle') throw new VerticalLrReplayError('a second plan for this session')
        session = await openSession(ctx, roles, he, req.plan as unknown as VerticalLrPlan)
        state = { ...state, phase: 'plan', totalSteps: req.plan.epochs * batchesPerEpoch(session.plan) }
        return encodeVlr({
          v: VLR_WIRE_VERSION,
          cols: ctx.slice.cols,
          publicKey: savePublicKey(session.own.publicKey),
          galoisCount: session.ownGaloisBytes.length
        })
      }
      case 'fetch-keys': {
        const s = need(session)
        if (state.phase !== 'plan' && state.phase !== 'keys')
          throw new VerticalLrReplayError(`fetch-keys in phase ${state.phase}`)
        const bytes = s.ownGaloisBytes[req.index]
        if (bytes === undefined) throw new VerticalLrInputError(`no Galois key object ${req.index}`)
        return encodeVlr({ v: VLR_WIRE_VERSION, galois: bytes })
      }
      case 'keys':
        return receiveKeys(need(session), req)
      default:
        break
    }
    const s = need(session)
    if (req.phase !== 'evaluate' && req.phase !== 'done' && s.labelGalois.length !== s.keysExpected)
      throw new VerticalLrReplayError(`${req.phase} before all keys arrived`)
    const next = acceptFeatureMessage(state, {
      phase: req.phase,
      step: 'step' in req ? req.step : undefined,
      from,
      sessionId: req.sessionId
    })
    const reply = await stepSession(s, req, next.step)
    state = next
    if (req.phase === 'update' && (next.step + 1) % s.epochs[0]!.length === 0)
      ctx.onProgress?.({ phase: 'train', step: (next.step + 1) / s.epochs[0]!.length, of: s.plan.epochs })
    if (req.phase === 'done') {
      const model: VerticalLrModel = {
        kind: 'vertical-logreg',
        featureNames: [...ctx.slice.featureNames],
        weights: Array.from(s.w),
        role: 'feature',
        sessionId: ctx.sessionId,
        ...(s.plan.dp === null ? {} : { clipNorm: s.plan.dp.clipNorm })
      }
      setImmediate(() => {
        if (over) return
        cleanup()
        settle.resolve({ model })
      })
    }
    return reply
  }

  const receiveKeys = (s: Session, req: Extract<VlrRequest, { phase: 'keys' }>): Uint8Array => {
    if (state.phase !== 'plan' && state.phase !== 'keys')
      throw new VerticalLrReplayError(`keys in phase ${state.phase}`)
    if (req.index !== s.labelGalois.length)
      throw new VerticalLrReplayError(`key object ${req.index}, expected ${s.labelGalois.length}`)
    if (req.index === 0) {
      if (req.publicKey === undefined)
        throw new VerticalLrInputError('the first key message must carry the public key')
      const pk = loadPublicKey(s.he, req.publicKey)
      if (publicKeyFingerprint(pk) !== s.plan.labelKeyFingerprint) {
        pk.dispose()
        throw new VerticalLrPlanError('the label public key does not match the fingerprint in the plan')
      }
      s.labelKey = pk
      s.keysExpected = req.count
      if (s.plan.lossParty === roles.self.peer) {
        if (req.relinKeys === undefined)
          throw new VerticalLrInputError('the loss party needs relinearization keys')
        s.labelRelin = loadRelinKeys(s.he, req.relinKeys)
      }
    } else if (req.count !== s.keysExpected || req.publicKey !== undefined) {
      throw new VerticalLrInputError('key messages disagree on the count or repeat the public key')
    }
    s.labelGalois.push(loadGaloisKeys(s.he, req.galois))
    state = acceptFeatureMessage(state, { phase: 'keys', from: roles.label.peer, sessionId: req.sessionId })
    return ack()
  }

  const stepSession = async (s: Session, req: VlrRequest, step: number): Promise<Uint8Array> => {
    const nb = s.epochs[0]?.length ?? 1
    const batchOf = (k: number) => {
      const e = Math.floor(k / nb)
      s.epochs[e] ??= epochBatches(s.plan, e)
      return s.epochs[e]![k % nb]!
    }
    const d = ctx.slice.cols
    switch (req.phase) {
      case 'prepare': {
        const rows = batchOf(step)
        if (req.slope === undefined) throw new VerticalLrInputError('prepare must carry Enc(c)')
        s.slope = req.slope
        s.u = partialScores(s.x, d, s.w, rows)
        const share = slopeShare(s.he, req.slope, s.u, s.labelKey!)
        await Promise.all(
          roles.features
            .filter((f) => f.peer !== roles.self.peer)
            .map((f) =>
              ctx.transport.request(
                f.peer,
                PROTOCOLS.verticalLr,
                encodeVlr({ v: VLR_WIRE_VERSION, sessionId: ctx.sessionId, phase: 'share', step, share }),
                { timeoutMs, signal: ctx.signal }
              )
            )
        )
        return ack()
      }
      case 'gradient': {
        const rows = batchOf(step)
        if (!state.multiFeature) {
          if (req.slope === undefined) throw new VerticalLrInputError('gradient must carry Enc(c)')
          s.slope = req.slope
          s.u = partialScores(s.x, d, s.w, rows)
        } else if (req.slope !== undefined) throw new VerticalLrInputError('Enc(c) came with prepare')
        const got = s.shares.get(step) ?? new Map<string, Uint8Array>()
        if (got.size !== roles.features.length - 1)
          throw new VerticalLrInputError(
            `step ${step}: ${got.size} of ${roles.features.length - 1} shares arrived`
          )
        s.shares.delete(step)
        using r = buildResidual(s.he, req.partial, s.slope!, s.u!, [...got.values()])
        s.slope = undefined
        const xb = gatherRows(s.x, d, rows, 1 / rows.length)
        const product = maskedMatvec(r, xb, rows.length, d, s.labelGalois, s.labelKey!, s.plan.maskBits, rng)
        s.masks = product.masks
        const cross = encryptToBytes(s.own.publicKey, padTo(s.u!, s.he.slotCount))
        // not under DP: the label party does not report the noiseless loss
        const loss =
          s.plan.lossParty === roles.self.peer && s.plan.dp === null
            ? encryptedSumOfSquares(r, s.labelRelin!, s.labelGalois, s.labelKey!)
            : undefined
        return encodeVlr({
          v: VLR_WIRE_VERSION,
          product: product.cts,
          cross,
          ...(loss === undefined ? {} : { loss })
        })
      }
      case 'update': {
        const masked = bytesF64(req.gradient, 'gradient')
        if (masked.length !== d)
          throw new VerticalLrInputError(`gradient has ${masked.length} values, expected ${d}`)
        const g = unmask(d, masked, s.masks!, s.he.slotCount)
        s.masks = undefined
        for (let j = 0; j < d; j++) g[j] = g[j]! + s.plan.l2 * s.w[j]!
        if (req.cross.length !== matvecBlocks(s.plan.labelCols, s.he.slotCount).length)
          throw new VerticalLrInputError('the cross term has the wrong number of ciphertexts')
        const cross = decryptProduct(s.he, s.own.secretKey, req.cross, s.plan.labelCols)
        s.opt.step(s.w, g)
        return encodeVlr({ v: VLR_WIRE_VERSION, cross: f64Bytes(cross) })
      }
      case 'evaluate': {
        const scores = partialScores(s.x, d, s.w, testRowsOf(s.plan.testRows))
        return encodeVlr({ v: VLR_WIRE_VERSION, scores: f64Bytes(scores) })
      }
      case 'done':
        return encodeVlr({ v: VLR_WIRE_VERSION })
      default:
        throw new VerticalLrReplayError(`unexpected ${req.phase}`)
    }
  }

  await ctx.transport.handle(
    PROTOCOLS.verticalLr,
    async (body, from) => {
      try {
        return await handle(body, from)
      } catch (err) {
        if (!isCohortError(err)) throw new VerticalLrInputError(`internal failure: ${String(err)}`)
        throw err
      }
    },
    { maxRequestBytes: MAX_VLR_FRAME_BYTES }
  )
  touch()
  return finished
}
