/**
 * The unmask step of the participant (Bonawitz et al. 2017, Round 4 "Unmasking", with the checks of
 * the actively secure variant). This is the step a malicious coordinator would abuse: to learn x_u
 * it needs b_u (t self-mask shares, asked for "survivors") AND the means to remove u's pair masks
 * (t key shares of u, or of the neighbours u masked with, asked for "dropped"). A participant
 * releases shares only when all of the following hold, and otherwise refuses with
 * SecaggUnmaskRefusedError (the runner audit-logs the attempt and aborts the round):
 *
 * 1. overlap: survivors ∩ dropped = ∅;
 * 2. not-neighbour: every named peer is one whose shares I hold (myself or a neighbour that shared
 *    keys with me); I am never "dropped";
 * 3. inconsistent: survivors ⊆ S and dropped ∩ S = ∅, where S is the survivor set I signed in the
 *    consistency check;
 * 4. below-threshold: |survivors| >= t;
 * 5. signatures: every signature is a valid identity signature (or carries a valid pair MAC addressed
 *    to me, pair-auth.ts: the same verdict, cheaper) of a member of S over S, and for
 *    every named peer w at least t of w's holders (neighbourhood ∪ {w}) signed S. Honest parties
 *    sign one S per round and 2t > |holders(w)|, so no other set S' that treats w differently can
 *    also carry t signatures from w's neighbourhood: all honest holders of w agree on whether w
 *    survived, and the coordinator gets at most one of w's two secrets;
 * 6. double-reveal: never both the b-share and the s_sk-share of the same peer, across requests.
 *
 * After answering, every held share is zeroed and the machine is done.
 */
import type { PeerRef } from '../transport.ts'
import { SecaggUnmaskRefusedError } from './errors.ts'
import type { RevealedShare, UnmaskRequest } from './messages.ts'
import { auditHash, holdersOf } from './params.ts'
import { wipeParticipant } from './participant-state.ts'
import type { ParticipantResult, ParticipantState } from './participant-state.ts'
import { assertTransition } from '../machine.ts'
import { PARTICIPANT_TRANSITIONS } from './phases.ts'
import { checkPairMac } from './pair-auth.ts'
import { consistencyPayload, verifyPeerSignature } from './signatures.ts'

function distinct(list: readonly PeerRef[], what: string): Set<PeerRef> {
  const set = new Set<PeerRef>()
  for (const p of list) {
    if (set.has(p))
      throw new SecaggUnmaskRefusedError('inconsistent', `${p} appears twice in the ${what} list`)
    set.add(p)
  }
  return set
}

/**
 * Handles an unmask request in phase consistency-check (see file comment for the rules).
 *
 * @example
 * const { state, output } = unmaskStep(state, request)
 */
export function unmaskStep(state: ParticipantState, req: UnmaskRequest): ParticipantResult {
  const t0 = performance.now()
  const ctx = state.ctx!
  const signed = state.signedSurvivors!
  const signedSet = new Set(signed)
  const survivors = distinct(req.survivors, 'survivor')
  const dropped = distinct(req.dropped, 'dropped')
  for (const p of dropped) {
    if (survivors.has(p)) {
      throw new SecaggUnmaskRefusedError('overlap', `${p} is listed both as a survivor and as dropped`)
    }
  }
  for (const p of survivors) {
    if (!state.held.has(p)) {
      throw new SecaggUnmaskRefusedError(
        'not-neighbour',
        `survivor ${p} is not a neighbour whose shares I hold`
      )
    }
    if (!signedSet.has(p)) {
      throw new SecaggUnmaskRefusedError('inconsistent', `survivor ${p} is not in the survivor set I signed`)
    }
  }
  for (const p of dropped) {
    if (p === state.self || !state.held.has(p)) {
      throw new SecaggUnmaskRefusedError(
        'not-neighbour',
        `dropped ${p} is not a neighbour whose shares I hold`
      )
    }
    if (signedSet.has(p)) {
      throw new SecaggUnmaskRefusedError('inconsistent', `dropped ${p} is in the survivor set I signed`)
    }
  }
  if (survivors.size < ctx.t) {
    throw new SecaggUnmaskRefusedError(
      'below-threshold',
      `only ${survivors.size} survivors; the threshold is ${ctx.t}`
    )
  }
  for (const p of survivors) {
    if (state.revealedKey.has(p)) {
      throw new SecaggUnmaskRefusedError('double-reveal', `I already revealed the key share of ${p}`)
    }
  }
  for (const p of dropped) {
    if (state.revealedSelf.has(p)) {
      throw new SecaggUnmaskRefusedError('double-reveal', `I already revealed the self-mask share of ${p}`)
    }
  }

  // Rule 5: verify only the signatures that can count for a named peer.
  const t1 = performance.now()
  const named = [...survivors, ...dropped]
  const holdersByPeer = new Map(named.map((p) => [p, holdersOf(ctx, p)]))
  const relevant = new Set<PeerRef>()
  for (const hs of holdersByPeer.values()) for (const h of hs) relevant.add(h)
  const payload = consistencyPayload(ctx.jobId, ctx.round, signed)
  const signers = new Set<PeerRef>()
  let macChecks = 0
  let signatureChecks = 0
  for (const { peer, sig, mac } of req.signatures) {
    if (signers.has(peer))
      throw new SecaggUnmaskRefusedError('signatures', `two consistency signatures by ${peer}`)
    if (!signedSet.has(peer)) {
      throw new SecaggUnmaskRefusedError('signatures', `consistency signer ${peer} is not a survivor`)
    }
    if (!relevant.has(peer)) continue
    // My own signature needs no check: `signed` is the set this state recorded when I signed it.
    if (peer !== state.self) {
      if (checkPairMac(state.auth, peer, payload, mac)) macChecks++
      else if (verifyPeerSignature(peer, payload, sig)) signatureChecks++
      else {
        throw new SecaggUnmaskRefusedError(
          'signatures',
          `the consistency signature of ${peer} does not verify`
        )
      }
    }
    signers.add(peer)
  }
  for (const [p, hs] of holdersByPeer) {
    const count = hs.filter((h) => signers.has(h)).length
    if (count < ctx.t) {
      throw new SecaggUnmaskRefusedError(
        'signatures',
        `only ${count} of the neighbours of ${p} signed the survivor set; ${ctx.t} are needed`
      )
    }
  }
  const verifyMs = performance.now() - t1

  assertTransition(PARTICIPANT_TRANSITIONS, 'unmask', 'done')
  const selfShares: RevealedShare[] = []
  const keyShares: RevealedShare[] = []
  const revealedSelf = new Set(state.revealedSelf)
  const revealedKey = new Set(state.revealedKey)
  for (const p of survivors) {
    const pair = state.held.get(p)!
    selfShares.push({ owner: p, x: pair.x, y: pair.b.slice() })
    revealedSelf.add(p)
  }
  for (const p of dropped) {
    const pair = state.held.get(p)!
    keyShares.push({ owner: p, x: pair.x, y: pair.s.slice() })
    revealedKey.add(p)
  }
  wipeParticipant(state)
  const body = {
    jobId: ctx.jobId,
    round: ctx.round,
    survivors: survivors.size,
    dropped: dropped.size,
    selfSharesReleased: selfShares.length,
    keySharesReleased: keyShares.length,
    consistencySigners: signers.size,
    listsHash: auditHash(['survivors', ...survivors, 'dropped', ...dropped])
  }
  return {
    state: { ...state, phase: 'done', keys: undefined, revealedSelf, revealedKey },
    output: {
      reply: { v: 1, jobId: ctx.jobId, round: ctx.round, phase: 'unmask', selfShares, keyShares },
      audit: [
        { kind: 'secagg-unmask', body },
        { kind: 'secagg-done', body: { jobId: ctx.jobId, round: ctx.round, secretsWiped: true } }
      ],
      stats: { totalMs: performance.now() - t0, verifyMs, macChecks, signatureChecks }
    }
  }
}
