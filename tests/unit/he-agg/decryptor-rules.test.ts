/**
 * The key-holder's rules (protocols/he-agg/decryptor.ts), on rounds driven machine to machine:
 * exact sum; refusal of a single-contribution "sum" (acceptance); unsigned, forged, duplicate and
 * non-member contributors; a sum that is not the sum of the signed contributions; wrong sender.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bfvEncryptVector, loadBfvVector, saveVector } from '../../../crypto/he/index.ts'
import { encodeCanonical } from '../../../crypto/hash.ts'
import { heAggDecryptorMachine } from '../../../protocols/he-agg/decryptor.ts'
import type { HeAggDecrypt } from '../../../protocols/he-agg/messages.ts'
import { submitRequest } from '../../../protocols/he-agg/aggregator.ts'
import { heAggParticipantMachine } from '../../../protocols/he-agg/participant.ts'
import { vectorDigest } from '../../../protocols/he-agg/digest.ts'
import {
  challengeSeed,
  DIGEST_LABEL,
  digestFields,
  INPUT_LABEL,
  inputFields,
  sumHash
} from '../../../protocols/he-agg/transcript.ts'
import type { HeWorld, RoundRun } from './fixture.ts'
import { heWorld, ident, participant, runRound } from './fixture.ts'

let w: HeWorld
let run: RoundRun
beforeAll(async () => {
  w = await heWorld(3)
  run = await runRound(w)
}, 60_000)
afterAll(() => {
  w.keys.dispose()
  for (const pk of w.keyCache.values()) pk.dispose()
})

function decrypt(request: HeAggDecrypt, from = w.coordinator.peerId, minParticipants = 2) {
  const s = heAggDecryptorMachine.init({
    self: w.keyholder.peerId,
    context: w.ctx,
    rolesOf: w.rolesOf,
    keys: new Map([['key-1', w.keys]]),
    minParticipants
  })
  return heAggDecryptorMachine.step(s, { phase: 'decrypt', from, request }).output
}
const code = (c: string) => expect.objectContaining({ code: c })

describe('he-agg decryptor', () => {
  it('decrypts the exact sum of three contributions and audits it with the non-collusion statement', () => {
    const out = decrypt(run.request)
    const expected = run.inputs[0]!.map((_, j) => run.inputs.reduce((s, x) => s + x[j]!, 0))
    expect([...out.values!]).toEqual([...expected])
    expect(out.contributors).toEqual(w.nodes.map((x) => x.peerId).sort())
    expect(out.audit[0]).toMatchObject({
      kind: 'he-agg-decrypted',
      body: {
        count: 3,
        minParticipants: 2,
        assumption: { coordinator: w.coordinator.peerId, keyholder: w.keyholder.peerId }
      }
    })
  })

  it('refuses a single-contribution "sum" (COHORT_HE_AGG_BELOW_MINIMUM), whatever its own policy minimum', async () => {
    // A coordinator that skips its own minimum: one node's ciphertext as the "sum", with that node's
    // valid input signature and a valid digest signature for exactly this sum's seed.
    const node = w.nodes[0]!
    const ref = { jobId: 'job-solo', round: 1, keyId: 'key-1' }
    const s = participant(w, node.peerId)
    const params = {
      ...ref,
      context: w.ctx,
      announcement: w.announcement,
      participants: [node.peerId],
      length: 20,
      maxAbsPerParty: 1000,
      minParticipants: 2
    }
    const sub = heAggParticipantMachine.step(s, {
      phase: 'submit',
      from: w.coordinator.peerId,
      request: submitRequest(params),
      values: run.inputs[0]!
    }).output
    const reply = sub.reply as { ciphertext: HeAggDecrypt['sum']; ctHash: Uint8Array }
    const sig = await node.privateKey.sign(sub.toSign!)
    const seed = challengeSeed(ref, sumHash(ref, reply.ciphertext), [
      { peer: node.peerId, ctHash: reply.ctHash }
    ])
    const ch = heAggParticipantMachine.step(s, {
      phase: 'challenge',
      from: w.coordinator.peerId,
      request: { v: 1, ...ref, phase: 'challenge', seed }
    }).output
    const digest = (ch.reply as { digest: number[] }).digest
    const request: HeAggDecrypt = {
      v: 1,
      ...ref,
      phase: 'decrypt',
      sum: reply.ciphertext,
      maxAbsPerParty: 1000,
      minParticipants: 2,
      contributions: [
        {
          peer: node.peerId,
          ctHash: reply.ctHash,
          sig,
          digest,
          digestSig: await node.privateKey.sign(ch.toSign!)
        }
      ]
    }
    expect(() => decrypt(request)).toThrow(code('COHORT_HE_AGG_BELOW_MINIMUM'))
    // Even a key-holder configured with a minimum of 1 never decrypts fewer than 2.
    expect(() => decrypt(request, w.coordinator.peerId, 1)).toThrow(code('COHORT_HE_AGG_BELOW_MINIMUM'))
    heAggParticipantMachine.step(s, { phase: 'done', from: w.coordinator.peerId })
  })

  it('refuses unsigned, forged, duplicate and non-member contributors', async () => {
    const c = run.request.contributions
    const zeroSig = { ...run.request, contributions: [{ ...c[0]!, sig: new Uint8Array(64) }, c[1]!, c[2]!] }
    expect(() => decrypt(zeroSig)).toThrow(code('COHORT_HE_AGG_BAD_CONTRIBUTION'))
    const stranger = await ident()
    const forgedSig = await stranger.privateKey.sign(
      encodeCanonical(INPUT_LABEL, inputFields({ jobId: 'job-he', round: 1, keyId: 'key-1' }, c[0]!.ctHash))
    )
    expect(() =>
      decrypt({ ...run.request, contributions: [{ ...c[0]!, sig: forgedSig }, c[1]!, c[2]!] })
    ).toThrow(code('COHORT_HE_AGG_BAD_CONTRIBUTION'))
    expect(() => decrypt({ ...run.request, contributions: [c[0]!, c[0]!, c[1]!] })).toThrow(
      code('COHORT_HE_AGG_BAD_CONTRIBUTION')
    )
    expect(() =>
      decrypt({ ...run.request, contributions: [{ ...c[0]!, peer: stranger.peerId }, c[1]!, c[2]!] })
    ).toThrow(code('COHORT_HE_AGG_BAD_CONTRIBUTION'))
    // A signature for another round does not carry over.
    expect(() => decrypt({ ...run.request, round: 2 })).toThrow(code('COHORT_HE_AGG_BAD_CONTRIBUTION'))
  })

  it('refuses a subset of the contributions (COHORT_HE_AGG_BELOW_MINIMUM or signatures no longer match the seed)', () => {
    // Dropping a contributor changes the seed, so the remaining digest signatures do not verify.
    const two = { ...run.request, contributions: run.request.contributions.slice(0, 2) }
    expect(() => decrypt(two)).toThrow(code('COHORT_HE_AGG_BAD_CONTRIBUTION'))
  })

  it('refuses a "sum" that is one node’s ciphertext under all three signatures (COHORT_HE_AGG_SUM_MISMATCH)', async () => {
    const again = await runRound(w, { round: 7 })
    const fake = again.replies[0]!.ciphertext
    // Swapping the sum changes the seed: the digest signatures no longer verify.
    expect(() => decrypt({ ...again.request, sum: fake })).toThrow(code('COHORT_HE_AGG_BAD_CONTRIBUTION'))
    // A coordinator can ask the nodes for digests under the fake sum's seed: the nodes sign honest
    // digests of their own ciphertexts, which do not add up to the fake sum's digest.
    const ref = { jobId: 'job-he', round: 7, keyId: 'key-1' }
    const seed = challengeSeed(ref, sumHash(ref, fake), again.request.contributions)
    const contributions = await Promise.all(
      again.request.contributions.map(async (c, i) => {
        using vec = loadBfvVector(w.ctx, again.replies[i]!.ciphertext)
        const digest = vectorDigest(vec, seed)
        const digestSig = await w.nodes[i]!.privateKey.sign(
          encodeCanonical(DIGEST_LABEL, digestFields(ref, c.ctHash, seed, digest))
        )
        return { ...c, digest, digestSig }
      })
    )
    expect(() => decrypt({ ...again.request, sum: fake, contributions })).toThrow(
      code('COHORT_HE_AGG_SUM_MISMATCH')
    )
  })

  it('refuses a request from a non-coordinator and for an unknown key', () => {
    expect(() => decrypt(run.request, w.nodes[0]!.peerId)).toThrow(code('COHORT_HE_AGG_ROLE'))
    expect(() => decrypt({ ...run.request, keyId: 'key-2' })).toThrow(code('COHORT_HE_AGG_KEY'))
  })

  it('a fresh encryption under the key is not a sum either (the seed no longer matches the signatures)', () => {
    using other = bfvEncryptVector(w.keys.publicKey, new Array(20).fill(1))
    const wire = saveVector(other)
    expect(() =>
      decrypt({ ...run.request, sum: { scheme: 'bfv', length: 20, chunks: [...wire.chunks] } })
    ).toThrow(code('COHORT_HE_AGG_BAD_CONTRIBUTION'))
  })
})
