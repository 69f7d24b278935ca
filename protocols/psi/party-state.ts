/**
 * Phases, transitions, state, input and output types of the PSI party machine (party.ts), split
 * from it so the machine file holds the rules only.
 */
import type { TransitionTable } from '../machine.ts'
import type { PsiAbort, PsiBatch, PsiDone, PsiOpen, PsiResult, PsiStart, PsiUnshuffle } from './messages.ts'
import type { PsiPlan, PsiReveal } from './plan.ts'

/**
 * Every phase of a party's state (the phase of the last message handled).
 * @example
 * for (const from of PSI_PHASES) for (const to of PSI_PHASES) isTransitionAllowed(PSI_TRANSITIONS, from, to)
 */
export const PSI_PHASES = [
  'idle',
  'open',
  'start',
  'batch',
  'result',
  'unshuffle',
  'done',
  'aborted'
] as const
/**
 * A phase of a party's state.
 * @example
 * const phase: PsiPhase = state.phase
 */
export type PsiPhase = (typeof PSI_PHASES)[number]

const WORKING = ['start', 'batch', 'result', 'unshuffle'] as const

/**
 * (phase of the last message, phase of the incoming one). Batches, result chunks and unshuffle
 * requests interleave freely once the exchange has started; any non-terminal phase may abort.
 * @example
 * assertTransition(PSI_TRANSITIONS, state.phase, input.phase)
 */
export const PSI_TRANSITIONS: TransitionTable = [
  ['idle', 'open'],
  ['open', 'start'],
  ...WORKING.flatMap((from) =>
    (['batch', 'result', 'unshuffle', 'done'] as const).map((to) => [from, to] as const)
  ),
  ...(['idle', 'open', ...WORKING] as const).map((p) => [p, 'aborted'] as const)
]

/**
 * What this party brings to a session (from its job configuration).
 * @example
 * psiPartyMachine.init({ self, members, salt, setSize, othersMayLearn: 'size', maxSetSize: 1e7 })
 */
export interface PsiLocalParams {
  self: string
  /** Federation members with role `node`. */
  members: ReadonlySet<string>
  salt: Uint8Array
  /** Number of distinct normalised ids this party contributes. */
  setSize: number
  /** The most any OTHER party may learn from a session over our data. */
  othersMayLearn: PsiReveal
  /** Largest set size of any party we accept. */
  maxSetSize: number
}

interface ChainExpect {
  from: string
  total: number
  nextSeq: number
  received: number
}

/**
 * A party's session state.
 * @example
 * let state: PsiPartyState = psiPartyMachine.init(local)
 */
export interface PsiPartyState {
  phase: PsiPhase
  local: PsiLocalParams
  plan?: PsiPlan
  selfIndex: number
  sizes?: number[]
  chains: Map<number, ChainExpect>
  positionsReceived: number
  unshuffled: number
  unshuffleSeen?: Uint8Array
  intersectionSize?: number
}

/**
 * One input: the request and its (transport-authenticated) sender.
 * @example
 * psiPartyMachine.step(state, { phase: 'batch', from, request } satisfies PsiPartyInput)
 */
export type PsiPartyInput =
  | { phase: 'open'; from: string; request: PsiOpen }
  | { phase: 'start'; from: string; request: PsiStart }
  | { phase: 'batch'; from: string; request: PsiBatch }
  | { phase: 'result'; from: string; request: PsiResult }
  | { phase: 'unshuffle'; from: string; request: PsiUnshuffle }
  | { phase: 'done'; from: string; request: PsiDone }
  | { phase: 'aborted'; from: string; request: PsiAbort }

/**
 * What the runner must do with a batch once the machine accepted it.
 * @example
 * if (out.batch?.kind === 'relay') await lane(out.batch.to).push(frame)
 */
export type PsiBatchAction =
  /** Blind with our key and send to `to` as the same chain and seq. */
  | { kind: 'relay'; chain: number; seq: number; to: string }
  /** Blind with our key and keep at `offset` of the final set of `chain` (leader). */
  | { kind: 'final'; chain: number; offset: number }
  /** Keep as is at `offset` of the leader's own final set (leader, from the shuffler). */
  | { kind: 'home'; chain: 0; offset: number }
  /** Blind with our key and buffer at `offset`; when complete, permute and send home (shuffler). */
  | { kind: 'shuffle'; chain: 0; offset: number }

/**
 * The step's output.
 * @example
 * const { audit, batch }: PsiPartyOutput = psiPartyMachine.step(state, input).output
 */
export interface PsiPartyOutput {
  /** Audit records to append before the reply leaves. */
  audit: Array<{ kind: string; body: Record<string, unknown> }>
  /** open: our set size to reply with. */
  setSize?: number
  /** start: where our own chain goes first. */
  produceTo?: string
  batch?: PsiBatchAction & { complete: boolean; allComplete: boolean }
  /** result / unshuffle: the validated positions. */
  positions?: { offset: number; values: Uint32Array }
  /** done: the announced intersection size. */
  finished?: { intersectionSize: number }
}
