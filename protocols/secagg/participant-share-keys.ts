/**
 * The share-keys step of the participant (Bonawitz et al. 2017, Round 1 "ShareKeys"): check the
 * neighbours' key bundles (each a neighbour's, signed by that member's identity key over
 * (jobId, round, peer, c_pk, s_pk, a_pk), or carrying a valid pair MAC from that member (pair-auth.ts),
 * every public key in the round distinct, my own bundle back
 * unaltered, at least t - 1 neighbours), derive a pairwise AEAD key with each, split b and s_sk
 * into Shamir shares and seal one pair for each neighbour.
 */
import type { KeyObject } from 'node:crypto'
import { x25519Objects } from '../../crypto/agreement.ts'
import { shareKeyFromSecret } from '../../crypto/aead.ts'
import { isCohortError } from '../../crypto/cohort-error.ts'
import { split } from '../../crypto/shamir.ts'
import type { PeerRef } from '../transport.ts'
import { SecaggBelowThresholdError, SecaggBundleError } from './errors.ts'
import { wipe } from './masking.ts'
import type { ShareKeysRequest } from './messages.ts'
import { areNeighbours, auditHash, holdersOf, xOf } from './params.ts'
import type { ParticipantResult, ParticipantState } from './participant-state.ts'
import { checkPairMac, learnPeer } from './pair-auth.ts'
import { bundlePayload, verifyPeerSignature } from './signatures.ts'
import { sealSharePair } from './shares.ts'
import type { SharePair } from './shares.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const equalBytes = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && Buffer.from(a).equals(Buffer.from(b))

/**
 * Handles the share-keys request in phase advertise-keys (see participant.ts for the rules).
 *
 * @example
 * const { state, output } = shareKeysStep(state, request)
 */
export function shareKeysStep(state: ParticipantState, req: ShareKeysRequest): ParticipantResult {
  const t0 = performance.now()
  const ctx = state.ctx!
  const keys = state.keys!
  const seenPeers = new Set<PeerRef>()
  const seenKeys = new Set<string>([hex(keys.cPk), hex(keys.sPk)])
  const accepted = new Map<PeerRef, { cPk: Uint8Array; sPk: Uint8Array }>()
  let macChecks = 0
  let signatureChecks = 0
  for (const bundle of req.bundles) {
    const peer = bundle.peer
    if (seenPeers.has(peer)) throw new SecaggBundleError(`two bundles for ${peer}`, peer)
    seenPeers.add(peer)
    if (peer === state.self) {
      if (
        !equalBytes(bundle.cPk, keys.cPk) ||
        !equalBytes(bundle.sPk, keys.sPk) ||
        !equalBytes(bundle.aPk, state.auth.aPk)
      ) {
        throw new SecaggBundleError('my own key bundle came back altered', peer)
      }
      continue
    }
    if (!areNeighbours(ctx, state.self, peer)) {
      throw new SecaggBundleError(`${peer} is not my neighbour in this round's graph`, peer)
    }
    const payload = bundlePayload(ctx.jobId, ctx.round, peer, bundle.cPk, bundle.sPk, bundle.aPk)
    // The pair MAC is a fast path to the same verdict as the signature (pair-auth.ts).
    if (checkPairMac(state.auth, peer, payload, bundle.mac, bundle.aPk)) {
      macChecks++
    } else if (verifyPeerSignature(peer, payload, bundle.sig)) {
      signatureChecks++
      learnPeer(state.auth, peer, bundle.aPk)
    } else {
      throw new SecaggBundleError(
        `the key bundle of ${peer} is not signed by that member's identity key for job ${ctx.jobId} round ${ctx.round}`,
        peer
      )
    }
    for (const key of [bundle.cPk, bundle.sPk]) {
      const h = hex(key)
      if (seenKeys.has(h))
        throw new SecaggBundleError(`a public key of ${peer} is used twice in this round`, peer)
      seenKeys.add(h)
    }
    accepted.set(peer, { cPk: bundle.cPk, sPk: bundle.sPk })
  }
  const verifyMs = performance.now() - t0
  if (accepted.size + 1 < ctx.t) {
    throw new SecaggBelowThresholdError(
      `only ${accepted.size} neighbours advertised keys; ${ctx.t - 1} are needed for threshold ${ctx.t}`
    )
  }
  const t1 = performance.now()
  const cObj = keys.cObj
  const aeadKeys = new Map<PeerRef, Uint8Array>()
  try {
    for (const [peer, pk] of accepted) {
      const ss = agreeWithPeer(cObj, pk.cPk, peer)
      aeadKeys.set(peer, shareKeyFromSecret(ss))
      wipe(ss)
    }
  } catch (err) {
    for (const k of aeadKeys.values()) wipe(k)
    throw err
  }
  const t2 = performance.now()
  const holders = holdersOf(ctx, state.self)
  const bShares = split(keys.b, ctx.t, holders.length)
  const sShares = split(keys.sSk, ctx.t, holders.length)
  const t3 = performance.now()
  const ownX = xOf(ctx, state.self, state.self)
  const held = new Map<PeerRef, SharePair>([
    [state.self, { x: ownX, b: bShares[ownX - 1]!.y, s: sShares[ownX - 1]!.y }]
  ])
  const out: Array<{ dst: PeerRef; sealed: Uint8Array }> = []
  for (const peer of accepted.keys()) {
    const x = xOf(ctx, state.self, peer)
    const sealed = sealSharePair(
      aeadKeys.get(peer)!,
      { x, b: bShares[x - 1]!.y, s: sShares[x - 1]!.y },
      { jobId: ctx.jobId, round: ctx.round, src: state.self, dst: peer }
    )
    out.push({ dst: peer, sealed })
  }
  for (let i = 0; i < holders.length; i++) if (i !== ownX - 1) wipe(bShares[i]!.y, sShares[i]!.y)
  return {
    state: { ...state, phase: 'share-keys', peers: accepted, aeadKeys, held },
    output: {
      reply: { v: 1, jobId: ctx.jobId, round: ctx.round, phase: 'share-keys', shares: out },
      audit: [
        {
          kind: 'secagg-share-keys',
          body: {
            jobId: ctx.jobId,
            round: ctx.round,
            bundlesReceived: req.bundles.length,
            neighboursAccepted: accepted.size,
            sharesSent: out.length,
            bundlesHash: auditHash(req.bundles.flatMap((b) => [b.peer, b.cPk, b.sPk]))
          }
        }
      ],
      stats: {
        totalMs: performance.now() - t0,
        verifyMs,
        keyAgreementMs: t2 - t1,
        shamirMs: t3 - t2,
        macChecks,
        signatureChecks
      }
    }
  }
}

/**
 * X25519 agreement with a neighbour's advertised key; an unusable key is that neighbour's fault.
 *
 * @example
 * const ss = agreeWithPeer(keys.sObj, bundle.sPk, peer)
 */
export function agreeWithPeer(privateKey: KeyObject, peerPk: Uint8Array, peer: PeerRef): Uint8Array {
  try {
    return x25519Objects(privateKey, peerPk)
  } catch (err) {
    if (isCohortError(err))
      throw new SecaggBundleError(`the public key of ${peer} is unusable: ${err.message}`, peer)
    throw err
  }
}
