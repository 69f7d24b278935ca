/**
 * The PSI party machine, driven directly: the transition table (every other pair throws) and each
 * rule with its own error code.
 */
import { describe, expect, it } from 'vitest'
import { PSI_V2_LABEL } from '../../../crypto/psi/hash-to-curve.ts'
import { assertTransition, isTransitionAllowed, PhaseError, phasesOf } from '../../../protocols/machine.ts'
import { packPositions } from '../../../protocols/psi/messages.ts'
import type { PsiOpen } from '../../../protocols/psi/messages.ts'
import { psiPartyMachine } from '../../../protocols/psi/party.ts'
import { PSI_PHASES, PSI_TRANSITIONS } from '../../../protocols/psi/party-state.ts'
import type { PsiLocalParams, PsiPartyState } from '../../../protocols/psi/party-state.ts'
import { psiSaltCommitment } from '../../../protocols/psi/plan.ts'

const WORKING = ['start', 'batch', 'result', 'unshuffle']
const VALID = new Set([
  'idle>open',
  'open>start',
  ...WORKING.flatMap((f) => ['batch', 'result', 'unshuffle', 'done'].map((t) => `${f}>${t}`)),
  ...['idle', 'open', ...WORKING].map((p) => `${p}>aborted`)
])

describe('PSI transition table', () => {
  it('exactly the listed (from, to) pairs pass', () => {
    expect(phasesOf(PSI_TRANSITIONS).sort()).toEqual([...PSI_PHASES].sort())
    for (const from of PSI_PHASES) {
      for (const to of PSI_PHASES) {
        const valid = VALID.has(`${from}>${to}`)
        expect(isTransitionAllowed(PSI_TRANSITIONS, from, to), `${from}>${to}`).toBe(valid)
        if (!valid) expect(() => assertTransition(PSI_TRANSITIONS, from, to)).toThrow(PhaseError)
      }
    }
  })

  it('a batch before start is refused with a PhaseError', () => {
    const s = psiPartyMachine.init(local('B'))
    expect(() =>
      psiPartyMachine.step(s, {
        phase: 'batch',
        from: 'A',
        request: {
          v: 1,
          sessionId: 'session-x',
          phase: 'batch',
          chain: 0,
          seq: 0,
          points: new Uint8Array(32)
        }
      })
    ).toThrow(PhaseError)
  })
})

const SALT = new Uint8Array(32).fill(9)
const MEMBERS = new Set(['A', 'B', 'C'])
function local(self: string, over: Partial<PsiLocalParams> = {}): PsiLocalParams {
  return {
    self,
    members: MEMBERS,
    salt: SALT,
    setSize: 10,
    othersMayLearn: 'intersection',
    maxSetSize: 1000,
    ...over
  }
}
function open(over: Partial<PsiOpen> = {}): PsiOpen {
  const sessionId = over.sessionId ?? 'session-1'
  return {
    v: 1,
    sessionId,
    phase: 'open',
    jobId: 'job-1',
    parties: ['A', 'B', 'C'],
    reveal: ['intersection', 'intersection', 'size'],
    saltCommitment: psiSaltCommitment(sessionId, 'job-1', SALT),
    suite: PSI_V2_LABEL,
    normalisation: 'nfkc-casefold-trim',
    batchPoints: 4,
    ...over
  }
}
function started(self: string, sizes = [10, 10, 10], over: Partial<PsiLocalParams> = {}): PsiPartyState {
  let s = psiPartyMachine.init(local(self, over))
  s = psiPartyMachine.step(s, { phase: 'open', from: 'A', request: open() }).state
  return psiPartyMachine.step(s, {
    phase: 'start',
    from: 'A',
    request: { v: 1, sessionId: 'session-1', phase: 'start', sizes }
  }).state
}
const code = (c: string) => expect.objectContaining({ code: c })
const batch = (chain: number, seq: number, points: number) => ({
  v: 1 as const,
  sessionId: 'session-1',
  phase: 'batch' as const,
  chain,
  seq,
  points: new Uint8Array(points * 32)
})

describe('PSI party rules', () => {
  it('open: accepted from the leader; set size answered; audit names role and disclosed size', () => {
    const out = psiPartyMachine.step(psiPartyMachine.init(local('B')), {
      phase: 'open',
      from: 'A',
      request: open()
    }).output
    expect(out.setSize).toBe(10)
    expect(out.audit[0]!.body).toMatchObject({
      role: 'party',
      setSizeDisclosed: 10,
      reveal: ['intersection', 'intersection', 'size']
    })
  })

  it('open: refused from a non-leader, with a non-member party, without us, or with another salt', () => {
    const s = () => psiPartyMachine.init(local('B'))
    expect(() => psiPartyMachine.step(s(), { phase: 'open', from: 'C', request: open() })).toThrow(
      code('COHORT_PSI_NOT_MEMBER')
    )
    expect(() =>
      psiPartyMachine.step(s(), { phase: 'open', from: 'A', request: open({ parties: ['A', 'B', 'X'] }) })
    ).toThrow(code('COHORT_PSI_NOT_MEMBER'))
    expect(() =>
      psiPartyMachine.step(psiPartyMachine.init(local('Z')), { phase: 'open', from: 'A', request: open() })
    ).toThrow(code('COHORT_PSI_NOT_MEMBER'))
    const other = psiSaltCommitment('session-1', 'job-1', new Uint8Array(32).fill(1))
    expect(() =>
      psiPartyMachine.step(s(), { phase: 'open', from: 'A', request: open({ saltCommitment: other }) })
    ).toThrow(code('COHORT_PSI_SALT_MISMATCH'))
    // A commitment of our salt for ANOTHER session does not pass either (no replay across sessions).
    const replayed = psiSaltCommitment('session-0', 'job-1', SALT)
    expect(() =>
      psiPartyMachine.step(s(), { phase: 'open', from: 'A', request: open({ saltCommitment: replayed }) })
    ).toThrow(code('COHORT_PSI_SALT_MISMATCH'))
  })

  it('open: a size-only policy refuses plans where another party learns the intersection', () => {
    const strict = psiPartyMachine.init(local('C', { othersMayLearn: 'size' }))
    expect(() => psiPartyMachine.step(strict, { phase: 'open', from: 'A', request: open() })).toThrow(
      code('COHORT_PSI_POLICY')
    )
    const ok = psiPartyMachine.init(local('C', { othersMayLearn: 'size' }))
    const plan = open({ reveal: ['size', 'size', 'intersection'] })
    expect(psiPartyMachine.step(ok, { phase: 'open', from: 'A', request: plan }).output.setSize).toBe(10)
  })

  it('start: sizes must include ours and respect our cap', () => {
    const s = () =>
      psiPartyMachine.step(psiPartyMachine.init(local('B')), { phase: 'open', from: 'A', request: open() })
        .state
    const start = (sizes: number[]) => ({
      v: 1 as const,
      sessionId: 'session-1',
      phase: 'start' as const,
      sizes
    })
    expect(() =>
      psiPartyMachine.step(s(), { phase: 'start', from: 'A', request: start([10, 11, 10]) })
    ).toThrow(code('COHORT_PSI_POLICY'))
    expect(() =>
      psiPartyMachine.step(s(), { phase: 'start', from: 'A', request: start([10, 10, 5000]) })
    ).toThrow(code('COHORT_PSI_POLICY'))
    expect(
      psiPartyMachine.step(s(), { phase: 'start', from: 'A', request: start([10, 10, 10]) }).output.produceTo
    ).toBe('C')
  })

  it('batches: only from the previous hop, in sequence, with the exact point count', () => {
    // B (index 1 of 3) receives chain 0 from A and chain 2 from C; it relays both.
    let s = started('B')
    expect(() => psiPartyMachine.step(s, { phase: 'batch', from: 'C', request: batch(0, 0, 4) })).toThrow(
      code('COHORT_PSI_NOT_MEMBER')
    )
    s = started('B')
    expect(() => psiPartyMachine.step(s, { phase: 'batch', from: 'A', request: batch(0, 1, 4) })).toThrow(
      code('COHORT_PSI_BAD_BATCH')
    )
    s = started('B')
    expect(() => psiPartyMachine.step(s, { phase: 'batch', from: 'A', request: batch(0, 0, 3) })).toThrow(
      code('COHORT_PSI_BAD_BATCH')
    )
    s = started('B')
    expect(() => psiPartyMachine.step(s, { phase: 'batch', from: 'A', request: batch(1, 0, 4) })).toThrow(
      code('COHORT_PSI_BAD_BATCH')
    )
    s = started('B')
    const seqs = [4, 4, 2].map(
      (count, seq) =>
        psiPartyMachine.step(s, { phase: 'batch', from: 'A', request: batch(0, seq, count) }).output.batch!
    )
    expect(seqs.map((b) => b.kind)).toEqual(['relay', 'relay', 'relay'])
    expect(seqs[2]!.complete).toBe(true)
    // A fourth batch would exceed the declared size of 10.
    expect(() => psiPartyMachine.step(s, { phase: 'batch', from: 'A', request: batch(0, 3, 1) })).toThrow(
      code('COHORT_PSI_BAD_BATCH')
    )
  })

  it('the shuffler buffers the leader chain; the leader keeps chains and takes its own home', () => {
    const c = started('C')
    expect(
      psiPartyMachine.step(c, { phase: 'batch', from: 'B', request: batch(0, 0, 4) }).output.batch!.kind
    ).toBe('shuffle')
    const a = started('A')
    expect(
      psiPartyMachine.step(a, { phase: 'batch', from: 'C', request: batch(0, 0, 4) }).output.batch!.kind
    ).toBe('home')
    expect(
      psiPartyMachine.step(a, { phase: 'batch', from: 'C', request: batch(1, 0, 4) }).output.batch!.kind
    ).toBe('final')
  })

  it('results: refused to a size-only party; positions must be in range', () => {
    const positions = packPositions(Uint32Array.of(1, 2))
    const c = started('C') // reveal[2] = size
    expect(() =>
      psiPartyMachine.step(c, {
        phase: 'result',
        from: 'A',
        request: { v: 1, sessionId: 'session-1', phase: 'result', offset: 0, positions }
      })
    ).toThrow(code('COHORT_PSI_POLICY'))
    const b = started('B')
    expect(() =>
      psiPartyMachine.step(b, {
        phase: 'result',
        from: 'A',
        request: {
          v: 1,
          sessionId: 'session-1',
          phase: 'result',
          offset: 0,
          positions: packPositions(Uint32Array.of(10))
        }
      })
    ).toThrow(code('COHORT_PSI_POLICY'))
  })

  it('unshuffle: only at the shuffler, once the leader set is complete, each position once; counts checked at done', () => {
    const c = started('C', [10, 10, 10])
    const un = (offset: number, values: number[]) => ({
      v: 1 as const,
      sessionId: 'session-1',
      phase: 'unshuffle' as const,
      offset,
      positions: packPositions(Uint32Array.from(values))
    })
    expect(() => psiPartyMachine.step(c, { phase: 'unshuffle', from: 'A', request: un(0, [1]) })).toThrow(
      code('COHORT_PSI_POLICY')
    )
    for (const [seq, n] of [4, 4, 2].entries())
      psiPartyMachine.step(c, { phase: 'batch', from: 'B', request: batch(0, seq, n) })
    // Chain 1 (route B -> C -> A) passes C too.
    for (const [seq, n] of [4, 4, 2].entries())
      psiPartyMachine.step(c, { phase: 'batch', from: 'B', request: batch(1, seq, n) })
    expect(
      psiPartyMachine.step(c, { phase: 'unshuffle', from: 'A', request: un(0, [3, 5]) }).output.positions!
        .values
    ).toEqual(Uint32Array.of(3, 5))
    expect(() => psiPartyMachine.step(c, { phase: 'unshuffle', from: 'A', request: un(2, [5]) })).toThrow(
      code('COHORT_PSI_POLICY')
    )
    // The leader announced 1 common id but had 2 positions unshuffled: a deviation, refused.
    expect(() =>
      psiPartyMachine.step(c, {
        phase: 'done',
        from: 'A',
        request: { v: 1, sessionId: 'session-1', phase: 'done', intersectionSize: 1 }
      })
    ).toThrow(code('COHORT_PSI_POLICY'))
  })
})
