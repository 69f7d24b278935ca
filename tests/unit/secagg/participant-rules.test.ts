import { beforeAll, describe, expect, it } from 'vitest'
import { x25519Keygen } from '../../../crypto/agreement.ts'
import type {
  AdvertiseKeysRequest,
  ConsistencyCheckRequest,
  MaskedInputRequest,
  ShareKeysRequest,
  UnmaskRequest
} from '../../../protocols/secagg/messages.ts'
import { areNeighbours, roundContext } from '../../../protocols/secagg/params.ts'
import { secaggParticipantMachine } from '../../../protocols/secagg/participant.ts'
import type { ParticipantState } from '../../../protocols/secagg/participant.ts'
import { bundlePayload } from '../../../protocols/secagg/signatures.ts'
import type { DirectParty } from '../../../simulations/secagg-direct.ts'
import { makeParties, roundFixture, runUntil } from '../../helpers/secagg-fixture.ts'
import type { RoundFixture } from '../../helpers/secagg-fixture.ts'

let parties: DirectParty[]
beforeAll(async () => {
  parties = await makeParties(8)
})

/** Sparse graph: n = 8, k = 4 (5 holders per secret), t = 3. */
const sparse = (round = 1) => roundFixture({ n: 8, k: 4, t: 3, parties, round })
/** Complete graph on 5 parties (the same neighbours in every round, for replay tests). */
const complete = (round = 1) => roundFixture({ n: 5, k: 4, t: 3, parties: parties.slice(0, 5), round })

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}
function ruleOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { rule?: string }).rule
  }
  return undefined
}

const isZero = (b: Uint8Array) => b.every((x) => x === 0)

describe('advertise-keys', () => {
  it('refuses a threshold that is not more than half of a holder set', async () => {
    const f = await sparse()
    const p0 = f.ids[0]!
    const req = { ...(f.requests.get(p0) as AdvertiseKeysRequest), t: 2 }
    expect(
      codeOf(() =>
        secaggParticipantMachine.step(f.states.get(p0)!, { phase: 'advertise-keys', request: req })
      )
    ).toBe('COHORT_SECAGG_BAD_PARAMS')
  })

  it('refuses a participant list with a non-member or without me', async () => {
    const f = await sparse()
    const p0 = f.ids[0]!
    const base = f.requests.get(p0) as AdvertiseKeysRequest
    const stranger = (await makeParties(1))[0]!.peerId
    const withStranger = { ...base, participants: [...base.participants.slice(0, 7), stranger] }
    expect(
      codeOf(() =>
        secaggParticipantMachine.step(f.states.get(p0)!, { phase: 'advertise-keys', request: withStranger })
      )
    ).toBe('COHORT_SECAGG_BAD_PARAMS')
    const withoutMe = { ...base, participants: base.participants.filter((p) => p !== p0), k: 4 }
    expect(
      codeOf(() =>
        secaggParticipantMachine.step(f.states.get(p0)!, { phase: 'advertise-keys', request: withoutMe })
      )
    ).toBe('COHORT_SECAGG_BAD_PARAMS')
  })

  it('draws fresh keys and a fresh self-mask seed for every round', async () => {
    const a = await sparse(1)
    const b = await sparse(2)
    await a.deliver(a.ids[0]!)
    await b.deliver(b.ids[0]!)
    const ka = a.states.get(a.ids[0]!)!.keys!
    const kb = b.states.get(b.ids[0]!)!.keys!
    for (const field of ['cPk', 'sPk', 'b', 'sSk', 'cSk'] as const) {
      expect(Buffer.from(ka[field]).equals(Buffer.from(kb[field])), field).toBe(false)
    }
  })
})

/** A fixture at share-keys, with party 0's request, and a neighbour and a non-neighbour of party 0. */
async function atShareKeys(): Promise<{
  f: RoundFixture
  p0: string
  req: ShareKeysRequest
  nb: string
  far: string
}> {
  const f = await sparse()
  await runUntil(f, 'share-keys')
  const p0 = f.ids[0]!
  const ctx = f.agg.ctx
  const nb = f.ids.find((p) => areNeighbours(ctx, p0, p))!
  const far = f.ids.find((p) => p !== p0 && !areNeighbours(ctx, p0, p))!
  return { f, p0, req: f.requests.get(p0) as ShareKeysRequest, nb, far }
}

describe('share-keys: key bundles', () => {
  it('accepts the honest bundles', async () => {
    const { f, p0 } = await atShareKeys()
    const { output } = await f.deliver(p0)
    expect(output.reply.phase).toBe('share-keys')
  })

  it('refuses a bundle whose key the relay swapped', async () => {
    const { f, p0, req, nb } = await atShareKeys()
    const evil = x25519Keygen().publicKey
    const bundles = req.bundles.map((b) => (b.peer === nb ? { ...b, sPk: evil } : b))
    let err: { code?: string; peer?: string } = {}
    try {
      secaggParticipantMachine.step(f.states.get(p0)!, { phase: 'share-keys', request: { ...req, bundles } })
    } catch (e) {
      err = e as typeof err
    }
    expect(err.code).toBe('COHORT_SECAGG_BAD_BUNDLE')
    expect(err.peer).toBe(nb)
  })

  it('refuses a bundle for the neighbour signed by another member', async () => {
    const { f, p0, req, nb, far } = await atShareKeys()
    const farKey = parties.find((p) => p.peerId === far)!.privateKey
    const bundles = await Promise.all(
      req.bundles.map(async (b) =>
        b.peer === nb
          ? { ...b, sig: await farKey.sign(bundlePayload('job-test', 1, nb, b.cPk, b.sPk, b.aPk)) }
          : b
      )
    )
    expect(
      codeOf(() =>
        secaggParticipantMachine.step(f.states.get(p0)!, {
          phase: 'share-keys',
          request: { ...req, bundles }
        })
      )
    ).toBe('COHORT_SECAGG_BAD_BUNDLE')
  })

  it("refuses a neighbour's genuine bundle replayed from an earlier round", async () => {
    const old = await complete(1)
    await runUntil(old, 'share-keys')
    const f = await complete(2)
    await runUntil(f, 'share-keys')
    const p0 = f.ids[0]!
    const req = f.requests.get(p0) as ShareKeysRequest
    const nb = req.bundles.find((b) => b.peer !== p0)!.peer
    const stale = (old.requests.get(p0) as ShareKeysRequest).bundles.find((b) => b.peer === nb)!
    const bundles = req.bundles.map((b) => (b.peer === nb ? stale : b))
    expect(
      codeOf(() =>
        secaggParticipantMachine.step(f.states.get(p0)!, {
          phase: 'share-keys',
          request: { ...req, bundles }
        })
      )
    ).toBe('COHORT_SECAGG_BAD_BUNDLE')
  })

  it("refuses a non-neighbour's bundle, even validly signed", async () => {
    const { f, p0, req, far } = await atShareKeys()
    const farBundle = f.agg.bundles.get(far)!
    expect(
      codeOf(() =>
        secaggParticipantMachine.step(f.states.get(p0)!, {
          phase: 'share-keys',
          request: { ...req, bundles: [...req.bundles, farBundle] }
        })
      )
    ).toBe('COHORT_SECAGG_BAD_BUNDLE')
  })

  it('refuses a public key used twice in the round (a member copying a neighbour key)', async () => {
    const { f, p0, req } = await atShareKeys()
    const [a, b] = req.bundles.filter((x) => x.peer !== p0)
    const copier = parties.find((p) => p.peerId === b!.peer)!.privateKey
    const copied = {
      ...b!,
      sPk: a!.sPk,
      sig: await copier.sign(bundlePayload('job-test', 1, b!.peer, b!.cPk, a!.sPk, b!.aPk))
    }
    const bundles = req.bundles.map((x) => (x.peer === b!.peer ? copied : x))
    expect(
      codeOf(() =>
        secaggParticipantMachine.step(f.states.get(p0)!, {
          phase: 'share-keys',
          request: { ...req, bundles }
        })
      )
    ).toBe('COHORT_SECAGG_BAD_BUNDLE')
  })

  it('refuses my own bundle coming back altered', async () => {
    const { f, p0, req } = await atShareKeys()
    const bundles = req.bundles.map((b) => (b.peer === p0 ? { ...b, cPk: x25519Keygen().publicKey } : b))
    expect(
      codeOf(() =>
        secaggParticipantMachine.step(f.states.get(p0)!, {
          phase: 'share-keys',
          request: { ...req, bundles }
        })
      )
    ).toBe('COHORT_SECAGG_BAD_BUNDLE')
  })

  it('refuses to share with fewer than t - 1 neighbours', async () => {
    const { f, p0, req } = await atShareKeys()
    const bundles = req.bundles
      .filter((b) => b.peer === p0)
      .concat(req.bundles.filter((b) => b.peer !== p0).slice(0, 1))
    expect(
      codeOf(() =>
        secaggParticipantMachine.step(f.states.get(p0)!, {
          phase: 'share-keys',
          request: { ...req, bundles }
        })
      )
    ).toBe('COHORT_SECAGG_BELOW_THRESHOLD')
  })
})

describe('masked-input: encrypted shares', () => {
  it('refuses a genuine share replayed from an earlier round', async () => {
    const old = await complete(1)
    await runUntil(old, 'masked-input')
    const f = await complete(2)
    await runUntil(f, 'masked-input')
    const p0 = f.ids[0]!
    const req = f.requests.get(p0) as MaskedInputRequest
    const src = req.shares[0]!.src
    const stale = (old.requests.get(p0) as MaskedInputRequest).shares.find((s) => s.src === src)!
    const shares = req.shares.map((s) => (s.src === src ? stale : s))
    let err: { code?: string; peer?: string } = {}
    try {
      secaggParticipantMachine.step(f.states.get(p0)!, f.inputFor(p0, { ...req, shares }))
    } catch (e) {
      err = e as typeof err
    }
    expect(err.code).toBe('COHORT_SECAGG_BAD_SHARE')
    expect(err.peer).toBe(src)
  })

  it('refuses a share addressed to another party (misrouted by the relay)', async () => {
    const f = await complete()
    await runUntil(f, 'masked-input')
    const [p0, p1] = [...f.requests.keys()]
    const req = f.requests.get(p0!) as MaskedInputRequest
    const other = (f.requests.get(p1!) as MaskedInputRequest).shares.find((s) =>
      req.shares.some((x) => x.src === s.src)
    )!
    const shares = req.shares.map((s) => (s.src === other.src ? other : s))
    expect(
      codeOf(() => secaggParticipantMachine.step(f.states.get(p0!)!, f.inputFor(p0!, { ...req, shares })))
    ).toBe('COHORT_SECAGG_BAD_SHARE')
  })

  it('refuses an altered share and a share from an unknown sender', async () => {
    const f = await sparse()
    await runUntil(f, 'masked-input')
    const p0 = f.ids[0]!
    const req = f.requests.get(p0) as MaskedInputRequest
    const flipped = req.shares.map((s, i) =>
      i === 0 ? { ...s, sealed: s.sealed.map((b, j) => (j === 40 ? b ^ 1 : b)) } : s
    )
    expect(
      codeOf(() =>
        secaggParticipantMachine.step(f.states.get(p0)!, f.inputFor(p0, { ...req, shares: flipped }))
      )
    ).toBe('COHORT_SECAGG_BAD_SHARE')
    const f2 = await sparse()
    await runUntil(f2, 'masked-input')
    const req2 = f2.requests.get(p0) as MaskedInputRequest
    const far = f2.ids.find((p) => p !== p0 && !areNeighbours(f2.agg.ctx, p0, p))!
    const shares = [...req2.shares, { src: far, sealed: req2.shares[0]!.sealed }]
    expect(
      codeOf(() => secaggParticipantMachine.step(f2.states.get(p0)!, f2.inputFor(p0, { ...req2, shares })))
    ).toBe('COHORT_SECAGG_BAD_SHARE')
  })

  it('refuses an input vector of the wrong length', async () => {
    const f = await sparse()
    await runUntil(f, 'masked-input')
    const p0 = f.ids[0]!
    const req = f.requests.get(p0) as MaskedInputRequest
    expect(
      codeOf(() =>
        secaggParticipantMachine.step(f.states.get(p0)!, {
          phase: 'masked-input',
          request: req,
          input: new Uint32Array(15)
        })
      )
    ).toBe('COHORT_SECAGG_VECTOR_LENGTH')
  })

  it('zeroes its key pairs and self-mask seed once the masked input is computed', async () => {
    const f = await sparse()
    await runUntil(f, 'masked-input')
    const p0 = f.ids[0]!
    const keys = f.states.get(p0)!.keys!
    await f.deliver(p0)
    expect(isZero(keys.cSk) && isZero(keys.sSk) && isZero(keys.b)).toBe(true)
    expect(f.states.get(p0)!.aeadKeys.size).toBe(0)
  })
})

describe('consistency-check', () => {
  it('refuses a survivor set without me, or below t', async () => {
    const f = await sparse()
    await runUntil(f, 'consistency-check')
    const p0 = f.ids[0]!
    const req = f.requests.get(p0)!
    if (req.phase !== 'consistency-check') throw new Error('fixture')
    const state = f.states.get(p0)!
    expect(
      codeOf(() =>
        secaggParticipantMachine.step(state, {
          phase: 'consistency-check',
          request: { ...req, survivors: req.survivors.filter((p) => p !== p0) }
        })
      )
    ).toBe('COHORT_SECAGG_INCONSISTENT')
    expect(
      codeOf(() =>
        secaggParticipantMachine.step(state, {
          phase: 'consistency-check',
          request: { ...req, survivors: [p0, req.survivors.find((p) => p !== p0)!] }
        })
      )
    ).toBe('COHORT_SECAGG_BELOW_THRESHOLD')
  })
})

/** A sparse round where one neighbour of party 0 drops before sending its masked input. */
/**
 * The unmask request with one signer's entry (a neighbour's, which carries a pair MAC) tampered:
 * its MAC, its signature, both, or its MAC removed and its signature forged.
 */
function tamperEntry(
  req: UnmaskRequest,
  self: string,
  which: 'mac' | 'sig' | 'both' | 'sig-no-mac'
): UnmaskRequest {
  const other = req.signatures.find((s) => s.peer !== self && s.mac !== undefined)!.peer
  const flip = (b: Uint8Array) => b.map((x, j) => (j === 0 ? x ^ 1 : x))
  return {
    ...req,
    signatures: req.signatures.map((s) => {
      if (s.peer !== other) return s
      const { mac, ...rest } = s
      if (which === 'sig-no-mac') return { ...rest, sig: flip(s.sig) }
      return {
        ...rest,
        mac: which === 'sig' ? mac! : flip(mac!),
        sig: which === 'mac' ? s.sig : flip(s.sig)
      }
    })
  }
}

async function atUnmask(): Promise<{
  f: RoundFixture
  p0: string
  req: UnmaskRequest
  state: ParticipantState
  lost: string
}> {
  const f = await sparse()
  await runUntil(f, 'masked-input')
  const p0 = f.ids[0]!
  const lost = (f.requests.get(p0) as MaskedInputRequest).shares[0]!.src
  await f.deliverAll(new Set([lost]))
  f.advance()
  await runUntil(f, 'unmask')
  const req = f.requests.get(p0) as UnmaskRequest
  return { f, p0, req, state: f.states.get(p0)!, lost }
}

describe('unmask: the rules a malicious coordinator would need to break', () => {
  it('releases b-shares of survivors and key shares of dropped neighbours, then zeroes everything', async () => {
    const { f, p0, req, state, lost } = await atUnmask()
    expect(req.dropped).toEqual([lost])
    const held = [...state.held.values()]
    const { output } = await f.deliver(p0)
    if (output.reply.phase !== 'unmask') throw new Error('expected an unmask reply')
    expect(output.reply.selfShares.map((s) => s.owner).sort()).toEqual([...req.survivors].sort())
    expect(output.reply.keyShares.map((s) => s.owner)).toEqual([lost])
    expect(held.every((h) => isZero(h.b) && isZero(h.s))).toBe(true)
    expect(f.states.get(p0)!.phase).toBe('done')
    expect(output.audit.map((a) => a.kind)).toEqual(['secagg-unmask', 'secagg-done'])
  })

  it('refuses overlapping survivor and dropped lists', async () => {
    const { req, state } = await atUnmask()
    const bad = { ...req, dropped: [...req.dropped, req.survivors.find((p) => p !== state.self)!] }
    expect(ruleOf(() => secaggParticipantMachine.step(state, { phase: 'unmask', request: bad }))).toBe(
      'overlap'
    )
  })

  it('refuses non-neighbours and myself as dropped', async () => {
    const { f, req, state } = await atUnmask()
    const far = f.ids.find((p) => p !== state.self && !areNeighbours(f.agg.ctx, state.self, p))!
    expect(
      ruleOf(() =>
        secaggParticipantMachine.step(state, {
          phase: 'unmask',
          request: { ...req, survivors: [...req.survivors, far] }
        })
      )
    ).toBe('not-neighbour')
    expect(
      ruleOf(() =>
        secaggParticipantMachine.step(state, {
          phase: 'unmask',
          request: { ...req, dropped: [...req.dropped, far] }
        })
      )
    ).toBe('not-neighbour')
    const meDropped = {
      ...req,
      survivors: req.survivors.filter((p) => p !== state.self),
      dropped: [...req.dropped, state.self]
    }
    expect(ruleOf(() => secaggParticipantMachine.step(state, { phase: 'unmask', request: meDropped }))).toBe(
      'not-neighbour'
    )
  })

  it('refuses lists that contradict the survivor set it signed', async () => {
    const { req, state, lost } = await atUnmask()
    const claimAlive = { ...req, survivors: [...req.survivors, lost], dropped: [] }
    expect(ruleOf(() => secaggParticipantMachine.step(state, { phase: 'unmask', request: claimAlive }))).toBe(
      'inconsistent'
    )
    const victim = req.survivors.find((p) => p !== state.self)!
    const claimDead = {
      ...req,
      survivors: req.survivors.filter((p) => p !== victim),
      dropped: [...req.dropped, victim]
    }
    expect(ruleOf(() => secaggParticipantMachine.step(state, { phase: 'unmask', request: claimDead }))).toBe(
      'inconsistent'
    )
  })

  it('refuses fewer than t survivors', async () => {
    const { req, state } = await atUnmask()
    const few = { ...req, survivors: req.survivors.slice(0, 2) }
    expect(ruleOf(() => secaggParticipantMachine.step(state, { phase: 'unmask', request: few }))).toBe(
      'below-threshold'
    )
  })

  it('refuses missing, forged or foreign consistency signatures', async () => {
    const { f, req, state, lost } = await atUnmask()
    const none = { ...req, signatures: [] }
    expect(ruleOf(() => secaggParticipantMachine.step(state, { phase: 'unmask', request: none }))).toBe(
      'signatures'
    )
    const forged = tamperEntry(req, state.self, 'both')
    const forgedNoMac = tamperEntry(req, state.self, 'sig-no-mac')
    for (const bad of [forged, forgedNoMac]) {
      expect(ruleOf(() => secaggParticipantMachine.step(state, { phase: 'unmask', request: bad }))).toBe(
        'signatures'
      )
    }
    const foreign = { ...req, signatures: [...req.signatures, { peer: lost, sig: req.signatures[0]!.sig }] }
    expect(ruleOf(() => secaggParticipantMachine.step(state, { phase: 'unmask', request: foreign }))).toBe(
      'signatures'
    )
    expect(f.ids.length).toBe(8)
  })

  it('counts a signer by its pair MAC or, failing that, its signature: one forged is harmless', async () => {
    const checks: Record<string, number | undefined> = {}
    for (const which of ['none', 'mac', 'sig'] as const) {
      const { req, state } = await atUnmask()
      const request = which === 'none' ? req : tamperEntry(req, state.self, which)
      const { output } = secaggParticipantMachine.step(state, { phase: 'unmask', request })
      expect(output.reply.phase).toBe('unmask')
      checks[which] = output.stats.signatureChecks
    }
    // Signers that are not my neighbours (sparse graph) have no pair key with me: signatures.
    expect(checks.mac).toBe(checks.none! + 1)
    expect(checks.sig).toBe(checks.none)
  })

  it('refuses an equivocating coordinator: too few neighbours signed the set that calls a live peer dropped', async () => {
    const f = await complete()
    await runUntil(f, 'consistency-check')
    const [victim, target, ally, ...others] = f.ids
    const req = f.requests.get(victim!) as ConsistencyCheckRequest
    const without = req.survivors.filter((p) => p !== target)
    // Two parties are shown S' (target dropped), the rest the true S.
    const sigs: Array<{ peer: string; sig: Uint8Array }> = []
    for (const p of [victim!, ally!]) {
      const { reply } = await f.deliver(p, { ...req, survivors: without })
      if (reply.phase === 'consistency-check') sigs.push({ peer: p, sig: reply.sig })
    }
    for (const p of [target!, ...others]) await f.deliver(p)
    const state = f.states.get(victim!)!
    expect(state.signedSurvivors).toEqual(without)
    const unmask: UnmaskRequest = {
      v: 1,
      jobId: 'job-test',
      round: 1,
      phase: 'unmask',
      survivors: without,
      dropped: [target!],
      signatures: sigs
    }
    // Only 2 of target's 5 holders signed S'; t = 3 are needed, and 2t > 5 means S (signed by the
    // other 3) and S' can never both reach t.
    expect(ruleOf(() => secaggParticipantMachine.step(state, { phase: 'unmask', request: unmask }))).toBe(
      'signatures'
    )
  })

  it('never reveals both secrets of one peer', async () => {
    const { req, state, lost } = await atUnmask()
    const victim = req.survivors.find((p) => p !== state.self)!
    const s1 = { ...state, revealedKey: new Set([victim]) }
    expect(ruleOf(() => secaggParticipantMachine.step(s1, { phase: 'unmask', request: req }))).toBe(
      'double-reveal'
    )
    const s2 = { ...state, revealedSelf: new Set([lost]) }
    expect(ruleOf(() => secaggParticipantMachine.step(s2, { phase: 'unmask', request: req }))).toBe(
      'double-reveal'
    )
  })

  it('zeroes every secret when the round aborts', async () => {
    const { state } = await atUnmask()
    const held = [...state.held.values()]
    expect(held.some((h) => !isZero(h.b))).toBe(true)
    const r = secaggParticipantMachine.step(state, {
      phase: 'aborted',
      request: { v: 1, jobId: 'job-test', round: 1, phase: 'aborted', reason: 'test' }
    })
    expect(r.state.phase).toBe('aborted')
    expect(held.every((h) => isZero(h.b) && isZero(h.s))).toBe(true)
    expect(r.output.audit[0]!.kind).toBe('secagg-aborted')
  })
})

describe('round parameters', () => {
  it('computes the same graph on both sides and binds it to the round', async () => {
    const f = await sparse()
    const ctx = f.agg.ctx
    const again = roundContext({ ...ctx, participants: [...ctx.participants] })
    for (let i = 0; i < ctx.n; i++) expect(again.graph.neighbours(i)).toEqual(ctx.graph.neighbours(i))
    const other = roundContext({ ...ctx, participants: [...ctx.participants], round: ctx.round + 1 })
    const differs = Array.from({ length: ctx.n }, (_, i) => i).some(
      (i) => other.graph.neighbours(i).join() !== ctx.graph.neighbours(i).join()
    )
    expect(differs).toBe(true)
  })
})
