/**
 * Federated scoring with a trained vertical LR model (`/cohort/vertical-lr-score/1.0.0`): the label
 * party asks every feature party for its partial scores x_p·w_p of the given aligned rows and adds
 * them to its own. Each feature party reveals exactly those partial scores to the label party, and
 * only to it; the label party reveals which aligned rows it scores.
 */
import { isCohortError } from '../../../crypto/cohort-error.ts'
import { PROTOCOLS } from '../../ids.ts'
import type { VerticalPartyContext } from '../types.ts'
import type { VerticalLrModel } from './common.ts'
import { checkSlice, rolesOf, sigmoid } from './common.ts'
import {
  VerticalLrAbortedError,
  VerticalLrInputError,
  VerticalLrPlanError,
  VerticalLrSenderError,
  VerticalLrSessionError
} from './errors.ts'
import {
  bytesF64,
  bytesU32,
  decodeVlr,
  encodeVlr,
  f64Bytes,
  ScoreRequest,
  ScoresReply,
  u32Bytes,
  VLR_WIRE_VERSION
} from './messages.ts'
import { clipRows, gatherRows, partialScores, withInterceptColumn } from './optimizer.ts'

function checkModel(model: VerticalLrModel, cols: number, role: 'label' | 'feature'): void {
  if (model?.kind !== 'vertical-logreg' || model.role !== role)
    throw new VerticalLrPlanError(`a ${role} party's vertical-logreg model is needed`)
  if (model.weights.length !== cols || model.weights.some((w) => !Number.isFinite(w)))
    throw new VerticalLrPlanError(`the model has ${model.weights.length} weights, the slice ${cols} columns`)
  if (role === 'label' && !Number.isFinite(model.intercept))
    throw new VerticalLrPlanError('the label model needs an intercept')
}

function iota(n: number): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => i)
}

function checkRows(rows: Uint32Array, n: number): void {
  for (const r of rows)
    if (r >= n) throw new VerticalLrInputError(`row ${r} is not an aligned row (there are ${n})`)
}

/**
 * Serves partial scores of this feature party's model to the label party of the model's session.
 * Returns the function that stops serving.
 *
 * @example
 * const stop = await serveVerticalScores({ transport, sessionId, parties, slice, model })
 */
export async function serveVerticalScores(
  ctx: VerticalPartyContext & { model: VerticalLrModel }
): Promise<() => Promise<void>> {
  const roles = rolesOf(ctx)
  if (roles.self.role !== 'feature')
    throw new VerticalLrPlanError('serveVerticalScores runs on a feature party')
  checkSlice(ctx.slice, false)
  checkModel(ctx.model, ctx.slice.cols, 'feature')
  const w = Float64Array.from(ctx.model.weights)
  const clip = ctx.model.clipNorm
  const x = clip === undefined ? ctx.slice.x : clipRows(ctx.slice.x, ctx.slice.rows, ctx.slice.cols, clip)
  await ctx.transport.handle(
    PROTOCOLS.verticalLrScore,
    async (body, from) => {
      const req = decodeVlr(ScoreRequest, body, 'score request')
      if (req.sessionId !== ctx.model.sessionId)
        throw new VerticalLrSessionError(`no model of session ${req.sessionId} here`)
      if (from !== roles.label.peer)
        throw new VerticalLrSenderError(`only the label party ${roles.label.peer} may ask for scores`)
      const rows = bytesU32(req.rows)
      checkRows(rows, ctx.slice.rows)
      return encodeVlr({ v: VLR_WIRE_VERSION, scores: f64Bytes(partialScores(x, ctx.slice.cols, w, rows)) })
    },
    { maxRequestBytes: 64 * 1024 * 1024 }
  )
  return () => ctx.transport.unhandle(PROTOCOLS.verticalLrScore)
}

/**
 * Scores aligned rows with a trained model (label party): probabilities of the positive class.
 *
 * @throws VerticalLrAbortedError when a feature party does not answer (no score without its part)
 * @example
 * const p = await scoreVerticalLabel({ transport, sessionId, parties, slice, model, rows })
 */
export async function scoreVerticalLabel(
  ctx: VerticalPartyContext & { model: VerticalLrModel; rows: Uint32Array }
): Promise<Float64Array> {
  const roles = rolesOf(ctx)
  if (roles.self.role !== 'label') throw new VerticalLrPlanError('scoreVerticalLabel runs on the label party')
  checkSlice(ctx.slice, false)
  checkModel(ctx.model, ctx.slice.cols, 'label')
  if (!(ctx.rows instanceof Uint32Array)) throw new VerticalLrPlanError('rows must be a Uint32Array')
  checkRows(ctx.rows, ctx.slice.rows)
  const body = encodeVlr({
    v: VLR_WIRE_VERSION,
    sessionId: ctx.model.sessionId,
    phase: 'score',
    rows: u32Bytes(ctx.rows)
  })
  const parts = await Promise.all(
    roles.features.map(async (f) => {
      try {
        const reply = await ctx.transport.request(f.peer, PROTOCOLS.verticalLrScore, body, {
          timeoutMs: ctx.timeoutMs ?? 60_000,
          signal: ctx.signal,
          maxResponseBytes: 8 * ctx.rows.length + 1024
        })
        const s = bytesF64(decodeVlr(ScoresReply, reply, 'scores reply').scores, 'scores')
        if (s.length !== ctx.rows.length)
          throw new VerticalLrInputError(`${f.name} returned ${s.length} scores for ${ctx.rows.length} rows`)
        return s
      } catch (err) {
        throw new VerticalLrAbortedError(
          `feature party ${f.name} did not score: ${(err as Error)?.message ?? String(err)}`,
          isCohortError(err) ? err.code : undefined,
          { cause: err }
        )
      }
    })
  )
  const n = ctx.rows.length
  const cols = ctx.slice.cols
  const xL = withInterceptColumn(gatherRows(ctx.slice.x, cols, ctx.rows), n, cols, ctx.model.clipNorm)
  const own = partialScores(
    xL,
    cols + 1,
    Float64Array.from([...ctx.model.weights, ctx.model.intercept!]),
    iota(n)
  )
  const out = new Float64Array(n)
  for (let k = 0; k < out.length; k++) {
    let z = own[k]!
    for (const p of parts) z += p[k]!
    out[k] = sigmoid(z)
  }
  return out
}
