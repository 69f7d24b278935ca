/**
 * Issue 7, acceptance 1 (faults) over the loopback transport, with the real job runner and a
 * key-holder: a node killed mid-round — after training and while encrypting its fit summand (its
 * reply never leaves), or after its ciphertext is already in the coordinator's sum (it stops
 * answering the challenge) — is dropped and the round completes over the survivors; a coordinator
 * that tries to get a single node's contribution decrypted as a "sum" in the middle of a real job
 * is refused by the key-holder, which audit-logs the refusal. A job opens an HE round at each node
 * per sum, so a node's bounded set of open rounds must make room for the next ones.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { runHeAggRound } from '../../coordinator/he-agg/run-round.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import {
  ChallengeReply,
  decodeHeAgg,
  encodeHeAgg,
  HeAggRequestSchema,
  MAX_HE_AGG_VECTOR_BYTES,
  SubmitReply
} from '../../protocols/he-agg/messages.ts'
import type { HeAggDecrypt, HeAggRequest } from '../../protocols/he-agg/messages.ts'
import { challengeSeed, sumHash } from '../../protocols/he-agg/transcript.ts'
import type { Transport } from '../../protocols/transport.ts'
import { decodeTrainRequest } from '../../protocols/training/wire.ts'
import { createLoopbackNetwork } from '../../simulations/loopback-transport.ts'
import { createTrainFederation } from '../helpers/train-federation.ts'
import type { TrainFederation } from '../helpers/train-federation.ts'
import { heFederation } from './he-agg-fixture.ts'

let fed: TrainFederation | undefined
afterEach(async () => {
  await fed?.close()
  fed = undefined
})

const heJob = (f: TrainFederation, rounds: number, over: object = {}) => ({
  name: 'credit risk, HE',
  model: { kind: 'logreg', rounds },
  data: { dataset: 'credit_data' },
  secureAggregation: 'he',
  he: { keyFingerprint: f.keyholder!.keyring.current().announcement.keyFingerprint },
  minParticipants: 2,
  ...over
})

const heRequest = (protocol: string, body: Uint8Array): HeAggRequest | undefined =>
  protocol === PROTOCOLS.heAgg ? decodeHeAgg(HeAggRequestSchema, body, MAX_HE_AGG_VECTOR_BYTES) : undefined

/** Wraps the coordinator's transport to act on each request before it is sent. */
function beforeSend(
  inner: Transport,
  act: (peer: string, protocol: string, body: Uint8Array) => Promise<void> | void
): Transport {
  return {
    self: inner.self,
    handle: (p, h, i) => inner.handle(p, h, i),
    unhandle: (p) => inner.unhandle(p),
    async request(peer, protocol, body, options) {
      await act(peer, protocol, body)
      return inner.request(peer, protocol, body, options)
    }
  }
}

async function keyholderEntries(f: TrainFederation, kind: string) {
  return (await f.keyholder!.audit.read()).filter((e) => e.kind === kind)
}

describe('a node killed mid-round (he)', () => {
  it('while encrypting, then after its ciphertext is in the sum: each round completes over the two survivors', async () => {
    let armed = ''
    const f = await createTrainFederation({
      he: true,
      seed: 'he-kill',
      hooks: {
        // The node's process dies after it encrypted and audit-logged its summand, before the reply leaves.
        drop: (e) => {
          if (
            armed === '' ||
            e.from !== armed ||
            e.direction !== 'response' ||
            e.protocol !== PROTOCOLS.heAgg
          )
            return false
          fed!.net.setDown(armed, true)
          armed = ''
          return true
        }
      }
    })
    fed = f
    const [x, y] = [f.nodes[0]!, f.nodes[1]!]
    let fitSum2 = ''
    let fitSum3 = ''
    const transport = beforeSend(f.coordinator.transport, async (peer, protocol, body) => {
      if (protocol === PROTOCOLS.train && peer === x.identity.peerId) {
        const req = decodeTrainRequest(body)
        if (req.kind === 'fit' && req.round === 3) {
          // x comes back for round 3 with empty memory (its store survives).
          f.net.setDown(peer, false)
          await x.restart()
        }
      }
      const req = heRequest(protocol, body)
      if (
        req?.phase === 'submit' &&
        req.jobId.includes('/fit/') &&
        req.round === 2 &&
        peer === x.identity.peerId
      ) {
        fitSum2 = req.jobId
        armed = peer
      }
      if (
        req?.phase === 'challenge' &&
        req.jobId.includes('/fit/') &&
        req.round === 3 &&
        peer === y.identity.peerId
      ) {
        fitSum3 = req.jobId
        f.net.setDown(peer, true)
      }
    })
    const job = await f.run((await f.submit(heJob(f, 4, { deadlines: { phaseMs: 5000 } }))).id, { transport })
    expect(job.status).toBe('completed')
    const rounds = await f.jobs.listRounds(job.id)
    expect(rounds.map((r) => r.round)).toEqual([1, 2, 3, 4])
    expect(rounds[0]!.survivors).toHaveLength(3)
    expect(rounds[1]!.survivors).toHaveLength(2)
    expect(rounds[1]!.dropped).toEqual([x.identity.peerId])
    expect(rounds[2]!.survivors).toHaveLength(2)
    expect(rounds[2]!.dropped).toEqual([y.identity.peerId])
    expect(rounds[3]!.survivors).toContain(x.identity.peerId)
    expect(rounds[3]!.survivors).not.toContain(y.identity.peerId)
    expect(job.metrics!.auc!).toBeGreaterThan(0.78)

    // Both victims were killed after the round had started: each encrypted and logged its fit input.
    const sent = async (n: typeof x, sum: string) =>
      (await n.audit.read()).filter(
        (e) => e.kind === 'he-agg-input-sent' && (e.body as { jobId: string }).jobId === sum
      )
    expect(fitSum2).not.toBe('')
    expect(fitSum3).not.toBe('')
    expect(await sent(x, fitSum2)).toHaveLength(1)
    expect(await sent(y, fitSum3)).toHaveLength(1)
    // The key-holder decrypted each of those sums once, over the two survivors only.
    const decrypted = await keyholderEntries(f, 'he-agg-decrypted')
    for (const [sum, victim] of [
      [fitSum2, x],
      [fitSum3, y]
    ] as const) {
      const entry = decrypted.filter((e) => (e.body as { jobId: string }).jobId === sum)
      expect(entry).toHaveLength(1)
      const body = entry[0]!.body as { count: number; contributors: string[] }
      expect(body.count).toBe(2)
      expect(body.contributors).not.toContain(victim.identity.peerId)
    }
  }, 90_000)
})

describe('the key-holder within a job', () => {
  it('refuses a compromised coordinator\'s single-contribution "sum" and audit-logs it; the job goes on', async () => {
    const f = await createTrainFederation({ he: true, seed: 'he-solo' })
    fed = f
    const inner = f.coordinator.transport
    const submits = new Map<string, { peer: string; reply: ReturnType<typeof SubmitReply.parse> }>()
    let attack: { sum: string; error: unknown } | undefined
    const transport: Transport = {
      self: inner.self,
      handle: (p, h, i) => inner.handle(p, h, i),
      unhandle: (p) => inner.unhandle(p),
      async request(peer, protocol, body, options) {
        const req = heRequest(protocol, body)
        if (
          req?.phase === 'decrypt' &&
          req.jobId.includes('/fit/') &&
          req.round === 1 &&
          attack === undefined
        ) {
          // Before the honest request: challenge one node for a "sum" of its own ciphertext alone
          // (the node answers: it cannot tell), then ask the key-holder to decrypt that.
          const victim = submits.get(req.jobId)!
          const ref = { jobId: req.jobId, round: req.round, keyId: req.keyId }
          const sum = victim.reply.ciphertext
          const seed = challengeSeed(ref, sumHash(ref, sum), [
            { peer: victim.peer, ctHash: victim.reply.ctHash }
          ])
          const dig = decodeHeAgg(
            ChallengeReply,
            await inner.request(
              victim.peer,
              PROTOCOLS.heAgg,
              encodeHeAgg({ v: 1, ...ref, phase: 'challenge', seed }),
              { maxResponseBytes: MAX_HE_AGG_VECTOR_BYTES }
            ),
            MAX_HE_AGG_VECTOR_BYTES
          )
          const solo: HeAggDecrypt = {
            v: 1,
            ...ref,
            phase: 'decrypt',
            sum,
            maxAbsPerParty: req.maxAbsPerParty,
            minParticipants: req.minParticipants,
            contributions: [
              {
                peer: victim.peer,
                ctHash: victim.reply.ctHash,
                sig: victim.reply.sig,
                digest: dig.digest,
                digestSig: dig.sig
              }
            ]
          }
          attack = { sum: req.jobId, error: undefined }
          await inner
            .request(peer, PROTOCOLS.heAgg, encodeHeAgg(solo), { maxResponseBytes: MAX_HE_AGG_VECTOR_BYTES })
            .catch((err: unknown) => {
              attack!.error = err
            })
        }
        const frame = await inner.request(peer, protocol, body, options)
        if (req?.phase === 'submit' && req.jobId.includes('/fit/') && !submits.has(req.jobId))
          submits.set(req.jobId, { peer, reply: decodeHeAgg(SubmitReply, frame, MAX_HE_AGG_VECTOR_BYTES) })
        return frame
      }
    }
    const job = await f.run((await f.submit(heJob(f, 2))).id, { transport })
    expect(attack).toBeDefined()
    expect(attack!.error).toMatchObject({ code: 'COHORT_HE_AGG_BELOW_MINIMUM' })
    const refused = await keyholderEntries(f, 'he-agg-refused')
    expect(refused).toHaveLength(1)
    expect(refused[0]!.body).toMatchObject({
      code: 'COHORT_HE_AGG_BELOW_MINIMUM',
      jobId: attack!.sum,
      round: 1,
      phase: 'decrypt',
      from: f.coordinator.peerId
    })
    // The refusal did not burn the round: the honest sum of all three was decrypted, and nothing
    // was ever decrypted over fewer than three contributions.
    expect(job.status).toBe('completed')
    const decrypted = await keyholderEntries(f, 'he-agg-decrypted')
    expect(decrypted).toHaveLength(5) // statistics, then a fit and an evaluation per round
    expect(decrypted.every((e) => (e.body as { count: number }).count === 3)).toBe(true)
    expect(decrypted.filter((e) => (e.body as { jobId: string }).jobId === attack!.sum)).toHaveLength(1)
  }, 60_000)
})

describe("a node's open HE rounds (every sum of a job opens one)", () => {
  it('at capacity the oldest challenged round gives way; rounds still awaiting their challenge do not', async () => {
    const net = createLoopbackNetwork()
    const he = await heFederation({ nodes: 2, length: 16, transportFor: (p) => net.transport(p) })
    try {
      const c = he.coordinator.transport
      const announcement = he.keyholder.keyring.current().announcement
      // Nine complete sums in a row: more than the 8 rounds a node keeps open.
      for (let round = 1; round <= 9; round++) {
        const r = await runHeAggRound(c, {
          jobId: `sum-${round}`,
          round,
          participants: he.nodes.map((n) => n.peerId),
          keyholder: he.keyholder.peerId,
          announcement,
          context: he.ctx,
          length: 16,
          maxAbsPerParty: 1000,
          minParticipants: 2
        })
        expect(r.contributors, `sum ${round}`).toHaveLength(2)
      }
      expect(he.nodes.map((n) => n.handle.activeRounds())).toEqual([8, 8])
      // Eight submitted, never challenged rounds fill a node: the next submit is refused.
      const submit = (round: number) =>
        c.request(
          he.nodes[0]!.peerId,
          PROTOCOLS.heAgg,
          encodeHeAgg({
            v: 1,
            jobId: `open-${round}`,
            round,
            keyId: announcement.keyId,
            phase: 'submit',
            announcement,
            length: 16,
            maxAbsPerParty: 1000,
            minParticipants: 2
          }),
          { maxResponseBytes: MAX_HE_AGG_VECTOR_BYTES }
        )
      for (let round = 1; round <= 8; round++) await submit(round)
      await expect(submit(9)).rejects.toMatchObject({ code: 'COHORT_HE_AGG_BAD_PARAMS' })
      expect(he.nodes[0]!.handle.activeRounds()).toBe(8)
    } finally {
      await he.close()
    }
  }, 60_000)
})
