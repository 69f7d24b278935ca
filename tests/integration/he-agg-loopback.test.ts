/**
 * HE aggregation over the loopback transport with the real runners: a coordinator, a key-holder
 * and three nodes. Exact sums; a node killed mid-round; the key-holder's refusals through the
 * network (single-contribution "sum", replay, non-coordinator); key rotation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fetchKeyAnnouncement, runHeAggRound } from '../../coordinator/he-agg/run-round.ts'
import type { HeAggRoundOptions } from '../../coordinator/he-agg/run-round.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import {
  ChallengeReply,
  decodeHeAgg,
  encodeHeAgg,
  HeAggRequestSchema,
  MAX_HE_AGG_VECTOR_BYTES,
  SubmitReply
} from '../../protocols/he-agg/messages.ts'
import type { HeAggDecrypt } from '../../protocols/he-agg/messages.ts'
import { challengeSeed, sumHash } from '../../protocols/he-agg/transcript.ts'
import type { Transport } from '../../protocols/transport.ts'
import { createLoopbackNetwork } from '../../simulations/loopback-transport.ts'
import type { HeFederation } from './he-agg-fixture.ts'
import { heFederation } from './he-agg-fixture.ts'

const net = createLoopbackNetwork()
let fed: HeFederation
const LENGTH = 8192 + 100 // two ciphertexts per vector

beforeAll(async () => {
  fed = await heFederation({ nodes: 3, length: LENGTH, transportFor: (p) => net.transport(p) })
}, 60_000)
afterAll(() => fed?.close())

async function round(round: number, over: Partial<HeAggRoundOptions> = {}) {
  const announcement = await fetchKeyAnnouncement(fed.coordinator.transport, fed.keyholder.peerId)
  return runHeAggRound(fed.coordinator.transport, {
    jobId: 'job-he',
    round,
    participants: fed.nodes.map((n) => n.peerId),
    keyholder: fed.keyholder.peerId,
    announcement,
    context: fed.ctx,
    length: LENGTH,
    maxAbsPerParty: 1000,
    minParticipants: 2,
    deadlines: { submit: 20_000, challenge: 5_000, decrypt: 20_000 },
    ...over
  })
}
function expectSum(sum: Float64Array, contributors: string[], r: number) {
  const expected = new Float64Array(LENGTH)
  for (const n of fed.nodes.filter((x) => contributors.includes(x.peerId))) {
    const x = n.input(r)
    for (let j = 0; j < LENGTH; j++) expected[j]! += x[j]!
  }
  expect(Buffer.from(sum.buffer).equals(Buffer.from(expected.buffer))).toBe(true)
}

describe('he-agg over loopback', () => {
  it('the key-holder decrypts the exact sum of three updates; every party audits it', async () => {
    const r = await round(1)
    expect(r.contributors).toHaveLength(3)
    expectSum(r.sum, r.contributors, 1)
    for (const n of fed.nodes) {
      const kinds = (await n.audit.read()).map((e) => e.kind)
      expect(kinds).toEqual(['he-agg-input-sent', 'he-agg-digest-sent'])
      const sent = (await n.audit.read())[0]!.body as {
        assumption: { coordinator: string; keyholder: string; text: string }
      }
      expect(sent.assumption).toMatchObject({
        coordinator: fed.coordinator.peerId,
        keyholder: fed.keyholder.peerId
      })
    }
    const decrypted = (await fed.keyholder.audit.read()).filter((e) => e.kind === 'he-agg-decrypted')
    expect(decrypted).toHaveLength(1)
    expect(decrypted[0]!.body).toMatchObject({
      jobId: 'job-he',
      round: 1,
      count: 3,
      contributors: [...r.contributors]
    })
  })

  it('a node killed after submitting (during the challenge) is dropped; the round completes with the others', async () => {
    const victim = fed.nodes[1]!
    const killing: Transport = {
      ...fed.coordinator.transport,
      self: fed.coordinator.transport.self,
      request(peer, protocol, body, options) {
        const req = decodeHeAgg(HeAggRequestSchema, body, MAX_HE_AGG_VECTOR_BYTES)
        if (peer === victim.peerId && req.phase === 'challenge') net.setDown(victim.peerId, true)
        return fed.coordinator.transport.request(peer, protocol, body, options)
      }
    }
    try {
      const r = await runHeAggRound(killing, {
        jobId: 'job-he',
        round: 2,
        participants: fed.nodes.map((n) => n.peerId),
        keyholder: fed.keyholder.peerId,
        announcement: fed.keyholder.keyring.current().announcement,
        context: fed.ctx,
        length: LENGTH,
        maxAbsPerParty: 1000,
        minParticipants: 2,
        deadlines: { submit: 20_000, challenge: 3_000, decrypt: 20_000 }
      })
      expect(r.contributors).toEqual(
        fed.nodes
          .filter((n) => n !== victim)
          .map((n) => n.peerId)
          .sort()
      )
      expect(r.dropped).toEqual([victim.peerId])
      expectSum(r.sum, r.contributors, 2)
      expect(r.timings.challenge2Ms).toBeGreaterThan(0)
    } finally {
      net.setDown(victim.peerId, false)
    }
  })

  it('a node that is down from the start is simply not in the sum', async () => {
    const victim = fed.nodes[2]!
    net.setDown(victim.peerId, true)
    try {
      const r = await round(3)
      expect(r.contributors).toHaveLength(2)
      expect(r.failures.map((f) => [f.peer, f.phase])).toEqual([[victim.peerId, 'submit']])
      expectSum(r.sum, r.contributors, 3)
    } finally {
      net.setDown(victim.peerId, false)
    }
  })

  it('below minParticipants the round aborts (COHORT_HE_AGG_BELOW_MINIMUM) and nothing is decrypted', async () => {
    for (const n of fed.nodes.slice(1)) net.setDown(n.peerId, true)
    try {
      await expect(round(4)).rejects.toMatchObject({ code: 'COHORT_HE_AGG_BELOW_MINIMUM' })
    } finally {
      for (const n of fed.nodes.slice(1)) net.setDown(n.peerId, false)
    }
  })
})

describe('the key-holder through the network', () => {
  const t = () => fed.coordinator.transport
  const ask = async (peer: string, message: object) =>
    t().request(peer, PROTOCOLS.heAgg, encodeHeAgg(message), { maxResponseBytes: MAX_HE_AGG_VECTOR_BYTES })

  it('refuses a single-contribution "sum" even when everything in it is validly signed', async () => {
    const node = fed.nodes[0]!
    const ann = fed.keyholder.keyring.current().announcement
    const ref = { jobId: 'job-solo', round: 1, keyId: ann.keyId }
    const sub = decodeHeAgg(
      SubmitReply,
      await ask(node.peerId, {
        v: 1,
        ...ref,
        phase: 'submit',
        announcement: ann,
        length: LENGTH,
        maxAbsPerParty: 1000,
        minParticipants: 2
      }),
      MAX_HE_AGG_VECTOR_BYTES
    )
    const seed = challengeSeed(ref, sumHash(ref, sub.ciphertext), [{ peer: node.peerId, ctHash: sub.ctHash }])
    const dig = decodeHeAgg(
      ChallengeReply,
      await ask(node.peerId, { v: 1, ...ref, phase: 'challenge', seed }),
      MAX_HE_AGG_VECTOR_BYTES
    )
    const solo: HeAggDecrypt = {
      v: 1,
      ...ref,
      phase: 'decrypt',
      sum: sub.ciphertext,
      maxAbsPerParty: 1000,
      minParticipants: 2,
      contributions: [
        { peer: node.peerId, ctHash: sub.ctHash, sig: sub.sig, digest: dig.digest, digestSig: dig.sig }
      ]
    }
    await expect(ask(fed.keyholder.peerId, solo)).rejects.toMatchObject({
      code: 'COHORT_HE_AGG_BELOW_MINIMUM'
    })
    const refused = (await fed.keyholder.audit.read()).filter((e) => e.kind === 'he-agg-refused')
    expect(refused.at(-1)!.body).toMatchObject({ code: 'COHORT_HE_AGG_BELOW_MINIMUM', jobId: 'job-solo' })
    // The node itself refuses to submit the same round twice.
    await expect(
      ask(node.peerId, {
        v: 1,
        ...ref,
        phase: 'submit',
        announcement: ann,
        length: LENGTH,
        maxAbsPerParty: 1000,
        minParticipants: 2
      })
    ).rejects.toMatchObject({ code: 'COHORT_HE_AGG_REPLAY' })
  })

  it('decrypts each round once: a replayed decrypt request is refused (COHORT_HE_AGG_REPLAY)', async () => {
    let captured: Uint8Array | undefined
    const recording: Transport = {
      ...t(),
      self: t().self,
      request(peer, protocol, body, options) {
        if (peer === fed.keyholder.peerId) captured = body
        return t().request(peer, protocol, body, options)
      }
    }
    const ann = fed.keyholder.keyring.current().announcement
    await runHeAggRound(recording, {
      jobId: 'job-he',
      round: 10,
      participants: fed.nodes.map((n) => n.peerId),
      keyholder: fed.keyholder.peerId,
      announcement: ann,
      context: fed.ctx,
      length: LENGTH,
      maxAbsPerParty: 1000,
      minParticipants: 2
    })
    await expect(
      t().request(fed.keyholder.peerId, PROTOCOLS.heAgg, captured!, {
        maxResponseBytes: MAX_HE_AGG_VECTOR_BYTES
      })
    ).rejects.toMatchObject({
      code: 'COHORT_HE_AGG_REPLAY'
    })
  })

  it('refuses requests from a node (not a coordinator)', async () => {
    const fromNode = net.transport(fed.nodes[0]!.peerId)
    await expect(
      fromNode.request(fed.keyholder.peerId, PROTOCOLS.heAgg, encodeHeAgg({ v: 1, phase: 'key' }))
    ).rejects.toMatchObject({ code: 'COHORT_HE_AGG_ROLE' })
  })

  it('rotation: a new key id is refused by nodes until their jobs pin it, then works', async () => {
    const old = fed.pin.fingerprint
    const fresh = await fed.keyholder.keyring.rotate('key-2')
    expect(fresh.keyFingerprint).not.toBe(old)
    await expect(round(20)).rejects.toMatchObject({ code: 'COHORT_HE_AGG_BELOW_MINIMUM' })
    const refusals = (await fed.nodes[0]!.audit.read()).filter((e) => e.kind === 'he-agg-refused')
    expect(refusals.at(-1)!.body).toMatchObject({ code: 'COHORT_HE_AGG_KEY' })
    fed.pin.fingerprint = fresh.keyFingerprint
    const r = await round(21)
    expectSum(r.sum, r.contributors, 21)
    expect((await fed.keyholder.audit.read()).filter((e) => e.kind === 'he-key-generated')).toHaveLength(2)
  })
})
