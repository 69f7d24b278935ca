/**
 * A feature party's session of vertical LR: its state and the checks of the plan before any key is
 * made (see feature.ts for the message handling).
 */
import { generateMatvecGaloisKeys, matvecGaloisSteps } from '../../../crypto/he/ckks-matvec.ts'
import type { HeContext } from '../../../crypto/he/context.ts'
import { disposeAll } from '../../../crypto/he/dispose.ts'
import type { HeGaloisKeys, HeKeySet, HePublicKey, HeRelinKeys } from '../../../crypto/he/keys.ts'
import { generateKeys } from '../../../crypto/he/keys.ts'
import { saveGaloisKeys } from '../../../crypto/he/serialize.ts'
import type { VerticalPartyContext } from '../types.ts'
import type { Roles } from './common.ts'
import { VerticalLrPlanError, VerticalLrReplayError, VerticalLrSessionError } from './errors.ts'
import type { VerticalLrPlan } from './options.ts'
import { batchesPerEpoch, epochBatches } from './options.ts'
import { clipRows, createOptimizer } from './optimizer.ts'
import type { Optimizer } from './optimizer.ts'

/** A feature party's session state (after the plan). */
export interface Session {
  plan: VerticalLrPlan
  he: HeContext
  own: HeKeySet
  ownGalois: HeGaloisKeys[]
  ownGaloisBytes: Uint8Array[]
  labelKey?: HePublicKey
  labelRelin?: HeRelinKeys
  labelGalois: HeGaloisKeys[]
  keysExpected: number
  x: Float64Array
  w: Float64Array
  opt: Optimizer
  epochs: Uint32Array[][]
  /** Partial predictors u_p of the step being prepared/computed. */
  u?: Float64Array
  /** Enc_L(c) of that step (sent with its first message). */
  slope?: Uint8Array
  masks?: Float64Array[]
  shares: Map<number, Map<string, Uint8Array>>
}

/** The session, or a replay error before the plan. */
export function need(s: Session | undefined): Session {
  if (s === undefined) throw new VerticalLrReplayError('no plan has been received for this session')
  return s
}

/** Values zero-padded to `slots`. */
export function padTo(values: Float64Array, slots: number): Float64Array {
  const out = new Float64Array(slots)
  out.set(values)
  return out
}

/** Validates the plan against this party's context and policy, then makes this party's keys. */
export async function openSession(
  ctx: VerticalPartyContext & { acceptPlan?: (plan: VerticalLrPlan) => Promise<void> },
  roles: Roles,
  he: HeContext,
  plan: VerticalLrPlan
): Promise<Session> {
  if (plan.sessionId !== ctx.sessionId) throw new VerticalLrSessionError('the plan names another session')
  const same =
    plan.parties.length === ctx.parties.length &&
    plan.parties.every((p, i) => p.peer === ctx.parties[i]!.peer && p.role === ctx.parties[i]!.role)
  if (!same) throw new VerticalLrPlanError('the plan lists other parties than this job')
  if (plan.heParams !== he.fingerprint) throw new VerticalLrPlanError('the plan uses other HE parameters')
  if (plan.rows !== ctx.slice.rows || plan.testRows.length !== plan.rows)
    throw new VerticalLrPlanError(`the plan has ${plan.rows} aligned rows, this party ${ctx.slice.rows}`)
  if (plan.testRows.some((f) => f !== 0 && f !== 1))
    throw new VerticalLrPlanError('test-row flags must be 0 or 1')
  if (!roles.features.some((f) => f.peer === plan.lossParty))
    throw new VerticalLrPlanError('the loss party must be a feature party')
  if (plan.batchSize <= plan.labelCols)
    throw new VerticalLrPlanError(
      `batches of ${plan.batchSize} rows would let the label party solve ${plan.labelCols} cross terms for our partial predictors`
    )
  if (batchesPerEpoch(plan) < 1) throw new VerticalLrPlanError('no training batch fits the plan')
  await ctx.acceptPlan?.(plan)
  const slice = ctx.slice
  const x =
    plan.dp === null
      ? Float64Array.from(slice.x)
      : clipRows(slice.x, slice.rows, slice.cols, plan.dp.clipNorm)
  const own = generateKeys(he)
  let ownGalois: HeGaloisKeys[] = []
  try {
    ownGalois = generateMatvecGaloisKeys(own.secretKey, matvecGaloisSteps(plan.labelCols, he.slotCount))
    return {
      plan,
      he,
      own,
      ownGalois,
      ownGaloisBytes: ownGalois.map(saveGaloisKeys),
      labelGalois: [],
      keysExpected: -1,
      x,
      w: new Float64Array(slice.cols),
      opt: createOptimizer(plan.optimizer, plan.learningRate, slice.cols),
      epochs: [epochBatches(plan, 0)],
      shares: new Map()
    }
  } catch (err) {
    disposeAll([...ownGalois, own])
    throw err
  }
}
