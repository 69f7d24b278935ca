/**
 * A member's session as a pure machine: checks every request's sender, phase, sequence and shape
 * against the plan and tells the runner (./member.ts) what to compute. No I/O, no HE; `step` never
 * changes the state it is given, so a request the runner fails to carry out leaves the session
 * where it was.
 *
 *   idle --plan--> plan --distances(0, train)--> distances --...--> update --distances(t+1)--> ...
 *   ... update --distances(t+1, all)--> distances --finish--> finish      (any but finish --abort--> aborted)
 *
 * Rules, each with its error code:
 * - `plan` comes from the lead (role 'label', else parties[0]) and matches this party's own view:
 *   the same parties in the same order, its own row count, well-formed training flags with at least
 *   k training rows (COHORT_VKMEANS_NOT_PARTY / COHORT_VKMEANS_PLAN);
 * - chain messages come from this party's previous hop (COHORT_VKMEANS_NOT_PARTY);
 * - `distances` batches of an iteration arrive in order; iteration t+1 follows the update of t;
 *   candidates only ever shrink; `train` rounds stop at maxIterations; a replayed or skipped
 *   message is refused (COHORT_VKMEANS_SEQUENCE); lengths and batch counts follow the layout of
 *   ./plan.ts (COHORT_VKMEANS_PLAN);
 * - `update` / `finish` follow a complete `train` / `all` round of the same iteration, list the same
 *   candidates, and carry one assignment in [0, k) per row (COHORT_VKMEANS_PLAN);
 * - phases outside the table: PhaseError (COHORT_PHASE_ERROR).
 */
import { PROTOCOLS } from '../../ids.ts'
import type { Machine, TransitionTable } from '../../machine.ts'
import { assertTransition } from '../../machine.ts'
import type { VerticalParty } from '../types.ts'
import {
  VerticalKMeansNotPartyError,
  VerticalKMeansPlanError,
  VerticalKMeansSequenceError
} from './errors.ts'
import type { VkmAbort, VkmDistances, VkmFinish, VkmPlan, VkmRequest, VkmUpdate } from './messages.ts'
import { batchCount, batchRange, chainOf, leadOf, trainIndices } from './plan.ts'

/**
 * Every phase of a member's session.
 * @example
 * for (const p of VKM_MEMBER_PHASES) isTransitionAllowed(VKM_MEMBER_TRANSITIONS, 'idle', p)
 */
export const VKM_MEMBER_PHASES = ['idle', 'plan', 'distances', 'update', 'finish', 'aborted'] as const
/** A phase of a member's session. @example const phase: VkmMemberPhase = state.phase */
export type VkmMemberPhase = (typeof VKM_MEMBER_PHASES)[number]

/**
 * (phase of the last message, phase of the incoming one).
 * @example
 * assertTransition(VKM_MEMBER_TRANSITIONS, 'update', 'distances')
 */
export const VKM_MEMBER_TRANSITIONS: TransitionTable = [
  ['idle', 'plan'],
  ['plan', 'distances'],
  ['distances', 'distances'],
  ['distances', 'update'],
  ['update', 'distances'],
  ['distances', 'finish'],
  ...(['idle', 'plan', 'distances', 'update'] as const).map((p) => [p, 'aborted'] as const)
]

/**
 * What the member brings: itself, the parties as its job configuration lists them, its row count
 * and the CKKS slot count.
 * @example
 * vkmMemberMachine.init({ self, parties, rows: slice.rows, slots: 4096 } satisfies VkmMemberParams)
 */
export interface VkmMemberParams {
  self: string
  parties: readonly VerticalParty[]
  rows: number
  slots: number
}

/** The session plan as the member holds it. @example state.plan?.k */
export interface VkmMemberPlan {
  k: number
  nInit: number
  maxIterations: number
  seed: string
  train: Uint8Array
  trainIdx: Int32Array
  dp: VkmPlan['dp']
  publicKey: Uint8Array
}

/**
 * A member's session state (immutable: `step` returns a new object).
 * @example
 * let state: VkmMemberState = vkmMemberMachine.init(params)
 */
export interface VkmMemberState {
  readonly phase: VkmMemberPhase
  readonly params: VkmMemberParams
  readonly lead: string
  /** Previous and next hop; next is null at the last member. */
  readonly prev: string
  readonly next: string | null
  /** Members after this one (request deadlines scale with it). */
  readonly downstream: number
  readonly plan?: VkmMemberPlan
  readonly iteration: number
  readonly scope: 'train' | 'all'
  readonly candidates: readonly number[]
  readonly batch: number
  readonly batches: number
}

/**
 * One input: a decoded request and its transport-authenticated sender.
 * @example
 * vkmMemberMachine.step(state, { from, request })
 */
export interface VkmMemberInput {
  phase: VkmMemberPhase
  from: string
  request: VkmRequest
}

/**
 * What the runner must do.
 * @example
 * if (out.kind === 'distances' && out.batch === 0) recomputeOwnDistances()
 */
export type VkmMemberAction =
  | { kind: 'plan'; plan: VkmMemberPlan }
  | {
      kind: 'distances'
      iteration: number
      scope: 'train' | 'all'
      candidates: readonly number[]
      batch: number
      from: number
      to: number
      /** Values of the whole round (all batches). */
      length: number
    }
  | { kind: 'update'; iteration: number; candidates: readonly number[]; assignments: Uint8Array }
  | { kind: 'finish'; iteration: number; candidate: number; assignments: Uint8Array; sizes: number[] }
  | { kind: 'abort'; code: string; reason: string }

/**
 * Phase of a request as the machine names it.
 * @example
 * vkmPhaseOf(req) // 'aborted' for an abort
 */
export function vkmPhaseOf(request: VkmRequest): VkmMemberPhase {
  return request.phase === 'abort' ? 'aborted' : request.phase
}

function roundLength(plan: VkmMemberPlan, rows: number, scope: 'train' | 'all', candidates: number): number {
  return (scope === 'train' ? candidates * plan.trainIdx.length : rows) * (plan.k - 1)
}

function checkAssignments(bytes: Uint8Array, length: number, k: number, what: string): void {
  if (bytes.length !== length)
    throw new VerticalKMeansPlanError(`${what} holds ${bytes.length} assignments, expected ${length}`)
  for (const a of bytes)
    if (a >= k) throw new VerticalKMeansPlanError(`${what} names cluster ${a} >= k = ${k}`)
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

function stepPlan(s: VkmMemberState, from: string, req: VkmPlan): [VkmMemberState, VkmMemberAction] {
  const { params } = s
  if (from !== s.lead || req.lead !== s.lead)
    throw new VerticalKMeansNotPartyError(`the plan must come from the lead ${s.lead}, not ${from}`)
  const mine = params.parties
  if (
    req.parties.length !== mine.length ||
    req.parties.some((p, i) => p.peer !== mine[i]!.peer || p.role !== mine[i]!.role)
  ) {
    throw new VerticalKMeansPlanError('the plan lists other parties (or another order) than this party knows')
  }
  const chain = chainOf(mine).map((p) => p.peer)
  if (!sameList(req.chain, chain)) throw new VerticalKMeansPlanError('the plan names another chain order')
  if (req.rows !== params.rows || req.train.length !== params.rows)
    throw new VerticalKMeansPlanError(`the plan has ${req.rows} rows, this party holds ${params.rows}`)
  for (const f of req.train) if (f > 1) throw new VerticalKMeansPlanError('training flags must be 0 or 1')
  const trainIdx = trainIndices(req.train)
  if (trainIdx.length < req.k)
    throw new VerticalKMeansPlanError(`${trainIdx.length} training rows are fewer than k = ${req.k}`)
  const plan: VkmMemberPlan = {
    k: req.k,
    nInit: req.nInit,
    maxIterations: req.maxIterations,
    seed: req.seed,
    train: req.train,
    trainIdx,
    dp: req.dp,
    publicKey: req.publicKey
  }
  return [
    { ...s, phase: 'plan', plan },
    { kind: 'plan', plan }
  ]
}

function stepDistances(
  s: VkmMemberState,
  from: string,
  req: VkmDistances
): [VkmMemberState, VkmMemberAction] {
  const plan = s.plan!
  const at = `distances ${req.iteration}/${req.batch}`
  const continuing = s.phase === 'distances'
  if (continuing) {
    if (s.batch + 1 >= s.batches)
      throw new VerticalKMeansSequenceError(`${at}: round ${s.iteration} is complete (a replay?)`)
    if (req.iteration !== s.iteration || req.batch !== s.batch + 1)
      throw new VerticalKMeansSequenceError(`expected distances ${s.iteration}/${s.batch + 1}, got ${at}`)
    if (req.scope !== s.scope || req.batches !== s.batches || !sameList(req.candidates, s.candidates))
      throw new VerticalKMeansPlanError(`${at} changes the round's scope, batches or candidates`)
  } else {
    const expected = s.phase === 'plan' ? 0 : s.iteration + 1
    if (req.iteration !== expected || req.batch !== 0)
      throw new VerticalKMeansSequenceError(`expected distances ${expected}/0, got ${at}`)
    if (s.phase === 'plan' && req.scope !== 'train')
      throw new VerticalKMeansSequenceError('the first round must be over the training rows')
    const c = req.candidates
    for (let i = 0; i < c.length; i++) {
      if (c[i]! >= plan.nInit || (i > 0 && c[i]! <= c[i - 1]!))
        throw new VerticalKMeansPlanError(`${at}: candidates must be ascending and below nInit`)
    }
    if (req.scope === 'train') {
      if (req.iteration >= plan.maxIterations)
        throw new VerticalKMeansPlanError(`${at}: beyond maxIterations = ${plan.maxIterations}`)
      if (s.phase === 'update' && c.some((r) => !s.candidates.includes(r)))
        throw new VerticalKMeansPlanError(`${at}: a stopped candidate cannot restart`)
    } else if (c.length !== 1) throw new VerticalKMeansPlanError(`${at}: the final round has one candidate`)
  }
  if (from !== s.prev)
    throw new VerticalKMeansNotPartyError(`distances must come from ${s.prev}, not ${from}`)
  const length = roundLength(plan, s.params.rows, req.scope, req.candidates.length)
  const batches = batchCount(length, s.params.slots)
  if (req.batches !== batches)
    throw new VerticalKMeansPlanError(`${at}: ${req.batches} batches, the layout needs ${batches}`)
  const { from: lo, to: hi } = batchRange(length, s.params.slots, req.batch)
  if (req.vector.length !== hi - lo)
    throw new VerticalKMeansPlanError(`${at}: vector of ${req.vector.length} values, expected ${hi - lo}`)
  const next: VkmMemberState = {
    ...s,
    phase: 'distances',
    iteration: req.iteration,
    scope: req.scope,
    candidates: [...req.candidates],
    batch: req.batch,
    batches
  }
  return [
    next,
    {
      kind: 'distances',
      iteration: req.iteration,
      scope: req.scope,
      candidates: next.candidates,
      batch: req.batch,
      from: lo,
      to: hi,
      length
    }
  ]
}

function roundComplete(s: VkmMemberState, scope: 'train' | 'all', req: { iteration: number }, what: string) {
  if (s.scope !== scope || s.batch + 1 !== s.batches)
    throw new VerticalKMeansSequenceError(
      `${what} before the ${scope} round of iteration ${s.iteration} completed`
    )
  if (req.iteration !== s.iteration)
    throw new VerticalKMeansSequenceError(`${what} ${req.iteration} in iteration ${s.iteration}`)
}

function stepUpdate(s: VkmMemberState, from: string, req: VkmUpdate): [VkmMemberState, VkmMemberAction] {
  roundComplete(s, 'train', req, 'update')
  if (from !== s.prev) throw new VerticalKMeansNotPartyError(`update must come from ${s.prev}, not ${from}`)
  if (!sameList(req.candidates, s.candidates))
    throw new VerticalKMeansPlanError('update lists other candidates than its round')
  const plan = s.plan!
  checkAssignments(req.assignments, s.candidates.length * plan.trainIdx.length, plan.k, 'update')
  if (req.inertia.length !== s.candidates.length)
    throw new VerticalKMeansPlanError('update: one inertia slot per candidate expected')
  return [
    { ...s, phase: 'update' },
    { kind: 'update', iteration: req.iteration, candidates: s.candidates, assignments: req.assignments }
  ]
}

function stepFinish(s: VkmMemberState, from: string, req: VkmFinish): [VkmMemberState, VkmMemberAction] {
  roundComplete(s, 'all', req, 'finish')
  if (from !== s.prev) throw new VerticalKMeansNotPartyError(`finish must come from ${s.prev}, not ${from}`)
  const plan = s.plan!
  if (req.candidate !== s.candidates[0])
    throw new VerticalKMeansPlanError('finish names another candidate than the final round')
  checkAssignments(req.assignments, s.params.rows, plan.k, 'finish')
  if (req.sizes.length !== plan.k) throw new VerticalKMeansPlanError(`finish: ${plan.k} sizes expected`)
  if (req.inertia.length !== 1) throw new VerticalKMeansPlanError('finish: one inertia slot expected')
  return [
    { ...s, phase: 'finish' },
    {
      kind: 'finish',
      iteration: req.iteration,
      candidate: req.candidate,
      assignments: req.assignments,
      sizes: [...req.sizes]
    }
  ]
}

function stepAbort(s: VkmMemberState, from: string, req: VkmAbort): [VkmMemberState, VkmMemberAction] {
  if (!s.params.parties.some((p) => p.peer === from))
    throw new VerticalKMeansNotPartyError(`${from} is not a party of this session`)
  return [
    { ...s, phase: 'aborted' },
    { kind: 'abort', code: req.code, reason: req.reason }
  ]
}

/**
 * The member machine.
 *
 * @example
 * let s = vkmMemberMachine.init({ self, parties, rows, slots: 4096 })
 * const { state, output } = vkmMemberMachine.step(s, { phase: vkmPhaseOf(req), from, request: req })
 */
export const vkmMemberMachine: Machine<VkmMemberState, VkmMemberInput, VkmMemberAction> = {
  protocol: PROTOCOLS.verticalKmeans,
  transitions: VKM_MEMBER_TRANSITIONS,
  init(params: unknown): VkmMemberState {
    const p = params as VkmMemberParams
    const lead = leadOf(p.parties).peer
    const chain = chainOf(p.parties).map((q) => q.peer)
    const at = chain.indexOf(p.self)
    if (at < 0) throw new VerticalKMeansNotPartyError(`${p.self} is not a member of this session`)
    return {
      phase: 'idle',
      params: p,
      lead,
      prev: at === 0 ? lead : chain[at - 1]!,
      next: at === chain.length - 1 ? null : chain[at + 1]!,
      downstream: chain.length - 1 - at,
      iteration: 0,
      scope: 'train',
      candidates: [],
      batch: 0,
      batches: 0
    }
  },
  step(state: VkmMemberState, input: VkmMemberInput) {
    const req = input.request
    const phase = vkmPhaseOf(req)
    if (input.phase !== phase) throw new VerticalKMeansPlanError('input phase does not match the request')
    assertTransition(VKM_MEMBER_TRANSITIONS, state.phase, phase)
    let out: [VkmMemberState, VkmMemberAction]
    switch (req.phase) {
      case 'plan':
        out = stepPlan(state, input.from, req)
        break
      case 'distances':
        out = stepDistances(state, input.from, req)
        break
      case 'update':
        out = stepUpdate(state, input.from, req)
        break
      case 'finish':
        out = stepFinish(state, input.from, req)
        break
      case 'abort':
        out = stepAbort(state, input.from, req)
        break
    }
    return { state: out[0], output: out[1] }
  }
}
