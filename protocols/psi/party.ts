/**
 * The PSI party machine (one per party per session): validates every message against the plan and
 * the party's own policy, and tells the runner what to do with it. Pure: no I/O, no curve work (the
 * runner blinds in its worker pool and moves bytes), no ids (it only ever sees sizes and positions).
 *
 * Rules enforced here, each with its own error code:
 * - `open` comes from parties[0] (the leader); every party is a federation member with role `node`
 *   and this node is one of them (COHORT_PSI_NOT_MEMBER); the salt commitment equals the one derived
 *   from our own salt (COHORT_PSI_SALT_MISMATCH); no other party learns more than our policy allows,
 *   sizes are within our cap, the suite and normalisation are known (COHORT_PSI_POLICY);
 * - `start`, `result`, `unshuffle`, `done` come from the leader; `batch` from the previous hop of its
 *   chain, in sequence, with exactly the number of points the declared set size implies
 *   (COHORT_PSI_BAD_BATCH);
 * - positions are in range and, at the shuffler, each is unshuffled at most once; at `done` the
 *   number of positions received (or unshuffled) must equal the announced intersection size, so a
 *   leader asking the shuffler for more rows than the intersection is caught (COHORT_PSI_POLICY).
 */
import type { Machine } from '../machine.ts'
import { assertTransition } from '../machine.ts'
import { PROTOCOLS } from '../ids.ts'
import { PsiBatchError, PsiNotMemberError, PsiPolicyError, PsiSaltMismatchError } from './errors.ts'
import { unpackPositions } from './messages.ts'
import type { PsiBatch, PsiDone, PsiOpen, PsiResult, PsiStart, PsiUnshuffle } from './messages.ts'
import type { PsiPlan } from './plan.ts'
import { PSI_TRANSITIONS } from './party-state.ts'
import type {
  PsiBatchAction,
  PsiLocalParams,
  PsiPartyInput,
  PsiPartyOutput,
  PsiPartyState
} from './party-state.ts'

import {
  assertPlanShape,
  batchCount,
  chainRoute,
  incomingChains,
  nextHop,
  previousHop,
  psiSaltCommitment
} from './plan.ts'

function leaderOf(plan: PsiPlan): string {
  return plan.parties[0]!
}

function fromLeader(state: PsiPartyState, from: string, what: string): PsiPlan {
  const plan = state.plan!
  if (from !== leaderOf(plan))
    throw new PsiNotMemberError(`${what} must come from the leader ${leaderOf(plan)}, not ${from}`)
  return plan
}

function stepOpen(state: PsiPartyState, from: string, req: PsiOpen): PsiPartyOutput {
  const { local } = state
  const plan: PsiPlan = {
    sessionId: req.sessionId,
    jobId: req.jobId,
    parties: req.parties,
    reveal: req.reveal,
    saltCommitment: req.saltCommitment,
    suite: req.suite,
    normalisation: req.normalisation,
    batchPoints: req.batchPoints
  }
  assertPlanShape(plan)
  if (from !== plan.parties[0])
    throw new PsiNotMemberError(`open must come from the leader ${plan.parties[0]}, not ${from}`)
  const selfIndex = plan.parties.indexOf(local.self)
  if (selfIndex < 0)
    throw new PsiNotMemberError(`${local.self} is not a party of PSI session ${plan.sessionId}`)
  for (const p of plan.parties) {
    if (!local.members.has(p)) throw new PsiNotMemberError(`${p} is not a federation member with role node`)
  }
  const expected = psiSaltCommitment(plan.sessionId, plan.jobId, local.salt)
  let diff = 0
  for (let i = 0; i < 32; i++) diff |= expected[i]! ^ plan.saltCommitment[i]!
  if (diff !== 0) throw new PsiSaltMismatchError()
  if (local.othersMayLearn === 'size') {
    const j = plan.reveal.findIndex((r, i) => i !== selfIndex && r === 'intersection')
    if (j >= 0) {
      throw new PsiPolicyError(
        `party ${plan.parties[j]} would learn the intersection; our policy allows sizes only`
      )
    }
  }
  if (local.setSize > local.maxSetSize)
    throw new PsiPolicyError(`our set of ${local.setSize} exceeds our cap`)
  state.plan = plan
  state.selfIndex = selfIndex
  return {
    setSize: local.setSize,
    audit: [
      {
        kind: 'psi-open',
        body: {
          sessionId: plan.sessionId,
          jobId: plan.jobId,
          leader: plan.parties[0],
          parties: [...plan.parties],
          reveal: [...plan.reveal],
          role: selfIndex === 0 ? 'leader' : selfIndex === plan.parties.length - 1 ? 'shuffler' : 'party',
          setSizeDisclosed: local.setSize,
          suite: plan.suite,
          normalisation: plan.normalisation
        }
      }
    ]
  }
}

function stepStart(state: PsiPartyState, from: string, req: PsiStart): PsiPartyOutput {
  const plan = fromLeader(state, from, 'start')
  const n = plan.parties.length
  if (req.sizes.length !== n)
    throw new PsiPolicyError(`start lists ${req.sizes.length} sizes for ${n} parties`)
  if (req.sizes[state.selfIndex] !== state.local.setSize) {
    throw new PsiPolicyError('start misstates our own set size')
  }
  for (const s of req.sizes) {
    if (s > state.local.maxSetSize)
      throw new PsiPolicyError(`a party's set of ${s} exceeds our cap ${state.local.maxSetSize}`)
  }
  state.sizes = [...req.sizes]
  for (const c of incomingChains(n, state.selfIndex)) {
    const prev = previousHop(n, c, state.selfIndex)!
    state.chains.set(c, { from: plan.parties[prev]!, total: req.sizes[c]!, nextSeq: 0, received: 0 })
  }
  if (state.selfIndex === n - 1 && plan.reveal[0] === 'intersection') {
    state.unshuffleSeen = new Uint8Array(req.sizes[0]!)
  }
  const route = chainRoute(n, state.selfIndex)
  return {
    produceTo: plan.parties[route[1]!]!,
    audit: [{ kind: 'psi-start', body: { sessionId: plan.sessionId, sizes: [...req.sizes] } }]
  }
}

function allComplete(state: PsiPartyState): boolean {
  for (const c of state.chains.values()) if (c.received < c.total) return false
  return true
}

function stepBatch(state: PsiPartyState, from: string, req: PsiBatch): PsiPartyOutput {
  const plan = state.plan!
  const n = plan.parties.length
  const chain = state.chains.get(req.chain)
  if (chain === undefined) throw new PsiBatchError(`chain ${req.chain} does not pass through this party`)
  if (from !== chain.from)
    throw new PsiNotMemberError(`batches of chain ${req.chain} must come from ${chain.from}, not ${from}`)
  if (req.seq !== chain.nextSeq)
    throw new PsiBatchError(`chain ${req.chain}: expected batch ${chain.nextSeq}, got ${req.seq}`)
  const count = req.points.length / 32
  const expected = batchCount(chain.total, plan.batchPoints, req.seq)
  if (expected === 0 || count !== expected) {
    throw new PsiBatchError(`chain ${req.chain} batch ${req.seq} holds ${count} points, expected ${expected}`)
  }
  const offset = chain.received
  chain.nextSeq++
  chain.received += count
  const complete = chain.received === chain.total
  const self = state.selfIndex
  let action: PsiBatchAction
  if (self === 0 && req.chain === 0) action = { kind: 'home', chain: 0, offset }
  else if (self === 0) action = { kind: 'final', chain: req.chain, offset }
  else if (req.chain === 0 && self === n - 1) action = { kind: 'shuffle', chain: 0, offset }
  else
    action = {
      kind: 'relay',
      chain: req.chain,
      seq: req.seq,
      to: plan.parties[nextHop(n, req.chain, self)!]!
    }
  return { audit: [], batch: { ...action, complete, allComplete: allComplete(state) } }
}

function checkPositions(bytes: Uint8Array, bound: number, what: string): Uint32Array {
  const values = unpackPositions(bytes)
  for (const v of values) if (v >= bound) throw new PsiPolicyError(`${what} position ${v} is out of range`)
  return values
}

function stepResult(state: PsiPartyState, from: string, req: PsiResult): PsiPartyOutput {
  const plan = fromLeader(state, from, 'result')
  if (plan.reveal[state.selfIndex] !== 'intersection' || state.selfIndex === 0) {
    throw new PsiPolicyError('this party learns only the intersection size; positions are refused')
  }
  if (req.offset !== state.positionsReceived)
    throw new PsiBatchError(`result chunk at ${req.offset}, expected ${state.positionsReceived}`)
  const values = checkPositions(req.positions, state.local.setSize, 'result')
  state.positionsReceived += values.length
  return { audit: [], positions: { offset: req.offset, values } }
}

function stepUnshuffle(state: PsiPartyState, from: string, req: PsiUnshuffle): PsiPartyOutput {
  fromLeader(state, from, 'unshuffle')
  const seen = state.unshuffleSeen
  if (seen === undefined)
    throw new PsiPolicyError(
      'only the shuffler unshuffles, and only for a leader that learns the intersection'
    )
  const home = state.chains.get(0)!
  if (home.received < home.total) throw new PsiPolicyError('unshuffle before the leader set was complete')
  if (req.offset !== state.unshuffled)
    throw new PsiBatchError(`unshuffle chunk at ${req.offset}, expected ${state.unshuffled}`)
  const values = checkPositions(req.positions, seen.length, 'unshuffle')
  for (const v of values) {
    if (seen[v] === 1) throw new PsiPolicyError(`the leader asked to unshuffle position ${v} twice`)
    seen[v] = 1
  }
  state.unshuffled += values.length
  return { audit: [], positions: { offset: req.offset, values } }
}

function stepDone(state: PsiPartyState, from: string, req: PsiDone): PsiPartyOutput {
  const plan = fromLeader(state, from, 'done')
  const sizes = state.sizes ?? []
  const size = req.intersectionSize
  if (size > Math.min(...sizes))
    throw new PsiPolicyError(`announced intersection ${size} exceeds the smallest set`)
  for (const c of state.chains.values()) {
    if (c.received !== c.total)
      throw new PsiPolicyError('done before every chain through this party completed')
  }
  const learns = plan.reveal[state.selfIndex]!
  if (state.selfIndex !== 0 && learns === 'intersection' && state.positionsReceived !== size) {
    throw new PsiPolicyError(`received ${state.positionsReceived} positions for an intersection of ${size}`)
  }
  if (state.unshuffleSeen !== undefined && state.unshuffled !== size) {
    throw new PsiPolicyError(
      `the leader unshuffled ${state.unshuffled} positions for an intersection of ${size}`
    )
  }
  state.intersectionSize = size
  return {
    finished: { intersectionSize: size },
    audit: [
      {
        kind: 'psi-done',
        body: {
          sessionId: plan.sessionId,
          jobId: plan.jobId,
          setSizesLearned: [...sizes],
          intersectionSize: size,
          learned: learns,
          unshuffledForLeader: state.unshuffleSeen === undefined ? null : state.unshuffled
        }
      }
    ]
  }
}

/**
 * The PSI party machine.
 *
 * @example
 * let s = psiPartyMachine.init(local)
 * const { state, output } = psiPartyMachine.step(s, { phase: 'open', from, request })
 */
export const psiPartyMachine: Machine<PsiPartyState, PsiPartyInput, PsiPartyOutput> = {
  protocol: PROTOCOLS.psi,
  transitions: PSI_TRANSITIONS,
  init(params: unknown): PsiPartyState {
    const local = params as PsiLocalParams
    if (
      typeof local?.self !== 'string' ||
      !(local.salt instanceof Uint8Array) ||
      !(local.members instanceof Set)
    ) {
      throw new PsiPolicyError('PSI party needs { self, members, salt, setSize, othersMayLearn, maxSetSize }')
    }
    return { phase: 'idle', local, selfIndex: -1, chains: new Map(), positionsReceived: 0, unshuffled: 0 }
  },
  step(state, input) {
    assertTransition(PSI_TRANSITIONS, state.phase, input.phase)
    if (
      input.phase !== 'open' &&
      input.phase !== 'aborted' &&
      input.request.sessionId !== state.plan?.sessionId
    ) {
      throw new PsiBatchError('message for another session')
    }
    let output: PsiPartyOutput
    switch (input.phase) {
      case 'open':
        output = stepOpen(state, input.from, input.request)
        break
      case 'start':
        output = stepStart(state, input.from, input.request)
        break
      case 'batch':
        output = stepBatch(state, input.from, input.request)
        break
      case 'result':
        output = stepResult(state, input.from, input.request)
        break
      case 'unshuffle':
        output = stepUnshuffle(state, input.from, input.request)
        break
      case 'done':
        output = stepDone(state, input.from, input.request)
        break
      case 'aborted': {
        const plan = state.plan
        if (plan !== undefined && !plan.parties.includes(input.from) && input.from !== state.local.self) {
          throw new PsiNotMemberError(`${input.from} may not abort PSI session ${plan.sessionId}`)
        }
        output = {
          audit: [
            {
              kind: 'psi-aborted',
              body: {
                sessionId: input.request.sessionId,
                by: input.from,
                code: input.request.code,
                reason: input.request.reason.slice(0, 300)
              }
            }
          ]
        }
        break
      }
    }
    // Batches keep the phase 'batch'; every other message moves to its own phase.
    state.phase = input.phase
    return { state, output }
  }
}
