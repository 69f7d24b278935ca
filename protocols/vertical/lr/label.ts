/**
 * The label party of vertical LR: announces the plan, exchanges keys, drives every batch step,
 * evaluates on the held-out rows and closes the session. See README.md for the protocol and for what
 * each party learns.
 */
import { fillGaussian } from '../../../crypto/dp/mechanisms/gaussian.ts'
import { createRandomSource } from '../../../crypto/dp/random.ts'
import { isCohortError } from '../../../crypto/cohort-error.ts'
import { getHeContext } from '../../../crypto/he/context.ts'
import type { HeContext } from '../../../crypto/he/context.ts'
import { disposeAll } from '../../../crypto/he/dispose.ts'
import type { HeKeySet } from '../../../crypto/he/keys.ts'
import { generateKeys, publicKeyFingerprint } from '../../../crypto/he/keys.ts'
import { PROTOCOLS } from '../../ids.ts'
import type { VerticalParty, VerticalPartyContext } from '../types.ts'
import type { VerticalEvalMetrics, VerticalLrModel } from './common.ts'
import { checkSlice, rolesOf, VLR_HE_PRESET } from './common.ts'
import { VerticalLrAbortedError, VerticalLrInputError, VerticalLrPlanError } from './errors.ts'
import {
  decryptProduct,
  decryptScalar,
  encryptAtSquaredScale,
  encryptToBytes,
  loadOne,
  maskedMatvec,
  unmask
} from './he-steps.ts'
import type { Peer } from './label-session.ts'
import { chargeEpoch, evaluateHeldOut, exchangeKeys, labelCaller } from './label-session.ts'
import { batchLoss, linearize } from './linearization.ts'
import type { VerticalLrOptions, VerticalLrPlan } from './options.ts'
import { batchesPerEpoch, checkOptions, epochBatches, resolveDp, VLR_MASK_BITS } from './options.ts'
import {
  AckReply,
  bytesF64,
  decodeVlr,
  encodeVlr,
  f64Bytes,
  GradientReply,
  UpdateReply,
  VLR_WIRE_VERSION
} from './messages.ts'
import { createOptimizer, gatherRows, partialScores, withInterceptColumn } from './optimizer.ts'

/** Inputs of {@link runVerticalLrLabel}. */
export type VerticalLrLabelContext = VerticalPartyContext & {
  options: VerticalLrOptions
  /** 1 = held out; announced to the feature parties. */
  testRows: Uint8Array
}

/** Result of {@link runVerticalLrLabel}. */
export interface VerticalLrLabelResult {
  model: VerticalLrModel
  /**
   * trainLoss, mean over the epoch's rows: `taylor`, the second-order Taylor loss; `anchored`, the
   * squared error of the linearized probabilities (linearization.ts batchLoss). Absent under DP: it
   * is an exact function of the labels, and not computed.
   */
  history: Array<{ epoch: number; trainLoss?: number }>
  test: VerticalEvalMetrics
  /** ε of the run at the plan's δ (DP runs only). */
  epsilon?: number
}

/**
 * Runs a vertical LR session as the label party.
 *
 * @throws VerticalLrPlanError for bad options or context; VerticalLrAbortedError when a party
 *   refuses, drops out or times out (the session is aborted at every reachable party)
 * @example
 * const { model, test } = await runVerticalLrLabel({ transport, sessionId, parties, slice, options, testRows })
 */
export async function runVerticalLrLabel(ctx: VerticalLrLabelContext): Promise<VerticalLrLabelResult> {
  const roles = rolesOf(ctx)
  if (roles.self.role !== 'label') throw new VerticalLrPlanError('runVerticalLrLabel runs on the label party')
  const slice = ctx.slice
  checkSlice(slice, true)
  if (
    !(ctx.testRows instanceof Uint8Array) ||
    ctx.testRows.length !== slice.rows ||
    ctx.testRows.some((f) => f > 1)
  )
    throw new VerticalLrPlanError('testRows must hold one 0/1 flag per aligned row')
  const labelCols = slice.cols + 1
  checkOptions(ctx.options, labelCols)
  const dp = resolveDp(ctx.options, roles.features.length)
  const he = await getHeContext(VLR_HE_PRESET)
  const keys = generateKeys(he, { relin: true })
  const plan: VerticalLrPlan = {
    sessionId: ctx.sessionId,
    scheme: 'linearized-2key-ckks/v2',
    approximation: ctx.options.approximation ?? 'anchored',
    heParams: he.fingerprint,
    parties: ctx.parties.map((p) => ({ peer: p.peer, name: p.name, role: p.role })),
    rows: slice.rows,
    testRows: Uint8Array.from(ctx.testRows),
    labelCols,
    epochs: ctx.options.epochs,
    batchSize: ctx.options.batchSize,
    learningRate: ctx.options.learningRate,
    l2: ctx.options.l2 ?? 0,
    optimizer: ctx.options.optimizer ?? 'adam',
    seed: ctx.options.seed,
    dp,
    labelKeyFingerprint: publicKeyFingerprint(keys.publicKey),
    lossParty: roles.features[0]!.peer,
    maskBits: VLR_MASK_BITS
  }
  if (batchesPerEpoch(plan) < 1) {
    keys.dispose()
    throw new VerticalLrPlanError('no training batch fits: too few training rows for the batch size')
  }
  const peers: Peer[] = []
  try {
    return await train(ctx, he, keys, plan, roles.features, peers)
  } catch (err) {
    await abortAll(ctx, roles.features, err)
    if (isCohortError(err) && (err.code === 'COHORT_VLR_PLAN' || err.code === 'COHORT_VLR_ABORTED')) throw err
    const code = isCohortError(err) ? err.code : undefined
    throw new VerticalLrAbortedError(
      `vertical LR session ${ctx.sessionId} failed: ${(err as Error)?.message ?? String(err)}`,
      code,
      { cause: err }
    )
  } finally {
    disposeAll(peers.flatMap((p) => [...p.galois, p.key]))
    keys.dispose()
  }
}

async function abortAll(
  ctx: VerticalLrLabelContext,
  features: readonly VerticalParty[],
  err: unknown
): Promise<void> {
  const code = isCohortError(err) ? err.code : 'COHORT_VLR_ABORTED'
  const reason = String((err as Error)?.message ?? err).slice(0, 300)
  const body = encodeVlr({
    v: VLR_WIRE_VERSION,
    sessionId: ctx.sessionId,
    phase: 'abort',
    code: code.slice(0, 64),
    reason
  })
  await Promise.allSettled(
    features.map((f) => ctx.transport.request(f.peer, PROTOCOLS.verticalLr, body, { timeoutMs: 2000 }))
  )
}

async function train(
  ctx: VerticalLrLabelContext,
  he: HeContext,
  keys: HeKeySet,
  plan: VerticalLrPlan,
  features: readonly VerticalParty[],
  peers: Peer[]
): Promise<VerticalLrLabelResult> {
  const call = labelCaller(ctx)
  const slice = ctx.slice
  const y = slice.y!
  const dL = slice.cols
  const rng = createRandomSource()
  await exchangeKeys(ctx, call, he, keys, plan, features, peers)

  // rows [x | 1] and weights [w | b]: under DP the rows are clipped, ones column included (options.ts)
  const xL = withInterceptColumn(slice.x, slice.rows, dL, plan.dp?.clipNorm)
  const wL = new Float64Array(dL + 1)
  const trainRows = plan.testRows.reduce((n, f) => n + (f === 0 ? 1 : 0), 0)
  let pos = 0
  for (let i = 0; i < y.length; i++) if (plan.testRows[i] === 0) pos += y[i]!
  const rate = Math.min(Math.max(pos / trainRows, 1e-3), 1 - 1e-3)
  wL[dL] = Math.log(rate / (1 - rate))
  const opt = createOptimizer(plan.optimizer, plan.learningRate, dL + 1)
  const history: Array<{ epoch: number; trainLoss?: number }> = []
  const multi = features.length > 1
  let step = 0
  for (let epoch = 0; epoch < plan.epochs; epoch++) {
    await chargeEpoch(ctx, plan, epoch, features.length)
    let lossSum = 0
    let lossRows = 0
    for (const rows of epochBatches(plan, epoch)) {
      const B = rows.length
      const zL = partialScores(xL, dL + 1, wL, rows)
      const { a, c } = linearize(
        plan.approximation,
        zL,
        Array.from(rows, (i) => y[i]!),
        he.slotCount
      )
      const slope = encryptToBytes(keys.publicKey, c)
      if (multi)
        await Promise.all(
          peers.map(async (p) =>
            decodeVlr(AckReply, await call(p.party, { phase: 'prepare', step, slope }), 'prepare ack')
          )
        )
      const partial = encryptAtSquaredScale(keys.publicKey, a)
      const grads = await Promise.all(
        peers.map(async (p) =>
          decodeVlr(
            GradientReply,
            await call(
              p.party,
              { phase: 'gradient', step, partial, ...(multi ? {} : { slope }) },
              64 * 1024 * 1024
            ),
            'gradient reply'
          )
        )
      )
      // the cross-term matrix diag(c)·[X_L | 1] / B
      const xb = gatherRows(xL, dL + 1, rows, 1 / B)
      const mL = new Float64Array(B * (dL + 1))
      for (let k = 0; k < B; k++)
        for (let j = 0; j <= dL; j++) mL[k * (dL + 1) + j] = c[k]! * xb[k * (dL + 1) + j]!
      const crossSums = await Promise.all(
        peers.map(async (p, i) => {
          const g = grads[i]!
          const noisy = decryptProduct(he, keys.secretKey, g.product, p.cols)
          if (plan.dp !== null) {
            const noise = fillGaussian(
              new Float64Array(p.cols),
              (plan.dp.noiseMultiplier * plan.dp.clipNorm) / B,
              rng
            )
            for (let j = 0; j < p.cols; j++) noisy[j] = noisy[j]! + noise[j]!
          }
          using enc = loadOne(he, g.cross, he.slotCount)
          const cross = maskedMatvec(enc, mL, B, dL + 1, p.galois, p.key, plan.maskBits, rng)
          const reply = decodeVlr(
            UpdateReply,
            await call(p.party, { phase: 'update', step, gradient: f64Bytes(noisy), cross: cross.cts }),
            'update reply'
          )
          const masked = bytesF64(reply.cross, 'cross')
          if (masked.length !== dL + 1)
            throw new VerticalLrInputError(`${p.party.name} returned ${masked.length} cross values`)
          return unmask(dL + 1, masked, cross.masks, he.slotCount)
        })
      )
      if (plan.dp === null) {
        const loss = grads.find((_, i) => peers[i]!.party.peer === plan.lossParty)?.loss
        if (loss === undefined) throw new VerticalLrInputError('the loss party did not return the batch loss')
        lossSum += batchLoss(plan.approximation, decryptScalar(he, keys.secretKey, loss), B)
        lossRows += B
      }
      // gradient of the label party's slice and the intercept: [X_L | 1]ᵀ (a + c ⊙ Σ_p u_p) / B
      const g = new Float64Array(dL + 1)
      for (let k = 0; k < B; k++) {
        const ak = a[k]!
        for (let j = 0; j <= dL; j++) g[j] = g[j]! + xb[k * (dL + 1) + j]! * ak
      }
      for (const cs of crossSums) for (let j = 0; j <= dL; j++) g[j] = g[j]! + cs[j]!
      // noised like the feature parties' gradients: the next batches' a and c depend on wL
      if (plan.dp !== null) {
        const noise = fillGaussian(
          new Float64Array(dL + 1),
          (plan.dp.noiseMultiplier * plan.dp.clipNorm) / B,
          rng
        )
        for (let j = 0; j <= dL; j++) g[j] = g[j]! + noise[j]!
      }
      for (let j = 0; j < dL; j++) g[j] = g[j]! + plan.l2 * wL[j]!
      opt.step(wL, g)
      step++
    }
    if (plan.dp === null) {
      const trainLoss = lossSum / lossRows
      history.push({ epoch: epoch + 1, trainLoss })
      ctx.onProgress?.({ phase: 'train', step: epoch + 1, of: plan.epochs, metrics: { trainLoss } })
    } else {
      history.push({ epoch: epoch + 1 })
      ctx.onProgress?.({ phase: 'train', step: epoch + 1, of: plan.epochs })
    }
  }

  const test = await evaluateHeldOut(call, peers, plan, slice, xL, wL)
  await Promise.all(
    peers.map(async (p) => decodeVlr(AckReply, await call(p.party, { phase: 'done' }), 'done ack'))
  )
  const model: VerticalLrModel = {
    kind: 'vertical-logreg',
    featureNames: [...slice.featureNames],
    weights: Array.from(wL.subarray(0, dL)),
    intercept: wL[dL]!,
    role: 'label',
    sessionId: ctx.sessionId,
    ...(plan.dp === null ? {} : { clipNorm: plan.dp.clipNorm })
  }
  return { model, history, test, ...(plan.dp === null ? {} : { epsilon: plan.dp.epsilon }) }
}
