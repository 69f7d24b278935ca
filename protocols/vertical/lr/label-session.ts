/**
 * The label party's session plumbing for label.ts: requests to the feature parties, the plan and key
 * exchange, the per-epoch DP charge and the held-out evaluation.
 */
import { gaussianEvent, selfComposedEvent } from '../../../crypto/dp/events.ts'
import { isCohortError } from '../../../crypto/cohort-error.ts'
import { generateMatvecGaloisKeys, matvecGaloisSteps } from '../../../crypto/he/ckks-matvec.ts'
import type { HeContext } from '../../../crypto/he/context.ts'
import { disposeAll } from '../../../crypto/he/dispose.ts'
import type { HeGaloisKeys, HeKeySet, HePublicKey } from '../../../crypto/he/keys.ts'
import { rotateSumSteps } from '../../../crypto/he/keys.ts'
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
import type { VerticalEvalMetrics } from './common.ts'
import { sigmoid } from './common.ts'
import { VerticalLrAbortedError, VerticalLrInputError, VerticalLrPlanError } from './errors.ts'
import type { VerticalLrPlan } from './options.ts'
import { testRowsOf, vlrEpsilon, vlrReleasesPerBatch } from './options.ts'
import {
  AckReply,
  bytesF64,
  decodeVlr,
  encodeVlr,
  FetchKeysReply,
  MAX_VLR_FRAME_BYTES,
  PlanReply,
  ScoresReply,
  VLR_WIRE_VERSION
} from './messages.ts'
import { partialScores } from './optimizer.ts'

/** A feature party as the label party sees it. */
export interface Peer {
  party: VerticalParty
  cols: number
  key: HePublicKey
  galois: HeGaloisKeys[]
}

/** One request to a feature party; a failure becomes VerticalLrAbortedError naming the party. */
export type LabelCall = (to: VerticalParty, msg: object, maxResponseBytes?: number) => Promise<Uint8Array>

/** The request function of a session. */
export function labelCaller(ctx: VerticalPartyContext): LabelCall {
  const timeoutMs = ctx.timeoutMs ?? 60_000
  return async (to, msg, maxResponseBytes = 4 * 1024 * 1024) => {
    try {
      return await ctx.transport.request(
        to.peer,
        PROTOCOLS.verticalLr,
        encodeVlr({ v: VLR_WIRE_VERSION, sessionId: ctx.sessionId, ...msg }),
        { timeoutMs, signal: ctx.signal, maxResponseBytes }
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
}

/**
 * Sends the plan, collects every feature party's column count and keys (into `peers`) and sends each
 * of them the label party's public key and the Galois keys of its matvec (plus, to the loss party,
 * the rotate-and-sum steps and the relinearization keys).
 */
export async function exchangeKeys(
  ctx: VerticalPartyContext,
  call: LabelCall,
  he: HeContext,
  keys: HeKeySet,
  plan: VerticalLrPlan,
  features: readonly VerticalParty[],
  peers: Peer[]
): Promise<void> {
  const timeoutMs = ctx.timeoutMs ?? 60_000
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
}

/**
 * Charges epoch `epoch` (0-based) before its first release: ε(e+1) − ε(e), and δ on the first epoch.
 * One epoch = per batch one Gaussian release per feature party plus the label party's own noisy
 * gradient, each row in one batch (vlrEpsilon's model).
 */
export async function chargeEpoch(
  ctx: VerticalPartyContext,
  plan: VerticalLrPlan,
  epoch: number,
  featureParties: number
): Promise<void> {
  if (plan.dp === null || ctx.charge === undefined) return
  const eps = (epochs: number) =>
    vlrEpsilon({ noiseMultiplier: plan.dp!.noiseMultiplier, epochs, featureParties, delta: plan.dp!.delta })
  await ctx.charge({
    epsilon: eps(epoch + 1) - eps(epoch),
    delta: epoch === 0 ? plan.dp.delta : 0,
    mechanism: `vertical-lr/label-gaussian z=${plan.dp.noiseMultiplier} epoch ${epoch + 1}`,
    event: selfComposedEvent(gaussianEvent(plan.dp.noiseMultiplier), vlrReleasesPerBatch(featureParties))
  })
}

/**
 * The held-out evaluation: the feature parties reveal their partial scores of the test rows only; the
 * label party adds its own (`xL`: its rows [x | 1], clipped as in training) and computes the metrics.
 */
export async function evaluateHeldOut(
  call: LabelCall,
  peers: readonly Peer[],
  plan: VerticalLrPlan,
  slice: VerticalPartyContext['slice'],
  xL: Float64Array,
  wL: Float64Array
): Promise<VerticalEvalMetrics> {
  const y = slice.y!
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
  const uTest = partialScores(xL, slice.cols + 1, wL, testRows)
  const probs = new Float64Array(testRows.length)
  const labels = new Float64Array(testRows.length)
  for (let k = 0; k < testRows.length; k++) {
    let z = uTest[k]!
    for (const s of scores) z += s[k]!
    probs[k] = sigmoid(z)
    labels[k] = y[testRows[k]!]!
  }
  if (testRows.length === 0)
    return { auc: Number.NaN, ks: Number.NaN, logLoss: Number.NaN, accuracy: Number.NaN, n: 0 }
  return {
    auc: exactAuc(probs, labels),
    ks: exactKs(probs, labels),
    logLoss: exactLogLoss(probs, labels),
    accuracy: exactAccuracy(probs, labels),
    n: testRows.length
  }
}
