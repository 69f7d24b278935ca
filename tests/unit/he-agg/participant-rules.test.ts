/**
 * he-agg machines: transition tables, the node's rules (key announcement, pin, roles, bounds,
 * challenges) and the linear digest the key-holder relies on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bfvAdd, bfvEncryptVector, generateKeys } from '../../../crypto/he/index.ts'
import { assertTransition, isTransitionAllowed, PhaseError, phasesOf } from '../../../protocols/machine.ts'
import {
  AGGREGATOR_PHASES,
  HE_AGG_AGGREGATOR_TRANSITIONS,
  submitRequest
} from '../../../protocols/he-agg/aggregator.ts'
import { DECRYPTOR_PHASES, HE_AGG_DECRYPTOR_TRANSITIONS } from '../../../protocols/he-agg/decryptor.ts'
import { DIGEST_FUNCTIONALS, digestsSumTo, vectorDigest } from '../../../protocols/he-agg/digest.ts'
import { announceKey } from '../../../protocols/he-agg/key-announcement.ts'
import type { HeAggSubmit } from '../../../protocols/he-agg/messages.ts'
import {
  HE_AGG_PARTICIPANT_TRANSITIONS,
  heAggParticipantMachine,
  MAX_CHALLENGES,
  PARTICIPANT_PHASES
} from '../../../protocols/he-agg/participant.ts'
import type { HeWorld } from './fixture.ts'
import { heWorld, ident, participant } from './fixture.ts'

let w: HeWorld
beforeAll(async () => {
  w = await heWorld(2)
}, 60_000)
afterAll(() => {
  w.keys.dispose()
  for (const pk of w.keyCache.values()) pk.dispose()
})
const code = (c: string) => expect.objectContaining({ code: c })

function table(phases: readonly string[], t: typeof HE_AGG_PARTICIPANT_TRANSITIONS, valid: string[]) {
  expect(phasesOf(t).sort()).toEqual([...phases].sort())
  const ok = new Set(valid)
  for (const from of phases) {
    for (const to of phases) {
      expect(isTransitionAllowed(t, from, to), `${from}>${to}`).toBe(ok.has(`${from}>${to}`))
      if (!ok.has(`${from}>${to}`)) expect(() => assertTransition(t, from, to)).toThrow(PhaseError)
    }
  }
}

describe('he-agg transition tables', () => {
  it('participant', () =>
    table(PARTICIPANT_PHASES, HE_AGG_PARTICIPANT_TRANSITIONS, [
      'init>submit',
      'submit>challenge',
      'challenge>challenge',
      'submit>done',
      'challenge>done',
      'init>aborted',
      'submit>aborted',
      'challenge>aborted'
    ]))
  it('decryptor', () =>
    table(DECRYPTOR_PHASES, HE_AGG_DECRYPTOR_TRANSITIONS, ['init>decrypt', 'init>aborted']))
  it('aggregator', () =>
    table(AGGREGATOR_PHASES, HE_AGG_AGGREGATOR_TRANSITIONS, [
      'init>submit',
      'submit>submit',
      'init>challenge',
      'submit>challenge',
      'challenge>digest',
      'digest>digest',
      'challenge>drop',
      'digest>drop',
      'drop>digest',
      'drop>drop',
      'digest>decrypt',
      'decrypt>done',
      ...['init', 'submit', 'challenge', 'digest', 'drop', 'decrypt'].map((p) => `${p}>aborted`)
    ]))
})

function request(over: Partial<HeAggSubmit> = {}): HeAggSubmit {
  return {
    ...submitRequest({
      jobId: 'job-p',
      round: 1,
      context: w.ctx,
      announcement: w.announcement,
      participants: w.nodes.map((n) => n.peerId),
      length: 4,
      maxAbsPerParty: 100,
      minParticipants: 2
    }),
    ...over
  }
}
const submit = (req: HeAggSubmit, values: number[] = [1, -2, 3, 100], min = 2) =>
  heAggParticipantMachine.step(participant(w, w.nodes[0]!.peerId, min), {
    phase: 'submit',
    from: w.coordinator.peerId,
    request: req,
    values
  })

describe('he-agg participant rules', () => {
  it('encrypts and audits the non-collusion statement naming coordinator and key-holder', () => {
    const { output, state } = submit(request())
    expect(output.audit[0]).toMatchObject({
      kind: 'he-agg-input-sent',
      body: {
        keyholder: w.keyholder.peerId,
        assumption: { coordinator: w.coordinator.peerId, keyholder: w.keyholder.peerId }
      }
    })
    expect((output.audit[0]!.body.assumption as { text: string }).text).toMatch(/do not collude/)
    heAggParticipantMachine.step(state, { phase: 'done', from: w.coordinator.peerId })
  })

  it('refuses a key not signed by the key-holder, not pinned, or held by a coordinator', async () => {
    const bad = { ...w.announcement, sig: new Uint8Array(64) }
    expect(() => submit(request({ announcement: bad }))).toThrow(code('COHORT_HE_AGG_KEY'))
    using other = generateKeys(w.ctx)
    const unpinned = await announceKey(w.keyholder, 'key-1', other)
    expect(() => submit(request({ announcement: unpinned }))).toThrow(code('COHORT_HE_AGG_KEY'))
    // The coordinator announcing "its" key (the right fingerprint, signed by itself) is refused on roles.
    const byCoordinator = await announceKey(w.coordinator, 'key-1', w.keys)
    expect(() => submit(request({ announcement: byCoordinator }))).toThrow(code('COHORT_HE_AGG_ROLE'))
    const stranger = await ident()
    const byStranger = await announceKey(stranger, 'key-1', w.keys)
    expect(() => submit(request({ announcement: byStranger }))).toThrow(code('COHORT_HE_AGG_ROLE'))
  })

  it('refuses a minimum below policy, wrong length, out-of-bound values', () => {
    expect(() => submit(request({ minParticipants: 2 }), undefined, 3)).toThrow(
      code('COHORT_HE_AGG_BAD_PARAMS')
    )
    expect(() => submit(request(), [1, 2, 3])).toThrow(code('COHORT_HE_AGG_BAD_PARAMS'))
    expect(() => submit(request(), [1, 2, 3, 101])).toThrow(code('COHORT_HE_AGG_BAD_PARAMS'))
    expect(() => submit(request(), [1, 2, 3, 0.5])).toThrow(code('COHORT_HE_AGG_BAD_PARAMS'))
  })

  it(`answers challenges only from its coordinator, at most ${MAX_CHALLENGES} times`, () => {
    const { state } = submit(request())
    const ch = {
      v: 1 as const,
      jobId: 'job-p',
      round: 1,
      keyId: 'key-1',
      phase: 'challenge' as const,
      seed: new Uint8Array(32)
    }
    expect(() =>
      heAggParticipantMachine.step(state, { phase: 'challenge', from: w.nodes[1]!.peerId, request: ch })
    ).toThrow(code('COHORT_HE_AGG_ROLE'))
    for (let i = 0; i < MAX_CHALLENGES; i++) {
      const out = heAggParticipantMachine.step(state, {
        phase: 'challenge',
        from: w.coordinator.peerId,
        request: ch
      }).output
      expect((out.reply as { digest: number[] }).digest).toHaveLength(
        w.ctx.coeffModuli.length * DIGEST_FUNCTIONALS
      )
    }
    expect(() =>
      heAggParticipantMachine.step(state, { phase: 'challenge', from: w.coordinator.peerId, request: ch })
    ).toThrow(code('COHORT_HE_AGG_BAD_PARAMS'))
    heAggParticipantMachine.step(state, { phase: 'done', from: w.coordinator.peerId })
  })
})

describe('linear digest', () => {
  it('is additive: digest(a) + digest(b) = digest(a + b); another vector or seed differs', () => {
    const seed = crypto.getRandomValues(new Uint8Array(32))
    const len = w.ctx.slotCount + 5 // two chunks
    using a = bfvEncryptVector(
      w.keys.publicKey,
      Array.from({ length: len }, (_, i) => i % 7)
    )
    using b = bfvEncryptVector(
      w.keys.publicKey,
      Array.from({ length: len }, (_, i) => -(i % 5))
    )
    using s = bfvAdd(a, b)
    const da = vectorDigest(a, seed)
    const db = vectorDigest(b, seed)
    expect(da).toHaveLength(2 * w.ctx.coeffModuli.length * DIGEST_FUNCTIONALS)
    expect(digestsSumTo([da, db], vectorDigest(s, seed), w.ctx.coeffModuli)).toBe(true)
    expect(digestsSumTo([da], vectorDigest(s, seed), w.ctx.coeffModuli)).toBe(false)
    expect(digestsSumTo([da, da], vectorDigest(s, seed), w.ctx.coeffModuli)).toBe(false)
    expect(vectorDigest(a, crypto.getRandomValues(new Uint8Array(32)))).not.toEqual(da)
  })
})
