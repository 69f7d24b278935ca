import { beforeAll, describe, expect, it } from 'vitest'
import { ringAddInPlace, ringZeros } from '../../../crypto/ring.ts'
import { secaggAggregatorMachine } from '../../../protocols/secagg/aggregator.ts'
import type { AggregatorOutput } from '../../../protocols/secagg/aggregator.ts'
import { decodeSecaggReply, encodeSecagg } from '../../../protocols/secagg/messages.ts'
import type { MaskedInputRequest, SecaggReply } from '../../../protocols/secagg/messages.ts'
import { areNeighbours } from '../../../protocols/secagg/params.ts'
import { secaggParticipantMachine, withSignature } from '../../../protocols/secagg/participant.ts'
import { bundlePayload } from '../../../protocols/secagg/signatures.ts'
import type { DirectParty } from '../../../simulations/secagg-direct.ts'
import { makeParties, roundFixture, runUntil } from '../../helpers/secagg-fixture.ts'
import type { RoundFixture } from '../../helpers/secagg-fixture.ts'

let parties: DirectParty[]
const signer = (peer: string) => parties.find((p) => p.peerId === peer)!.privateKey
beforeAll(async () => {
  parties = await makeParties(8)
})

/** Steps party `peer` with its current request and hands its reply, possibly altered, to the aggregator. */
async function replyWith(
  f: RoundFixture,
  peer: string,
  alter: (r: SecaggReply) => SecaggReply
): Promise<AggregatorOutput> {
  const r = secaggParticipantMachine.step(f.states.get(peer)!, f.inputFor(peer, f.requests.get(peer)!))
  f.states.set(peer, r.state)
  let reply = r.output.reply
  if (r.output.toSign !== undefined)
    reply = withSignature(
      reply,
      await parties.find((p) => p.peerId === peer)!.privateKey.sign(r.output.toSign)
    )
  const phase = f.phase as 'advertise-keys'
  const step = secaggAggregatorMachine.step(f.agg, {
    kind: 'reply',
    phase,
    from: peer,
    reply: decodeSecaggReply(phase, encodeSecagg(alter(reply)))
  })
  f.agg = step.state
  return step.output
}

function expectSum(f: RoundFixture) {
  if (f.last.kind !== 'result')
    throw new Error(
      `round ended with ${f.last.kind}: ${f.last.kind === 'aborted' ? f.last.error.message : ''}`
    )
  const { sum, survivors } = f.last.result
  const expected = ringZeros(f.params.d, 32)
  for (const s of survivors) ringAddInPlace(expected, f.inputs.get(s)!, 32)
  expect([...sum]).toEqual([...expected])
}

describe('aggregator', () => {
  it('rejects a masked vector of the wrong length and completes without that party', async () => {
    const f = await roundFixture({ n: 8, k: 4, t: 3, parties })
    await runUntil(f, 'masked-input')
    const [bad, ...rest] = [...f.requests.keys()]
    const out = await replyWith(f, bad!, (r) =>
      r.phase === 'masked-input' ? { ...r, y: r.y.subarray(0, r.y.length - 4) } : r
    )
    expect(out.kind).toBe('rejected')
    if (out.kind === 'rejected') expect(out.rejection.code).toBe('COHORT_SECAGG_VECTOR_LENGTH')
    for (const p of rest) await f.deliver(p)
    f.advance()
    await runUntil(f, 'done')
    expectSum(f)
    if (f.last.kind === 'result') {
      expect(f.last.result.survivors).not.toContain(bad)
      expect(f.last.result.rejected.map((r) => r.code)).toEqual(['COHORT_SECAGG_VECTOR_LENGTH'])
    }
  })

  it('rejects a key bundle whose signature does not verify', async () => {
    const f = await roundFixture({ n: 8, k: 4, t: 3, parties })
    const forged = await replyWith(f, f.ids[0]!, (r) =>
      r.phase === 'advertise-keys' ? { ...r, bundle: { ...r.bundle, sig: new Uint8Array(64) } } : r
    )
    expect(forged.kind === 'rejected' && forged.rejection.code).toBe('COHORT_SECAGG_BAD_BUNDLE')
    expect(f.agg.bundles.has(f.ids[0]!)).toBe(false)
  })

  it('rejects a validly signed bundle with a low-order public key', async () => {
    const f = await roundFixture({ n: 8, k: 4, t: 3, parties })
    const peer = f.ids[2]!
    // u = 1 gives an all-zero X25519 output for every clamped scalar (RFC 7748 §6.1).
    const lowOrder = new Uint8Array(32)
    lowOrder[0] = 1
    const sPk = new Uint8Array(32).fill(9)
    const aPk = new Uint8Array(32).fill(7)
    const sig = await signer(peer).sign(bundlePayload('job-test', 1, peer, lowOrder, sPk, aPk))
    const out = await replyWith(f, peer, (r) =>
      r.phase === 'advertise-keys' ? { ...r, bundle: { peer, cPk: lowOrder, sPk, aPk, sig } } : r
    )
    expect(out.kind === 'rejected' && out.rejection.code).toBe('COHORT_SECAGG_BAD_BUNDLE')
  })

  it('relays neither bundle when a member copies another member key', async () => {
    const g = await roundFixture({ n: 8, k: 4, t: 3, parties })
    const [victim, copier] = [g.ids[3]!, g.ids[4]!]
    expect((await replyWith(g, victim, (r) => r)).kind).toBe('accepted')
    const key = g.agg.bundles.get(victim)!.sPk
    // The copier signs the victim's public key as its own: the signature is valid, the key is not unique.
    const r = secaggParticipantMachine.step(
      g.states.get(copier)!,
      g.inputFor(copier, g.requests.get(copier)!)
    )
    if (r.output.reply.phase !== 'advertise-keys') throw new Error('fixture')
    const b = r.output.reply.bundle
    const sig = await signer(copier).sign(bundlePayload('job-test', 1, copier, b.cPk, key, b.aPk))
    const dup = secaggAggregatorMachine.step(g.agg, {
      kind: 'reply',
      phase: 'advertise-keys',
      from: copier,
      reply: { ...r.output.reply, bundle: { ...b, sPk: key, sig } }
    }).output
    expect(dup.kind === 'rejected' && dup.rejection.code).toBe('COHORT_SECAGG_BAD_BUNDLE')
    expect(g.agg.bundles.has(victim)).toBe(false)
    expect(g.agg.bundles.has(copier)).toBe(false)
  })

  it('rejects replies from parties it did not ask, and second replies', async () => {
    const f = await roundFixture({ n: 5, parties: parties.slice(0, 5) })
    const p0 = f.ids[0]!
    await f.deliver(p0)
    const again = secaggAggregatorMachine.step(f.agg, {
      kind: 'reply',
      phase: 'advertise-keys',
      from: p0,
      reply: { v: 1, jobId: 'job-test', round: 1, phase: 'advertise-keys', bundle: f.agg.bundles.get(p0)! }
    })
    expect(again.output.kind === 'rejected' && again.output.rejection.code).toBe('COHORT_SECAGG_BAD_REPLY')
  })

  it('aborts below t at any advance and names the parties to notify', async () => {
    const f = await roundFixture({ n: 5, parties: parties.slice(0, 5) })
    await f.deliverAll(new Set(f.ids.slice(0, 3)))
    const out = f.advance()
    expect(out.kind).toBe('aborted')
    if (out.kind === 'aborted') {
      expect(out.error.code).toBe('COHORT_SECAGG_BELOW_THRESHOLD')
      expect(out.notify.sort()).toEqual([...f.ids].sort())
    }
  })

  it('aborts before unmasking when some secret has fewer than t live holders', async () => {
    const f = await roundFixture({ n: 8, k: 4, t: 3, parties })
    await runUntil(f, 'consistency-check')
    const victim = f.ids[0]!
    const ctx = f.agg.ctx
    const nbs = f.ids.filter((p) => areNeighbours(ctx, victim, p))
    // Three of the victim's four neighbours do not sign: its shares have 2 live holders < t = 3.
    await f.deliverAll(new Set(nbs.slice(0, 3)))
    const out = f.advance()
    expect(out.kind).toBe('aborted')
    if (out.kind === 'aborted') expect(out.error.code).toBe('COHORT_SECAGG_BELOW_THRESHOLD')
    expect(f.agg.unmaskLists.size).toBe(0)
  })

  it('refuses unrequested or mislabelled shares in unmask replies, and fails loudly on a wrong share', async () => {
    const f = await roundFixture({ n: 5, parties: parties.slice(0, 5) })
    await runUntil(f, 'unmask')
    const [a, b, ...rest] = [...f.requests.keys()]
    const wrongX = await replyWith(f, a!, (r) =>
      r.phase === 'unmask'
        ? { ...r, selfShares: r.selfShares.map((s) => ({ ...s, x: s.x === 1 ? 2 : 1 })) }
        : r
    )
    expect(wrongX.kind === 'rejected' && wrongX.rejection.code).toBe('COHORT_SECAGG_BAD_REPLY')
    const garbage = await replyWith(f, b!, (r) =>
      r.phase === 'unmask'
        ? { ...r, selfShares: r.selfShares.map((s) => ({ ...s, y: new Uint8Array(66).fill(3) })) }
        : r
    )
    expect(garbage.kind).toBe('accepted')
    for (const p of rest) await f.deliver(p)
    // Only t = 3 replies remain per secret and one of them is garbage.
    const out = f.advance()
    expect(out.kind).toBe('aborted')
    if (out.kind === 'aborted') expect(out.error.code).toBe('COHORT_SECAGG_RECONSTRUCTION_FAILED')
  })

  it('sums exactly with the complete graph and a party lost after sharing keys', async () => {
    const f = await roundFixture({ n: 6, parties: parties.slice(0, 6), d: 300 })
    await runUntil(f, 'masked-input')
    const lost = f.ids[2]!
    expect((f.requests.get(f.ids[0]!) as MaskedInputRequest).shares.map((s) => s.src)).toContain(lost)
    await f.deliverAll(new Set([lost]))
    f.advance()
    await runUntil(f, 'done')
    expectSum(f)
    if (f.last.kind === 'result') {
      expect(f.last.result.dropped).toEqual([lost])
      expect(f.last.result.stats.pairMasksRemoved).toBe(5)
    }
  })
})
