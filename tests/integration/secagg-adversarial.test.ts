/**
 * Acceptance 3: a malicious coordinator (or party) against the real participant runner over the
 * loopback transport. Each attack must fail safely: the refusing node answers with a typed error,
 * writes `secagg-refused` (and `secagg-aborted`, secrets zeroed) to its audit log, and releases
 * nothing further; an honest remainder of the round still sums exactly or aborts.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { x25519Keygen } from '../../crypto/agreement.ts'
import { ringAddInPlace, ringZeros } from '../../crypto/ring.ts'
import { runSecaggRound } from '../../coordinator/secagg/run-round.ts'
import type { SecaggRoundResult } from '../../coordinator/secagg/run-round.ts'
import { okReply } from '../../protocols/wire/reply.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import { decodeSecaggReply, encodeSecagg } from '../../protocols/secagg/messages.ts'
import type { MaskedInputRequest } from '../../protocols/secagg/messages.ts'
import { areNeighbours, roundContext } from '../../protocols/secagg/params.ts'
import { createSecaggFederation, memoryAudit } from '../../simulations/secagg-federation.ts'
import type { SecaggFederation, SimParty } from '../../simulations/secagg-federation.ts'
import { mutatingTransport, recordingTransport } from '../helpers/secagg-net.ts'
import type { TranscriptEntry } from '../helpers/secagg-net.ts'

let fed: SecaggFederation | undefined
afterEach(async () => {
  await fed?.close()
  fed = undefined
})

async function kinds(p: SimParty): Promise<Array<{ kind: string; body: Record<string, unknown> }>> {
  return (await p.audit.read()).map((e) => ({ kind: e.kind, body: e.body as Record<string, unknown> }))
}

async function refusal(p: SimParty): Promise<Record<string, unknown> | undefined> {
  return (await kinds(p)).find((e) => e.kind === 'secagg-refused')?.body
}

function expectExactSum(f: SecaggFederation, r: SecaggRoundResult) {
  const expected = ringZeros(r.sum.length, 32)
  for (const s of r.survivors) ringAddInPlace(expected, f.inputs.get(s)!, 32)
  expect([...r.sum]).toEqual([...expected])
}

const round = (f: SecaggFederation, transport = f.coordinator.transport, extra = {}) =>
  runSecaggRound(transport, {
    jobId: 'job-adv',
    round: 1,
    participants: f.parties.map((p) => p.identity.peerId),
    t: 6,
    k: 9,
    d: 12,
    ...extra
  })

describe('a malicious coordinator', () => {
  it('that swaps a key bundle is refused; the victim logs it and the round goes on without it', async () => {
    fed = await createSecaggFederation({ parties: 10, d: 12 })
    const victim = fed.parties[0]!
    const id = victim.identity.peerId
    const evil = mutatingTransport(fed.coordinator.transport, (peer, req) => {
      if (peer !== id || req.phase !== 'share-keys') return undefined
      const other = req.bundles.find((b) => b.peer !== id)!
      return {
        ...req,
        bundles: req.bundles.map((b) => (b === other ? { ...b, cPk: x25519Keygen().publicKey } : b))
      }
    })
    const r = await round(fed, evil)
    expect(r.failures).toContainEqual({ peer: id, phase: 'share-keys', code: 'COHORT_SECAGG_BAD_BUNDLE' })
    expect(r.survivors).not.toContain(id)
    expectExactSum(fed, r)
    expect(await refusal(victim)).toMatchObject({
      code: 'COHORT_SECAGG_BAD_BUNDLE',
      phase: 'share-keys',
      jobId: 'job-adv'
    })
    expect((await kinds(victim)).map((e) => e.kind)).toContain('secagg-aborted')
    expect(victim.handle.activeRounds()).toBe(0)
  })

  it('that sends overlapping survivor and dropped lists gets no shares from the victim', async () => {
    fed = await createSecaggFederation({ parties: 10, d: 12 })
    const victim = fed.parties[0]!
    const id = victim.identity.peerId
    const log: TranscriptEntry[] = []
    const evil = mutatingTransport(recordingTransport(fed.coordinator.transport, log), (peer, req) =>
      peer === id && req.phase === 'unmask'
        ? { ...req, dropped: [req.survivors.find((p) => p !== id)!] }
        : undefined
    )
    // The recorder sits under the mutator: it sees what the victim actually received and answered.
    const r = await round(fed, evil)
    expectExactSum(fed, r)
    expect(r.failures).toContainEqual({ peer: id, phase: 'unmask', code: 'COHORT_SECAGG_UNMASK_REFUSED' })
    expect(await refusal(victim)).toMatchObject({ code: 'COHORT_SECAGG_UNMASK_REFUSED', rule: 'overlap' })
    const answered = log.find((e) => e.peer === id && e.request.phase === 'unmask')!
    expect(answered.reply).toBeUndefined()
    expect((await kinds(victim)).map((e) => e.kind)).not.toContain('secagg-unmask')
  })

  it('that names a non-neighbour in the unmask lists is refused', async () => {
    fed = await createSecaggFederation({ parties: 12, d: 12 })
    const ids = fed.parties.map((p) => p.identity.peerId)
    const graphSeed = new Uint8Array(32).fill(1)
    const ctx = roundContext({
      jobId: 'job-adv',
      round: 1,
      participants: ids,
      t: 3,
      k: 4,
      ringBits: 32,
      d: 12,
      graphSeed
    })
    const victim = fed.parties[0]!
    const id = victim.identity.peerId
    const far = ids.find((p) => p !== id && !areNeighbours(ctx, id, p))!
    const evil = mutatingTransport(fed.coordinator.transport, (peer, req) =>
      peer === id && req.phase === 'unmask' ? { ...req, dropped: [...req.dropped, far] } : undefined
    )
    const r = await round(fed, evil, { t: 3, k: 4, graphSeed })
    expect(r.failures).toContainEqual({ peer: id, phase: 'unmask', code: 'COHORT_SECAGG_UNMASK_REFUSED' })
    expect(await refusal(victim)).toMatchObject({
      code: 'COHORT_SECAGG_UNMASK_REFUSED',
      rule: 'not-neighbour'
    })
  })

  it('that tells one party a live peer dropped, contradicting the set it signed, is refused', async () => {
    fed = await createSecaggFederation({ parties: 10, d: 12 })
    const victim = fed.parties[0]!
    const id = victim.identity.peerId
    const target = fed.parties[1]!.identity.peerId
    // The victim signed a survivor set containing `target`; claiming target dropped contradicts it.
    const evil = mutatingTransport(fed.coordinator.transport, (peer, req) =>
      peer === id && req.phase === 'unmask'
        ? { ...req, survivors: req.survivors.filter((p) => p !== target), dropped: [target] }
        : undefined
    )
    const r = await round(fed, evil)
    expectExactSum(fed, r)
    expect(await refusal(victim)).toMatchObject({
      code: 'COHORT_SECAGG_UNMASK_REFUSED',
      rule: 'inconsistent'
    })
  })

  it('that replays a share from an earlier round is refused', async () => {
    fed = await createSecaggFederation({ parties: 10, d: 12 })
    const victim = fed.parties[0]!
    const id = victim.identity.peerId
    const log: TranscriptEntry[] = []
    await round(fed, recordingTransport(fed.coordinator.transport, log))
    const old = log.find((e) => e.peer === id && e.request.phase === 'masked-input')!
      .request as MaskedInputRequest
    const evil = mutatingTransport(fed.coordinator.transport, (peer, req) => {
      if (peer !== id || req.phase !== 'masked-input') return undefined
      const stale = old.shares.find((s) => s.src === req.shares[0]!.src)!
      return { ...req, shares: req.shares.map((s, i) => (i === 0 ? stale : s)) }
    })
    const r = await round(fed, evil, { round: 2 })
    expect(r.failures).toContainEqual({ peer: id, phase: 'masked-input', code: 'COHORT_SECAGG_BAD_SHARE' })
    // The victim shared keys but sent no masked input: its pair masks are removed from the others'.
    expect(r.survivors).not.toContain(id)
    expectExactSum(fed, r)
    expect(await refusal(victim)).toMatchObject({
      code: 'COHORT_SECAGG_BAD_SHARE',
      phase: 'masked-input',
      round: 2
    })
  })

  it('that sends malformed or oversized frames is refused, and the node keeps serving', async () => {
    fed = await createSecaggFederation({ parties: 10, d: 12 })
    const victim = fed.parties[0]!
    const id = victim.identity.peerId
    const t = fed.coordinator.transport
    await expect(t.request(id, PROTOCOLS.secagg, new Uint8Array([0x93, 0xc1, 0x00]))).rejects.toMatchObject({
      code: 'COHORT_MALFORMED_MESSAGE'
    })
    expect(await refusal(victim)).toMatchObject({ code: 'COHORT_MALFORMED_MESSAGE', frameBytes: 3 })
    // Between the secagg cap (1 MiB) and the transport cap (2 MiB): refused and audited by the runner.
    await expect(t.request(id, PROTOCOLS.secagg, new Uint8Array(1_500_000))).rejects.toMatchObject({
      code: 'COHORT_MESSAGE_TOO_LARGE'
    })
    const entries = await kinds(victim)
    expect(entries.filter((e) => e.kind === 'secagg-refused').map((e) => e.body.code)).toEqual([
      'COHORT_MALFORMED_MESSAGE',
      'COHORT_MESSAGE_TOO_LARGE'
    ])
    // Over the transport cap: cut before the handler (never buffered).
    await expect(t.request(id, PROTOCOLS.secagg, new Uint8Array(3 * 1024 * 1024))).rejects.toMatchObject({
      code: 'COHORT_MESSAGE_TOO_LARGE'
    })
    const r = await round(fed)
    expect(r.survivors).toHaveLength(10)
    expectExactSum(fed, r)
  })

  it('that is not the federation coordinator is refused and logged', async () => {
    fed = await createSecaggFederation({ parties: 10, d: 12 })
    const [victim, rogue] = fed.parties
    const ids = fed.parties.map((p) => p.identity.peerId)
    const body = encodeSecagg({
      v: 1,
      jobId: 'job-rogue',
      round: 1,
      phase: 'advertise-keys',
      participants: ids,
      t: 6,
      k: 9,
      ringBits: 32,
      d: 12,
      graphSeed: new Uint8Array(32)
    })
    await expect(
      rogue!.transport.request(victim!.identity.peerId, PROTOCOLS.secagg, body)
    ).rejects.toMatchObject({
      code: 'COHORT_SECAGG_NOT_COORDINATOR'
    })
    expect(await refusal(victim!)).toMatchObject({
      code: 'COHORT_SECAGG_NOT_COORDINATOR',
      from: rogue!.identity.peerId
    })
    expect(victim!.handle.activeRounds()).toBe(0)
  })
})

describe('a faulty party', () => {
  it('that sends a masked vector of the wrong length is rejected by the coordinator, which logs it', async () => {
    let bad = ''
    fed = await createSecaggFederation({
      parties: 10,
      d: 12,
      hooks: {
        tamper(e, bytes) {
          if (e.direction !== 'response' || e.from !== bad || bytes[0] !== 0) return bytes
          try {
            const reply = decodeSecaggReply('masked-input', bytes.subarray(1))
            return okReply(encodeSecagg({ ...reply, y: reply.y.subarray(0, 44) }))
          } catch {
            return bytes
          }
        }
      }
    })
    bad = fed.parties[3]!.identity.peerId
    const coordinator = await memoryAudit(fed.coordinator)
    const r = await round(fed, fed.coordinator.transport, { audit: coordinator.audit })
    expect(r.rejected).toContainEqual(
      expect.objectContaining({ peer: bad, phase: 'masked-input', code: 'COHORT_SECAGG_VECTOR_LENGTH' })
    )
    expect(r.survivors).not.toContain(bad)
    expectExactSum(fed, r)
    const log = await coordinator.audit.read()
    expect(log.map((e) => e.kind)).toEqual(['secagg-round-start', 'secagg-rejected', 'secagg-round-end'])
    expect(log[1]!.body).toMatchObject({ peer: bad, code: 'COHORT_SECAGG_VECTOR_LENGTH' })
    await coordinator.store.close()
  })

  it('whose own input has the wrong length refuses to mask it', async () => {
    let short = ''
    fed = await createSecaggFederation({
      parties: 10,
      d: 12,
      inputProvider: (peer, x) => (peer === short ? x.subarray(0, 5) : x)
    })
    short = fed.parties[0]!.identity.peerId
    const r = await round(fed)
    expect(r.failures).toContainEqual({
      peer: short,
      phase: 'masked-input',
      code: 'COHORT_SECAGG_VECTOR_LENGTH'
    })
    expect(await refusal(fed.parties[0]!)).toMatchObject({ code: 'COHORT_SECAGG_VECTOR_LENGTH' })
    expectExactSum(fed, r)
  })
})
