/**
 * Pair MACs (protocols/secagg/pair-auth.ts) through the real participant runners over loopback: the
 * first round of a runner pair is authenticated by identity signatures, later rounds by MACs, and
 * a coordinator that strips or corrupts MACs only sends the participants back to signatures.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ringAddInPlace, ringZeros } from '../../crypto/ring.ts'
import { runSecaggRound } from '../../coordinator/secagg/run-round.ts'
import type { SecaggRoundResult } from '../../coordinator/secagg/run-round.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import { decodeSecaggRequest, encodeSecagg } from '../../protocols/secagg/messages.ts'
import type { ParticipantStats } from '../../protocols/secagg/participant.ts'
import type { LinkEvent } from '../../simulations/loopback-transport.ts'
import { createSecaggFederation } from '../../simulations/secagg-federation.ts'
import type { SecaggFederation } from '../../simulations/secagg-federation.ts'

let fed: SecaggFederation | undefined
afterEach(async () => {
  await fed?.close()
  fed = undefined
})

type Checks = Record<'share-keys' | 'unmask', { mac: number; signature: number }>
type Tamper = (e: LinkEvent, bytes: Uint8Array) => Uint8Array

/** A federation of n whose runners report, per round, how each peer message was authenticated. */
async function federation(n: number, authKeyTtlMs?: number) {
  let checks: Checks = fresh()
  let tamper: Tamper | undefined
  const onStats = (phase: string, s: ParticipantStats) => {
    if (phase !== 'share-keys' && phase !== 'unmask') return
    checks[phase].mac += s.macChecks ?? 0
    checks[phase].signature += s.signatureChecks ?? 0
  }
  const f = await createSecaggFederation({
    parties: n,
    d: 40,
    seed: 'pair-auth',
    runner: { onStats, ...(authKeyTtlMs === undefined ? {} : { authKeyTtlMs }) },
    hooks: { tamper: (e, bytes) => tamper?.(e, bytes) ?? bytes }
  })
  fed = f
  const ids = f.parties.map((p) => p.identity.peerId)
  let next = 1
  async function round(t?: Tamper): Promise<{ checks: Checks; result: SecaggRoundResult }> {
    checks = fresh()
    tamper = t
    const result = await runSecaggRound(f.coordinator.transport, {
      // A fresh id per sum, as coordinator/jobs/runtime.ts secaggIdFor does.
      jobId: `job-pair-auth/fit/${next}`,
      round: next++,
      participants: ids,
      t: Math.floor(n / 2) + 1,
      k: n - 1,
      d: 40
    })
    tamper = undefined
    return { checks, result }
  }
  return { f, ids, round }
}

function fresh(): Checks {
  return { 'share-keys': { mac: 0, signature: 0 }, unmask: { mac: 0, signature: 0 } }
}

function expectExactSum(f: SecaggFederation, r: SecaggRoundResult) {
  const expected = ringZeros(r.sum.length, 32)
  for (const s of r.survivors) ringAddInPlace(expected, f.inputs.get(s)!, 32)
  expect(
    Buffer.from(r.sum.buffer, r.sum.byteOffset, r.sum.byteLength).equals(Buffer.from(expected.buffer))
  ).toBe(true)
}

/** Rewrites every share-keys request: `change` gets each relayed bundle. */
function onShareKeys(change: (b: { mac?: Uint8Array; sig: Uint8Array }) => object): Tamper {
  return (e, bytes) => {
    if (e.protocol !== PROTOCOLS.secagg || e.direction !== 'request') return bytes
    const req = decodeSecaggRequest(bytes)
    if (req.phase !== 'share-keys') return bytes
    return encodeSecagg({ ...req, bundles: req.bundles.map((b) => ({ ...b, ...change(b) })) })
  }
}

const flip = (b: Uint8Array) => b.map((x, i) => (i === 0 ? x ^ 1 : x))

describe('secagg pair MACs through the participant runners', () => {
  it('replace every neighbour signature check after the first round, with exact sums', async () => {
    const n = 6
    const { f, round } = await federation(n)
    const first = await round()
    expectExactSum(f, first.result)
    // Round 1: every bundle by signature (nobody knows anybody's auth key yet).
    expect(first.checks['share-keys']).toEqual({ mac: 0, signature: n * (n - 1) })
    for (let i = 0; i < 2; i++) {
      const later = await round()
      expectExactSum(f, later.result)
      expect(later.checks['share-keys']).toEqual({ mac: n * (n - 1), signature: 0 })
      expect(later.checks.unmask.signature).toBe(0)
      expect(later.checks.unmask.mac).toBeGreaterThan(0)
    }
  })

  it('fall back to signatures when the auth key rotates every round', async () => {
    const n = 5
    const { f, round } = await federation(n, 0)
    await round()
    const second = await round()
    expectExactSum(f, second.result)
    expect(second.checks['share-keys']).toEqual({ mac: 0, signature: n * (n - 1) })
  })

  it('survive a coordinator that strips or corrupts the MACs: signatures decide', async () => {
    const n = 5
    const { f, round } = await federation(n)
    await round()
    const stripped = await round(onShareKeys(({ mac: _mac, ...rest }) => ({ ...rest, mac: undefined })))
    expectExactSum(f, stripped.result)
    expect(stripped.checks['share-keys']).toEqual({ mac: 0, signature: n * (n - 1) })
    const corrupted = await round(onShareKeys((b) => (b.mac === undefined ? {} : { mac: flip(b.mac) })))
    expectExactSum(f, corrupted.result)
    // Each party's own bundle comes back without a MAC; every neighbour's MAC fails, so its signature is checked.
    expect(corrupted.checks['share-keys']).toEqual({ mac: 0, signature: n * (n - 1) })
  })

  it('refuse a bundle whose MAC and signature are both forged: the victim leaves the round', async () => {
    const n = 5
    const { f, ids, round } = await federation(n)
    await round()
    const victim = ids[1]!
    const forged: Tamper = (e, bytes) =>
      e.to === victim
        ? onShareKeys((b) => (b.mac === undefined ? {} : { mac: flip(b.mac), sig: flip(b.sig) }))(e, bytes)
        : bytes
    const r = await round(forged)
    expect(r.result.survivors).not.toContain(victim)
    expectExactSum(f, r.result)
    const refused = []
    for await (const entry of f.parties[1]!.audit.entries())
      if (entry.kind === 'secagg-refused') refused.push(entry)
    expect(refused.length).toBe(1)
  })
})
