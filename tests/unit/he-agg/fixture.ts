/**
 * TEST ONLY: a he-agg round driven machine to machine (no transport): a key-holder key set and its
 * signed announcement, n nodes with identities, their submissions and digests through the real
 * participant and aggregator machines, and the resulting decrypt request.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { FederationManifest, MemberRole } from '../../../configs/federation.ts'
import { generateKeys, getHeContext } from '../../../crypto/he/index.ts'
import type { HeContext, HeKeySet, HePublicKey } from '../../../crypto/he/index.ts'
import { heAggAggregatorMachine } from '../../../protocols/he-agg/aggregator.ts'
import type { HeAggAggregatorState } from '../../../protocols/he-agg/aggregator.ts'
import { submitRequest } from '../../../protocols/he-agg/aggregator.ts'
import { announceKey } from '../../../protocols/he-agg/key-announcement.ts'
import type { KeyAnnouncement } from '../../../protocols/he-agg/key-announcement.ts'
import type { HeAggDecrypt, HeAggSubmitReply } from '../../../protocols/he-agg/messages.ts'
import { heAggParticipantMachine } from '../../../protocols/he-agg/participant.ts'
import type { HeAggParticipantState } from '../../../protocols/he-agg/participant.ts'

export interface Ident {
  peerId: string
  privateKey: Ed25519PrivateKey
}

export async function ident(): Promise<Ident> {
  const privateKey = await generateKeyPair('Ed25519')
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() }
}

export interface HeWorld {
  ctx: HeContext
  keys: HeKeySet
  announcement: KeyAnnouncement
  coordinator: Ident
  keyholder: Ident
  nodes: Ident[]
  manifest: FederationManifest
  rolesOf: (peer: string) => readonly MemberRole[]
  keyCache: Map<string, HePublicKey>
}

/** A federation: coordinator, key-holder (with a fresh key set) and n nodes. */
export async function heWorld(n: number): Promise<HeWorld> {
  const ctx = await getHeContext('bfv-8192')
  const coordinator = await ident()
  const keyholder = await ident()
  const nodes = await Promise.all(Array.from({ length: n }, () => ident()))
  const keys = generateKeys(ctx)
  const announcement = await announceKey(keyholder, 'key-1', keys)
  const manifest: FederationManifest = {
    federation: 'he-test',
    version: 1,
    members: [
      { org: 'coord', peerId: coordinator.peerId, multiaddrs: [], roles: ['coordinator'] },
      { org: 'kh', peerId: keyholder.peerId, multiaddrs: [], roles: ['keyholder'] },
      ...nodes.map((x, i) => ({ org: `n${i}`, peerId: x.peerId, multiaddrs: [], roles: ['node' as const] }))
    ]
  }
  const rolesOf = (peer: string) => manifest.members.find((m) => m.peerId === peer)?.roles ?? []
  return { ctx, keys, announcement, coordinator, keyholder, nodes, manifest, rolesOf, keyCache: new Map() }
}

/** A node's participant state for a world. */
export function participant(w: HeWorld, self: string, minParticipants = 2): HeAggParticipantState {
  return heAggParticipantMachine.init({
    self,
    context: w.ctx,
    rolesOf: w.rolesOf,
    pinnedFingerprint: w.announcement.keyFingerprint,
    minParticipants,
    keyCache: w.keyCache
  })
}

export interface RoundRun {
  aggregator: HeAggAggregatorState
  request: HeAggDecrypt
  inputs: Float64Array[]
  replies: HeAggSubmitReply[]
}

/** Runs submit + challenge for every node through the machines and returns the decrypt request. */
export async function runRound(
  w: HeWorld,
  opts: {
    jobId?: string
    round?: number
    length?: number
    maxAbsPerParty?: number
    minParticipants?: number
  } = {}
): Promise<RoundRun> {
  const length = opts.length ?? 20
  const params = {
    jobId: opts.jobId ?? 'job-he',
    round: opts.round ?? 1,
    context: w.ctx,
    announcement: w.announcement,
    participants: w.nodes.map((x) => x.peerId),
    length,
    maxAbsPerParty: opts.maxAbsPerParty ?? 1000,
    minParticipants: opts.minParticipants ?? 2
  }
  let agg = heAggAggregatorMachine.init(params)
  const req = submitRequest(params)
  const inputs = w.nodes.map((_, i) =>
    Float64Array.from({ length }, (_, j) => (((i + 1) * (j + 3)) % 997) - 400)
  )
  const states = w.nodes.map((x) => participant(w, x.peerId))
  const replies: HeAggSubmitReply[] = []
  for (const [i, x] of w.nodes.entries()) {
    const out = heAggParticipantMachine.step(states[i]!, {
      phase: 'submit',
      from: w.coordinator.peerId,
      request: req,
      values: inputs[i]!
    }).output
    const reply = {
      ...(out.reply as Omit<HeAggSubmitReply, 'sig'>),
      sig: await x.privateKey.sign(out.toSign!)
    }
    replies.push(reply)
    agg = heAggAggregatorMachine.step(agg, { phase: 'submit', peer: x.peerId, reply }).state
  }
  const { challenges } = heAggAggregatorMachine.step(agg, { phase: 'challenge' }).output
  for (const [i, x] of w.nodes.entries()) {
    const out = heAggParticipantMachine.step(states[i]!, {
      phase: 'challenge',
      from: w.coordinator.peerId,
      request: challenges!.get(x.peerId)!
    }).output
    const reply = {
      v: 1 as const,
      digest: (out.reply as { digest: number[] }).digest,
      sig: await x.privateKey.sign(out.toSign!)
    }
    agg = heAggAggregatorMachine.step(agg, { phase: 'digest', peer: x.peerId, reply }).state
  }
  const { decrypt } = heAggAggregatorMachine.step(agg, { phase: 'decrypt' }).output
  for (const s of states) heAggParticipantMachine.step(s, { phase: 'done', from: w.coordinator.peerId })
  return { aggregator: agg, request: decrypt!, inputs, replies }
}
