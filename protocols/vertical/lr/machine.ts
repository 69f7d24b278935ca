/**
 * The feature party's session machine: which message may come next, from whom, for which step. Pure
 * (no HE, no I/O): the runner (feature.ts) asks it before doing any work, so replays, skipped steps,
 * wrong senders and wrong sessions are refused with typed errors and leave the state unchanged.
 *
 * Phases (of the last accepted message): idle → plan → keys* → [prepare] → gradient → update → …
 * (one prepare/gradient/update round per batch step, steps 0, 1, … in order) → evaluate → done.
 * `fetch-keys` is allowed while in plan/keys; `share` (from another feature party) is checked
 * separately: it must be for the current or the next step and arrive once per sender and step.
 */
import type { TransitionTable } from '../../machine.ts'
import { assertTransition } from '../../machine.ts'
import { VerticalLrReplayError, VerticalLrSenderError, VerticalLrSessionError } from './errors.ts'
import type { VlrPhase } from './messages.ts'

/** Phases of a feature party. */
export const VLR_FEATURE_PHASES = [
  'idle',
  'plan',
  'keys',
  'prepare',
  'gradient',
  'update',
  'evaluate',
  'done',
  'aborted'
] as const
/** A phase of a feature party. */
export type VlrFeaturePhase = (typeof VLR_FEATURE_PHASES)[number]

const LIVE = ['idle', 'plan', 'keys', 'prepare', 'gradient', 'update', 'evaluate'] as const

/** Allowed (last phase, incoming phase) pairs. */
export const VLR_FEATURE_TRANSITIONS: TransitionTable = [
  ['idle', 'plan'],
  ['plan', 'keys'],
  ['keys', 'keys'],
  ['keys', 'prepare'],
  ['keys', 'gradient'],
  ['prepare', 'gradient'],
  ['gradient', 'update'],
  ['update', 'prepare'],
  ['update', 'gradient'],
  ['update', 'evaluate'],
  ['keys', 'evaluate'],
  ['evaluate', 'done'],
  ...LIVE.map((p) => [p, 'aborted'] as const)
]

/** A feature party's position in the session. */
export interface VlrFeatureState {
  readonly sessionId: string
  readonly label: string
  readonly phase: VlrFeaturePhase
  /** Batch step of the last prepare/gradient/update (−1 before the first). */
  readonly step: number
  readonly totalSteps: number
  readonly multiFeature: boolean
}

/**
 * The state after accepting a message of `phase` for `step` from `from`, or a thrown CohortError.
 *
 * @example
 * state = acceptFeatureMessage(state, { phase: 'gradient', step: 0, from, sessionId })
 */
export function acceptFeatureMessage(
  state: VlrFeatureState,
  msg: {
    phase: Exclude<VlrPhase, 'share' | 'fetch-keys' | 'abort' | 'plan'> | 'aborted'
    step?: number
    from: string
    sessionId: string
  }
): VlrFeatureState {
  if (msg.sessionId !== state.sessionId)
    throw new VerticalLrSessionError(`message for session ${msg.sessionId}, this is ${state.sessionId}`)
  if (msg.from !== state.label)
    throw new VerticalLrSenderError(
      `${msg.phase} must come from the label party ${state.label}, not ${msg.from}`
    )
  const to = msg.phase
  if (to === 'prepare' || to === 'gradient' || to === 'update') {
    const step = msg.step ?? -1
    if (to === 'gradient' && state.multiFeature && state.phase !== 'prepare')
      throw new VerticalLrReplayError(`gradient of step ${step} before its prepare`)
    const opensStep = to === 'prepare' || (to === 'gradient' && !state.multiFeature)
    const expected = opensStep ? state.step + 1 : state.step
    if (step !== expected)
      throw new VerticalLrReplayError(
        `${to} for step ${step}, expected step ${expected} (replayed or out of order)`
      )
    if (step >= state.totalSteps) throw new VerticalLrReplayError(`step ${step} is past the last step`)
    assertPhase(state.phase, to)
    return { ...state, phase: to, step }
  }
  if (to === 'evaluate' && state.step !== state.totalSteps - 1)
    throw new VerticalLrReplayError(
      `evaluate after step ${state.step}, before the last step ${state.totalSteps - 1}`
    )
  assertPhase(state.phase, to)
  return { ...state, phase: to }
}

function assertPhase(from: VlrFeaturePhase, to: string): void {
  try {
    assertTransition(VLR_FEATURE_TRANSITIONS, from, to)
  } catch {
    throw new VerticalLrReplayError(
      `a '${to}' message is not allowed after '${from}' (replayed or out of order)`
    )
  }
}

/**
 * Checks a `share` from another feature party: a party of the session, for the current or next step.
 *
 * @throws VerticalLrSessionError, VerticalLrSenderError, VerticalLrReplayError
 */
export function acceptShare(
  state: VlrFeatureState,
  msg: { step: number; from: string; sessionId: string },
  featurePeers: readonly string[],
  self: string
): void {
  if (msg.sessionId !== state.sessionId)
    throw new VerticalLrSessionError(`share for session ${msg.sessionId}, this is ${state.sessionId}`)
  if (msg.from === self || !featurePeers.includes(msg.from))
    throw new VerticalLrSenderError(`${msg.from} is not another feature party of this session`)
  if (state.phase === 'idle' || state.phase === 'plan' || state.phase === 'done' || state.phase === 'aborted')
    throw new VerticalLrReplayError(`share in phase ${state.phase}`)
  const current = state.phase === 'prepare' ? state.step : state.step + 1
  if (msg.step !== current)
    throw new VerticalLrReplayError(`share for step ${msg.step}, expected step ${current}`)
}
