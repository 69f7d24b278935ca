import { beforeAll, describe, expect, it } from 'vitest'
import { assertTransition, isTransitionAllowed, PhaseError, phasesOf } from '../../../protocols/machine.ts'
import { secaggAggregatorMachine } from '../../../protocols/secagg/aggregator.ts'
import type { AggregatorInput, AggregatorState } from '../../../protocols/secagg/aggregator.ts'
import type { SecaggReply, SecaggRequest } from '../../../protocols/secagg/messages.ts'
import { secaggParticipantMachine } from '../../../protocols/secagg/participant.ts'
import type { ParticipantState } from '../../../protocols/secagg/participant.ts'
import {
  AGGREGATOR_PHASES,
  AGGREGATOR_TRANSITIONS,
  PARTICIPANT_PHASES,
  PARTICIPANT_TRANSITIONS,
  SECAGG_PHASES
} from '../../../protocols/secagg/phases.ts'
import type { ParticipantPhase, SecaggPhase } from '../../../protocols/secagg/phases.ts'
import type { DirectParty } from '../../../simulations/secagg-direct.ts'
import { makeParties, roundFixture, runUntil } from '../../helpers/secagg-fixture.ts'
import type { RoundFixture } from '../../helpers/secagg-fixture.ts'

const PARTICIPANT_VALID = new Set([
  'init>advertise-keys',
  'advertise-keys>share-keys',
  'share-keys>masked-input',
  'masked-input>consistency-check',
  'consistency-check>unmask',
  'unmask>done',
  'init>aborted',
  'advertise-keys>aborted',
  'share-keys>aborted',
  'masked-input>aborted',
  'consistency-check>aborted'
])

describe('transition tables', () => {
  it('participant: exactly the listed (from, to) pairs pass assertTransition', () => {
    expect(phasesOf(PARTICIPANT_TRANSITIONS).sort()).toEqual([...PARTICIPANT_PHASES].sort())
    for (const from of PARTICIPANT_PHASES) {
      for (const to of PARTICIPANT_PHASES) {
        const valid = PARTICIPANT_VALID.has(`${from}>${to}`)
        expect(isTransitionAllowed(PARTICIPANT_TRANSITIONS, from, to), `${from}>${to}`).toBe(valid)
        if (valid) expect(() => assertTransition(PARTICIPANT_TRANSITIONS, from, to)).not.toThrow()
        else expect(() => assertTransition(PARTICIPANT_TRANSITIONS, from, to)).toThrow(PhaseError)
      }
    }
  })

  it('aggregator: collect self-loops, one forward step, abort from any live phase', () => {
    const valid = new Set<string>(['init>advertise-keys', 'unmask>done', 'init>aborted'])
    SECAGG_PHASES.forEach((p, i) => {
      valid.add(`${p}>${p}`)
      valid.add(`${p}>aborted`)
      if (i + 1 < SECAGG_PHASES.length) valid.add(`${p}>${SECAGG_PHASES[i + 1]}`)
    })
    for (const from of AGGREGATOR_PHASES) {
      for (const to of AGGREGATOR_PHASES) {
        const ok = valid.has(`${from}>${to}`)
        expect(isTransitionAllowed(AGGREGATOR_TRANSITIONS, from, to), `${from}>${to}`).toBe(ok)
        if (!ok) expect(() => assertTransition(AGGREGATOR_TRANSITIONS, from, to)).toThrow(PhaseError)
      }
    }
  })
})

// ---------------------------------------------------------------- machine-level, every pair

const INPUT_PHASES = [...SECAGG_PHASES, 'aborted'] as const
const RESTING: ParticipantPhase[] = [
  'init',
  'advertise-keys',
  'share-keys',
  'masked-input',
  'consistency-check',
  'done',
  'aborted'
]

let parties: DirectParty[]
let recorded: Map<string, SecaggRequest>
let replies: Map<SecaggPhase, SecaggReply>

beforeAll(async () => {
  parties = await makeParties(4)
  // A reference round: one request and one reply of every phase.
  const f = await roundFixture({ n: 4, parties })
  recorded = new Map()
  replies = new Map()
  while (f.phase !== 'done') {
    const phase = f.phase as SecaggPhase
    recorded.set(phase, f.requests.get(f.ids[0]!)!)
    for (const peer of f.requests.keys()) {
      const { reply } = await f.deliver(peer)
      if (peer === f.ids[0]) replies.set(phase, reply)
    }
    f.advance()
  }
  recorded.set('aborted', { v: 1, jobId: 'job-test', round: 1, phase: 'aborted', reason: 'test' })
})

/** A fixture whose party 0 rests in `phase`, with the round advanced to the next phase. */
async function participantAt(phase: ParticipantPhase): Promise<{ f: RoundFixture; state: ParticipantState }> {
  const f = await roundFixture({ n: 4, parties })
  const p0 = f.ids[0]!
  const until: Record<string, SecaggPhase | 'done'> = {
    'advertise-keys': 'share-keys',
    'share-keys': 'masked-input',
    'masked-input': 'consistency-check',
    'consistency-check': 'unmask'
  }
  if (phase === 'init') return { f, state: f.states.get(p0)! }
  if (phase === 'aborted') {
    await f.deliver(p0)
    await f.deliver(p0, { v: 1, jobId: 'job-test', round: 1, phase: 'aborted', reason: 'test' })
    return { f, state: f.states.get(p0)! }
  }
  if (phase === 'done') {
    await runUntil(f, 'unmask')
    await f.deliverAll()
    return { f, state: f.states.get(p0)! }
  }
  await runUntil(f, until[phase]!)
  return { f, state: f.states.get(p0)! }
}

describe('participant machine: every (state, input) pair', () => {
  for (const from of RESTING) {
    for (const to of INPUT_PHASES) {
      const valid = PARTICIPANT_VALID.has(`${from}>${to}`)
      it(`${from} + ${to} ${valid ? 'is accepted' : 'raises PhaseError'}`, async () => {
        const { f, state } = await participantAt(from)
        expect(state.phase).toBe(from)
        const p0 = f.ids[0]!
        if (valid) {
          const request =
            to === 'aborted'
              ? ({ v: 1, jobId: 'job-test', round: 1, phase: 'aborted', reason: 'test' } as const)
              : f.requests.get(p0)!
          expect(request.phase).toBe(to)
          const r = secaggParticipantMachine.step(state, f.inputFor(p0, request))
          expect(r.state.phase).toBe(to === 'unmask' ? 'done' : to)
        } else {
          const request = recorded.get(to)!
          expect(() => secaggParticipantMachine.step(state, f.inputFor(p0, request))).toThrow(PhaseError)
        }
      })
    }
  }
})

describe('aggregator machine: every (state, input) pair', () => {
  const RESTING_AGG = ['init', ...SECAGG_PHASES, 'done', 'aborted'] as const

  async function aggregatorAt(phase: (typeof RESTING_AGG)[number]): Promise<AggregatorState> {
    const f = await roundFixture({ n: 4, parties })
    if (phase === 'init') {
      return secaggAggregatorMachine.init({
        jobId: 'job-test',
        round: 1,
        participants: f.ids,
        t: 3,
        k: 3,
        ringBits: 32,
        d: 16,
        graphSeed: new Uint8Array(32)
      })
    }
    if (phase === 'aborted') {
      return secaggAggregatorMachine.step(f.agg, { kind: 'abort', phase: 'aborted', reason: 'test' }).state
    }
    if (phase === 'done') {
      await runUntil(f, 'done')
      return f.agg
    }
    await runUntil(f, phase)
    await f.deliverAll()
    return f.agg
  }

  const inputs: Array<{ label: string; to: string; make: () => AggregatorInput }> = [
    ...[...SECAGG_PHASES, 'done' as const].map((p) => ({
      label: `advance to ${p}`,
      to: p,
      make: (): AggregatorInput => ({ kind: 'advance', phase: p })
    })),
    ...SECAGG_PHASES.map((p) => ({
      label: `reply of ${p}`,
      to: `${p}`,
      make: (): AggregatorInput => ({
        kind: 'reply',
        phase: p,
        from: parties[0]!.peerId,
        reply: replies.get(p)!
      })
    })),
    {
      label: 'abort',
      to: 'aborted',
      make: (): AggregatorInput => ({ kind: 'abort', phase: 'aborted', reason: 'x' })
    }
  ]

  for (const from of RESTING_AGG) {
    for (const input of inputs) {
      const isReply = input.label.startsWith('reply')
      const valid = isReply
        ? input.to === from && from !== 'init'
        : input.to !== from && isTransitionAllowed(AGGREGATOR_TRANSITIONS, from, input.to)
      it(`${from} + ${input.label} ${valid ? 'is accepted' : 'raises PhaseError'}`, async () => {
        const state = await aggregatorAt(from)
        expect(state.phase).toBe(from)
        if (valid) expect(() => secaggAggregatorMachine.step(state, input.make())).not.toThrow()
        else expect(() => secaggAggregatorMachine.step(state, input.make())).toThrow(PhaseError)
      })
    }
  }
})
