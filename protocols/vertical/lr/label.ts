/**
 * The label party of vertical LR: announces the plan, exchanges keys, drives every batch step,
 * evaluates on the held-out rows and closes the session. See README.md for the protocol and for what
 * each party learns.
 */
import { gaussianEvent, selfComposedEvent } from '../../../crypto/dp/events.ts'
import { fillGaussian } from '../../../crypto/dp/mechanisms/gaussian.ts'
import { createRandomSource } from '../../../crypto/dp/random.ts'
import { isCohortError } from '../../../crypto/cohort-error.ts'
import { generateMatvecGaloisKeys, matvecGaloisSteps } from '../../../crypto/he/ckks-matvec.ts'
import { getHeContext } from '../../../crypto/he/context.ts'
import type { HeContext } from '../../../crypto/he/context.ts'
import { disposeAll } from '../../../crypto/he/dispose.ts'
import type { HeGaloisKeys, HeKeySet, HePublicKey } from '../../../crypto/he/keys.ts'
import { generateKeys, publicKeyFingerprint, rotateSumSteps } from '../../../crypto/he/keys.ts'
import {
  loadGaloisKeys,
  loadPublicKey,
  saveGaloisKeys,
  savePublicKey,
  saveRelinKeys
} from '../../../crypto/he/serialize.ts'
import { exactAccuracy, exactAuc, exactKs, exactLogLoss } from '../../evaluation/exact-metrics.ts'
import { PROTOCOLS } from '../../ids.ts'
import type { VerticalParty, VerticalPartyContext } from '../types.ts'
import type { VerticalEvalMetrics, VerticalLrModel } from './common.ts'
import { checkSlice, rolesOf, sigmoid, VLR_HE_PRESET } from './common.ts'
import { VerticalLrAbortedError, VerticalLrInputError, VerticalLrPlanError } from './errors.ts'
import { decryptProduct, decryptScalar, encryptToBytes, loadOne, maskedMatvec, unmask } from './he-steps.ts'
import type { VerticalLrOptions, VerticalLrPlan } from './options.ts'
import {
  batchesPerEpoch,
  checkOptions,
  epochBatches,
  resolveDp,
  testRowsOf,
  VLR_MASK_BITS,
  vlrEpsilon
} from './options.ts'
import {
  AckReply,
  bytesF64,
  decodeVlr,
  encodeVlr,
  f64Bytes,
  FetchKeysReply,
  GradientReply,
  MAX_VLR_FRAME_BYTES,
  PlanReply,
  ScoresReply,
  UpdateReply,
  VLR_WIRE_VERSION
} from './messages.ts'
import { createOptimizer, gatherRows, partialScores } from './optimizer.ts'

/** Inputs of {@link runVerticalLrLabel}. */
export type VerticalLrLabelContext = VerticalPartyContext & {
  options: VerticalLrOptions
  /** 1 = held out; announced to the feature parties. */
  testRows: Uint8Array
}

/** Result of {@link runVerticalLrLabel}. */
export interface VerticalLrLabelResult {
  model: VerticalLrModel
  /** trainLoss: mean second-order Taylor approximation of the logistic loss over the epoch's rows. */
  history: Array<{ epoch: number; trainLoss: number }>
  test: VerticalEvalMetrics
  /** ε of the run at the plan's δ (DP runs only). */
  epsilon?: number
}

interface Peer {
  party: VerticalParty
  cols: number
  key: HePublicKey
  galois: HeGaloisKeys[]
}

const LN2 = Math.log(2)

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
    scheme: 'taylor-2key-ckks/v1',
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
  const timeoutMs = ctx.timeoutMs ?? 60_000
  const call = async (to: VerticalParty, msg: object, maxResponseBytes = 4 * 1024 * 1024) => {
    try {
      return await ctx.transport.request(
        to.peer,
        PROTOCOLS.verticalLr,
        encodeVlr({ v: VLR_WIRE_VERSION, sessionId: ctx.sessionId, ...msg }),
        {
          timeoutMs,
          signal: ctx.signal,
          maxResponseBytes
        }
      )
    } catch (err) {
      const code = isCohortError(err) ? err.code : undefined
      throw new VerticalLrAbortedError(
        `feature party ${to.name} failed or dropped out (${code ?? 'error'}): ${(err as Error)?.message ?? String(err)}`,
        code,
        { cause: err }
      )
    }
  }
  const slice = ctx.slice
  const y = slice.y!
  const dL = slice.cols
  const rng = createRandomSource()

  // setup: plan, the feature parties' keys, our keys for each of them
  // A feature party may still be starting: retry the plan while it does not serve the protocol yet.
  const planCall = async (f: VerticalParty) => {
    const deadline = Date.now() + timeoutMs
    for (let wait = 50; ; wait = Math.min(2 * wait, 1000)) {
      try {
        return await call(f, { phase: 'plan', plan })
      } catch (err) {
        const notYet = (err as VerticalLrAbortedError).causeCode === 'COHORT_PROTOCOL_NOT_SUPPORTED'
        if (!notYet || Date.now() + wait > deadline || ctx.signal?.aborted === true) throw err
        await new Promise((resolve) => setTimeout(resolve, wait))
      }
    }
  }
  const replies = await Promise.all(
    features.map(async (f) => decodeVlr(PlanReply, await planCall(f), 'plan reply'))
  )
  replies.forEach((r, i) => {
    if (r.cols >= plan.batchSize)
      throw new VerticalLrPlanError(
        `${features[i]!.name} has ${r.cols} columns: batches must have more rows so its gradient does not reveal residuals`
      )
    peers.push({ party: features[i]!, cols: r.cols, key: loadPublicKey(he, r.publicKey), galois: [] })
  })
  for (const [i, p] of peers.entries()) {
    for (let k = 0; k < replies[i]!.galoisCount; k++) {
      const r = decodeVlr(
        FetchKeysReply,
        await call(p.party, { phase: 'fetch-keys', index: k }, MAX_VLR_FRAME_BYTES),
        'keys reply'
      )
      p.galois.push(loadGaloisKeys(he, r.galois))
    }
  }
  await Promise.all(
    peers.map(async (p) => {
      const steps = new Set(matvecGaloisSteps(p.cols, he.slotCount))
      if (p.party.peer === plan.lossParty) for (const s of rotateSumSteps(he)) steps.add(s)
      const galois = generateMatvecGaloisKeys(
        keys.secretKey,
        [...steps].sort((a, b) => a - b)
      )
      try {
        const bytes = galois.map(saveGaloisKeys)
        disposeAll(galois)
        for (const [k, g] of bytes.entries()) {
          const first =
            k === 0
              ? {
                  publicKey: savePublicKey(keys.publicKey),
                  ...(p.party.peer === plan.lossParty ? { relinKeys: saveRelinKeys(keys.relinKeys!) } : {})
                }
              : {}
          decodeVlr(
            AckReply,
            await call(p.party, { phase: 'keys', index: k, count: bytes.length, galois: g, ...first }),
            'keys ack'
          )
        }
      } finally {
        disposeAll(galois)
      }
    })
  )

  // training
  const wL = new Float64Array(dL + 1) // [weights..., intercept]
  const trainRows = plan.testRows.reduce((n, f) => n + (f === 0 ? 1 : 0), 0)
  let pos = 0
  for (let i = 0; i < y.length; i++) if (plan.testRows[i] === 0) pos += y[i]!
  const rate = Math.min(Math.max(pos / trainRows, 1e-3), 1 - 1e-3)
  wL[dL] = Math.log(rate / (1 - rate))
  const opt = createOptimizer(plan.optimizer, plan.learningRate, dL + 1)
  const history: Array<{ epoch: number; trainLoss: number }> = []
  const multi = features.length > 1
  let step = 0
  for (let epoch = 0; epoch < plan.epochs; epoch++) {
    if (plan.dp !== null && ctx.charge !== undefined) {
      const before = vlrEpsilon({
        noiseMultiplier: plan.dp.noiseMultiplier,
        epochs: epoch,
        featureParties: features.length,
        delta: plan.dp.delta
      })
      const after = vlrEpsilon({
        noiseMultiplier: plan.dp.noiseMultiplier,
        epochs: epoch + 1,
        featureParties: features.length,
        delta: plan.dp.delta
      })
      await ctx.charge({
        epsilon: after - before,
        delta: epoch === 0 ? plan.dp.delta : 0,
        mechanism: `vertical-lr/label-gaussian z=${plan.dp.noiseMultiplier} epoch ${epoch + 1}`,
        // One epoch = one Gaussian release per feature party, each row once (vlrEpsilon's model).
        event: selfComposedEvent(gaussianEvent(plan.dp.noiseMultiplier), features.length)
      })
    }
    let lossSum = 0
    let lossRows = 0
    for (const rows of epochBatches(plan, epoch)) {
      const B = rows.length
      const uL = partialScores(slice.x, dL, wL, rows)
      const a = new Float64Array(he.slotCount)
      for (let k = 0; k < B; k++) a[k] = 0.25 * (uL[k]! + wL[dL]!) + 0.5 - y[rows[k]!]!
      if (multi)
        await Promise.all(
          peers.map(async (p) =>
            decodeVlr(AckReply, await call(p.party, { phase: 'prepare', step }), 'prepare ack')
          )
        )
      const partial = encryptToBytes(keys.publicKey, a)
      const grads = await Promise.all(
        peers.map(async (p) =>
          decodeVlr(
            GradientReply,
            await call(p.party, { phase: 'gradient', step, partial }, 64 * 1024 * 1024),
            'gradient reply'
          )
        )
      )
      const mL = new Float64Array(B * (dL + 1))
      const xb = gatherRows(slice.x, dL, rows, 1 / B)
      for (let k = 0; k < B; k++) {
        mL.set(xb.subarray(k * dL, (k + 1) * dL), k * (dL + 1))
        mL[k * (dL + 1) + dL] = 1 / B
      }
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
      const loss = grads.find((_, i) => peers[i]!.party.peer === plan.lossParty)?.loss
      if (loss === undefined) throw new VerticalLrInputError('the loss party did not return the batch loss')
      lossSum += B * (LN2 - 0.5) + 2 * decryptScalar(he, keys.secretKey, loss)
      lossRows += B
      // gradient of the label party's slice and the intercept: [X_L | 1]ᵀ r / B
      const g = new Float64Array(dL + 1)
      for (let k = 0; k < B; k++) {
        const ak = a[k]!
        for (let j = 0; j < dL; j++) g[j] = g[j]! + xb[k * dL + j]! * ak
        g[dL] = g[dL]! + ak / B
      }
      for (const c of crossSums) for (let j = 0; j <= dL; j++) g[j] = g[j]! + c[j]!
      for (let j = 0; j < dL; j++) g[j] = g[j]! + plan.l2 * wL[j]!
      opt.step(wL, g)
      step++
    }
    const trainLoss = lossSum / lossRows
    history.push({ epoch: epoch + 1, trainLoss })
    ctx.onProgress?.({ phase: 'train', step: epoch + 1, of: plan.epochs, metrics: { trainLoss } })
  }

  // evaluation on the held-out rows: the feature parties reveal their partial scores of those rows only
  const testRows = testRowsOf(plan.testRows)
  const scores = await Promise.all(
    peers.map(async (p) => {
      const r = decodeVlr(
        ScoresReply,
        await call(p.party, { phase: 'evaluate' }, 64 * 1024 * 1024),
        'scores reply'
      )
      const s = bytesF64(r.scores, 'scores')
      if (s.length !== testRows.length)
        throw new VerticalLrInputError(
          `${p.party.name} returned ${s.length} test scores, expected ${testRows.length}`
        )
      return s
    })
  )
  const uTest = partialScores(slice.x, dL, wL, testRows)
  const probs = new Float64Array(testRows.length)
  const labels = new Float64Array(testRows.length)
  for (let k = 0; k < testRows.length; k++) {
    let z = uTest[k]! + wL[dL]!
    for (const s of scores) z += s[k]!
    probs[k] = sigmoid(z)
    labels[k] = y[testRows[k]!]!
  }
  const test: VerticalEvalMetrics =
    testRows.length === 0
      ? { auc: Number.NaN, ks: Number.NaN, logLoss: Number.NaN, accuracy: Number.NaN, n: 0 }
      : {
          auc: exactAuc(probs, labels),
          ks: exactKs(probs, labels),
          logLoss: exactLogLoss(probs, labels),
          accuracy: exactAccuracy(probs, labels),
          n: testRows.length
        }
  await Promise.all(
    peers.map(async (p) => decodeVlr(AckReply, await call(p.party, { phase: 'done' }), 'done ack'))
  )
  const model: VerticalLrModel = {
    kind: 'vertical-logreg',
    featureNames: [...slice.featureNames],
    weights: Array.from(wL.subarray(0, dL)),
    intercept: wL[dL]!,
    role: 'label',
    sessionId: ctx.sessionId
  }
  return { model, history, test, ...(plan.dp === null ? {} : { epsilon: plan.dp.epsilon }) }
}
