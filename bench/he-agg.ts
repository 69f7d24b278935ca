/**
 * `npm run bench -- he-agg [--parties 10] [--blocks 4] [--json]`
 *
 * One he-agg round driven machine to machine in this process (protocols/he-agg: participant,
 * aggregator, decryptor; every message through its real checks, no transport), with `--blocks`
 * 8192-slot BFV ciphertexts per vector. Prints milliseconds per 8192-slot block:
 * - per party: encrypt + serialize + sign input (submit), digest (challenge);
 * - at the coordinator: verify + load + add per contribution, and for the whole round;
 * - at the key-holder: signature checks, digest of the sum, decryption;
 * plus the wire size of one block.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { MemberRole } from '../configs/federation.ts'
import { generateKeys, getHeContext } from '../crypto/he/index.ts'
import type { HePublicKey } from '../crypto/he/index.ts'
import { heAggAggregatorMachine, submitRequest } from '../protocols/he-agg/aggregator.ts'
import { heAggDecryptorMachine } from '../protocols/he-agg/decryptor.ts'
import { announceKey } from '../protocols/he-agg/key-announcement.ts'
import type { HeAggSubmitReply } from '../protocols/he-agg/messages.ts'
import { heAggParticipantMachine } from '../protocols/he-agg/participant.ts'
import { flag, report } from './_report.ts'

async function ident() {
  const privateKey = await generateKeyPair('Ed25519')
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() }
}

export async function main(argv: string[]): Promise<void> {
  const parties = Number(flag(argv, 'parties', '10'))
  const blocks = Number(flag(argv, 'blocks', '4'))
  report('he-agg', await heAggFigures(parties, blocks), argv)
}

/** The figures of one round of `parties` parties, `blocks` blocks each (also used by he-psi-vertical). */
export async function heAggFigures(parties: number, blocks: number): Promise<Record<string, number>> {
  const ctx = await getHeContext('bfv-8192')
  const length = blocks * ctx.slotCount
  const coordinator = await ident()
  const keyholder = await ident()
  const nodes = await Promise.all(Array.from({ length: parties }, () => ident()))
  const roles = new Map<string, MemberRole[]>([
    [coordinator.peerId, ['coordinator']],
    [keyholder.peerId, ['keyholder']],
    ...nodes.map((n) => [n.peerId, ['node']] as [string, MemberRole[]])
  ])
  const rolesOf = (p: string) => roles.get(p) ?? []
  using keys = generateKeys(ctx)
  const announcement = await announceKey(keyholder, 'bench', keys)
  const keyCache = new Map<string, HePublicKey>()
  const params = {
    jobId: 'bench',
    round: 1,
    context: ctx,
    announcement,
    participants: nodes.map((n) => n.peerId),
    length,
    maxAbsPerParty: 2 ** 24,
    minParticipants: 2
  }
  let agg = heAggAggregatorMachine.init(params)
  const request = submitRequest(params)
  const states = nodes.map((n) =>
    heAggParticipantMachine.init({
      self: n.peerId,
      context: ctx,
      rolesOf,
      pinnedFingerprint: announcement.keyFingerprint,
      minParticipants: 2,
      keyCache
    })
  )
  const t = { submit: 0, digest: 0, coordSubmit: 0, coordDigest: 0, coordOther: 0, keyholder: 0 }
  let bytes = 0
  for (const [i, n] of nodes.entries()) {
    const values = Float64Array.from({ length }, (_, j) => ((i * 131 + j * 7) % 2001) - 1000)
    let t0 = performance.now()
    const out = heAggParticipantMachine.step(states[i]!, {
      phase: 'submit',
      from: coordinator.peerId,
      request,
      values
    }).output
    const reply = {
      ...(out.reply as Omit<HeAggSubmitReply, 'sig'>),
      sig: await n.privateKey.sign(out.toSign!)
    }
    t.submit += performance.now() - t0
    bytes += reply.ciphertext.chunks.reduce((s, c) => s + c.length, 0)
    t0 = performance.now()
    agg = heAggAggregatorMachine.step(agg, { phase: 'submit', peer: n.peerId, reply }).state
    t.coordSubmit += performance.now() - t0
  }
  let t0 = performance.now()
  const { challenges } = heAggAggregatorMachine.step(agg, { phase: 'challenge' }).output
  t.coordOther += performance.now() - t0
  for (const [i, n] of nodes.entries()) {
    t0 = performance.now()
    const out = heAggParticipantMachine.step(states[i]!, {
      phase: 'challenge',
      from: coordinator.peerId,
      request: challenges!.get(n.peerId)!
    }).output
    const reply = {
      v: 1 as const,
      digest: (out.reply as { digest: number[] }).digest,
      sig: await n.privateKey.sign(out.toSign!)
    }
    t.digest += performance.now() - t0
    t0 = performance.now()
    agg = heAggAggregatorMachine.step(agg, { phase: 'digest', peer: n.peerId, reply }).state
    t.coordDigest += performance.now() - t0
  }
  t0 = performance.now()
  const { decrypt } = heAggAggregatorMachine.step(agg, { phase: 'decrypt' }).output
  t.coordOther += performance.now() - t0
  t0 = performance.now()
  const kh = heAggDecryptorMachine.init({
    self: keyholder.peerId,
    context: ctx,
    rolesOf,
    keys: new Map([['bench', keys]]),
    minParticipants: 2
  })
  const res = heAggDecryptorMachine.step(kh, {
    phase: 'decrypt',
    from: coordinator.peerId,
    request: decrypt!
  }).output
  t.keyholder += performance.now() - t0
  if (res.values!.length !== length) throw new Error('wrong length')
  for (const s of states) heAggParticipantMachine.step(s, { phase: 'done', from: coordinator.peerId })
  agg.sum?.dispose()
  for (const pk of keyCache.values()) pk.dispose()
  const perBlock = (ms: number, n = 1) => ms / blocks / n
  return {
    parties,
    blocks_of_8192_slots: blocks,
    party_submit_ms_per_block: perBlock(t.submit, parties),
    party_digest_ms_per_block: perBlock(t.digest, parties),
    party_total_ms_per_block: perBlock(t.submit + t.digest, parties),
    coordinator_add_ms_per_block_per_party: perBlock(t.coordSubmit, parties),
    coordinator_digest_check_ms_per_block_per_party: perBlock(t.coordDigest, parties),
    coordinator_total_ms_per_block: perBlock(t.coordSubmit + t.coordDigest + t.coordOther),
    keyholder_ms_per_block: perBlock(t.keyholder),
    ciphertext_bytes_per_block: Math.round(bytes / parties / blocks)
  }
}
