/**
 * The aggregator's last two advances: building the unmask requests, and removing the masks.
 *
 * Before asking anyone to unmask, the aggregator checks that every secret it will need can be
 * rebuilt from the parties that signed the survivor set: b_u for every u ∈ U3 and s_sk_v for every
 * dropped v some survivor masked with (Bell et al. 2020: a dropped party's pair masks are removed
 * only towards its neighbours). If one cannot, the round aborts before any share is revealed.
 *
 * Removal (Bonawitz et al. 2017 §4, Round 4 at the server):
 *   z = Σ_{u∈U3} y_u − Σ_{u∈U3} PRG(b_u) − Σ_{v dropped} Σ_{u∈U3, v∈M(u)} Δ_uv · PRG(s_uv)
 * where s_uv is re-derived from the rebuilt s_sk_v and u's advertised s_pk. Each rebuilt s_sk_v is
 * checked against v's signed s_pk, and a wrong share set fails shamir's range check, so a
 * participant that reveals garbage makes the round fail loudly instead of returning a wrong sum.
 * Lagrange coefficients are computed once per holder set and reused (complete graph: once).
 */
import { x25519Objects, x25519PrivateKeyObject, x25519PublicKey } from '../../crypto/agreement.ts'
import type { CohortError } from '../../crypto/cohort-error.ts'
import { isCohortError } from '../../crypto/cohort-error.ts'
import { makeCombiner } from '../../crypto/shamir.ts'
import type { Combiner, Share } from '../../crypto/shamir.ts'
import type { PeerRef } from '../transport.ts'
import type { AggregatorResult, AggregatorState } from './aggregator-state.ts'
import { SecaggBelowThresholdError, SecaggReconstructionError } from './errors.ts'
import { applyMasks, maskSign, pairSeed, wipe, zeroVector } from './masking.ts'
import type { Mask } from './masking.ts'
import type { SecaggRequest } from './messages.ts'
import { byIndex, indexOf } from './params.ts'

/** Parties dropped after sharing keys whose pair masks some survivor added: v ∈ M(u) \ U3, u ∈ U3. */
function droppedToRecover(state: AggregatorState): Set<PeerRef> {
  const out = new Set<PeerRef>()
  for (const u of state.u3) for (const v of state.maskedWith.get(u)!) if (!state.u3.has(v)) out.add(v)
  return out
}

/**
 * The unmask requests for every signer, or the error that aborts the round when some needed
 * secret has fewer than t holders among the signers (nothing has been revealed at that point).
 *
 * @example
 * const out = unmaskRequests(state)
 */
export function unmaskRequests(state: AggregatorState): Map<PeerRef, SecaggRequest> | CohortError {
  const { ctx } = state
  const signers = byIndex(ctx, state.signatures.keys())
  const dropped = droppedToRecover(state)
  const holders = new Map<PeerRef, number>()
  const bump = (p: PeerRef) => holders.set(p, (holders.get(p) ?? 0) + 1)
  for (const z of signers) {
    bump(z)
    for (const v of state.maskedWith.get(z)!) bump(v)
  }
  for (const owner of [...state.u3, ...dropped]) {
    const have = holders.get(owner) ?? 0
    if (have < ctx.t) {
      return new SecaggBelowThresholdError(
        `only ${have} live holders of the shares of ${owner}; the threshold is ${ctx.t}; the round is aborted before unmasking`
      )
    }
  }
  const out = new Map<PeerRef, SecaggRequest>()
  for (const z of signers) {
    const mine = [z, ...state.maskedWith.get(z)!]
    const survivors = byIndex(
      ctx,
      mine.filter((p) => state.u3.has(p))
    )
    const lost = byIndex(
      ctx,
      mine.filter((p) => dropped.has(p))
    )
    state.unmaskLists.set(z, { survivors: new Set(survivors), dropped: new Set(lost) })
    const signatures = enoughSignatures(state, signers, [...survivors, ...lost]).map((peer) => {
      const sig = state.signatures.get(peer)!
      const mac = state.consistencyMacs.get(peer)?.get(z)
      return mac === undefined ? { peer, sig } : { peer, sig, mac }
    })
    out.set(z, {
      v: 1,
      jobId: ctx.jobId,
      round: ctx.round,
      phase: 'unmask',
      survivors,
      dropped: lost,
      signatures
    })
  }
  return out
}

/**
 * The consistency signatures one unmask request carries: in index order, a signer is taken while
 * some named peer it holds shares of still has fewer than t signers among its holders. The
 * participant needs t per named peer (participant-unmask.ts rule 5), and each one it is sent costs
 * it an Ed25519 verification (or a pair-MAC check); on the complete graph this is the first t
 * signers instead of all.
 * Every named peer has >= t live holders among the signers (checked above), so t are always found.
 */
function enoughSignatures(state: AggregatorState, signers: readonly PeerRef[], named: readonly PeerRef[]) {
  const { ctx } = state
  const holders = named.map((w) => new Set(ctx.graph.holders(indexOf(ctx, w))))
  const count = new Array<number>(named.length).fill(0)
  const out: PeerRef[] = []
  for (const peer of signers) {
    const h = indexOf(ctx, peer)
    let useful = false
    for (let i = 0; i < named.length; i++) if (count[i]! < ctx.t && holders[i]!.has(h)) useful = true
    if (!useful) continue
    out.push(peer)
    for (let i = 0; i < named.length; i++) if (holders[i]!.has(h)) count[i]!++
    if (count.every((c) => c >= ctx.t)) break
  }
  return out
}

/** Rebuilds one secret from the t lowest-x shares, reusing coefficients per holder set. */
function rebuild(
  shares: Share[] | undefined,
  t: number,
  combiners: Map<string, Combiner>,
  owner: PeerRef,
  kind: string
) {
  if (shares === undefined || shares.length < t) {
    throw new SecaggBelowThresholdError(
      `only ${shares?.length ?? 0} ${kind} shares of ${owner} were revealed; the threshold is ${t}`
    )
  }
  const chosen = [...shares].sort((a, b) => a.x - b.x).slice(0, t)
  const key = chosen.map((s) => s.x).join(',')
  let c = combiners.get(key)
  if (c === undefined) {
    c = makeCombiner(chosen.map((s) => s.x))
    combiners.set(key, c)
  }
  try {
    return c.combine(chosen)
  } catch (err) {
    if (isCohortError(err))
      throw new SecaggReconstructionError(`the ${kind} shares of ${owner} do not rebuild a secret`)
    throw err
  }
}

/**
 * Rebuilds the secrets from the revealed shares, removes every mask and returns the sum; aborts
 * when a secret cannot be rebuilt.
 *
 * @example
 * const { output } = finishRound(state) // output.kind === 'result'
 */
export function finishRound(state: AggregatorState): AggregatorResult {
  const { ctx } = state
  const t0 = performance.now()
  const combiners = new Map<string, Combiner>()
  const masks: Mask[] = []
  const secrets: Uint8Array[] = []
  let shamirMs = 0
  let pairAgreementMs = 0
  let pairMasks = 0
  try {
    const t1 = performance.now()
    const survivors = byIndex(ctx, state.u3)
    for (const u of survivors) {
      const b = rebuild(state.selfShares.get(u), ctx.t, combiners, u, 'self-mask')
      secrets.push(b)
      masks.push({ seed: b, sign: -1 })
    }
    const dropped = byIndex(ctx, droppedToRecover(state))
    const keys = new Map<PeerRef, Uint8Array>()
    for (const v of dropped) {
      const sSk = rebuild(state.keyShares.get(v), ctx.t, combiners, v, 'key')
      secrets.push(sSk)
      const pk = Buffer.from(x25519PublicKey(sSk))
      if (!pk.equals(Buffer.from(state.bundles.get(v)!.sPk))) {
        throw new SecaggReconstructionError(`the rebuilt key of ${v} does not match its signed public key`)
      }
      keys.set(v, sSk)
    }
    shamirMs = performance.now() - t1
    const t2 = performance.now()
    for (const v of dropped) {
      const sk = x25519PrivateKeyObject(keys.get(v)!)
      const vi = indexOf(ctx, v)
      for (const u of survivors) {
        if (!state.maskedWith.get(u)!.includes(v)) continue
        const ss = x25519Objects(sk, state.bundles.get(u)!.sPk)
        // u added Δ_uv · PRG(s_uv); subtract exactly that.
        masks.push({
          seed: pairSeed(ss, { jobId: ctx.jobId, round: ctx.round, a: u, b: v }),
          sign: maskSign(vi, indexOf(ctx, u))
        })
        wipe(ss)
        pairMasks++
      }
    }
    pairAgreementMs = performance.now() - t2
    const t3 = performance.now()
    const sum = state.sum!
    applyMasks(sum, masks, ctx.ringBits)
    const prgMs = performance.now() - t3
    state.phase = 'done'
    return {
      state,
      output: {
        kind: 'result',
        result: {
          sum,
          survivors,
          dropped: ctx.participants.filter((p) => !state.u3.has(p)),
          rejected: [...state.rejected],
          stats: {
            unmaskMs: performance.now() - t0,
            shamirMs,
            pairAgreementMs,
            prgMs,
            selfMasksRemoved: survivors.length,
            pairMasksRemoved: pairMasks
          }
        }
      }
    }
  } catch (err) {
    if (!isCohortError(err)) throw err
    state.phase = 'aborted'
    zeroVector(state.sum)
    const notify = ctx.participants.filter((p) => !state.finished.has(p))
    return { state, output: { kind: 'aborted', error: err, notify } }
  } finally {
    for (const m of masks) wipe(m.seed)
    for (const s of secrets) wipe(s)
  }
}
