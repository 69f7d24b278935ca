/**
 * Acceptance 4: with n - t + 1 parties dropped the round aborts with COHORT_SECAGG_BELOW_THRESHOLD,
 * and nothing in the coordinator's transcript lets it rebuild any secret: it holds fewer than t
 * shares of every b_u and s_sk_u, and never shares of both for one party (Shamir with fewer than t
 * shares is perfectly hiding). Shares inside share-keys traffic are AEAD ciphertexts between
 * participants; the test counts only what the coordinator received in plaintext (unmask replies).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { combine } from '../../crypto/shamir.ts'
import { runSecaggRound } from '../../coordinator/secagg/run-round.ts'
import { decodeSecaggReply } from '../../protocols/secagg/messages.ts'
import { neighboursOf, roundContext } from '../../protocols/secagg/params.ts'
import type { SecaggPhase } from '../../protocols/secagg/phases.ts'
import { dropoutTransport } from '../../simulations/secagg-dev-round.ts'
import { createSecaggFederation } from '../../simulations/secagg-federation.ts'
import type { SecaggFederation } from '../../simulations/secagg-federation.ts'
import { recordingTransport } from '../helpers/secagg-net.ts'
import type { TranscriptEntry } from '../helpers/secagg-net.ts'

let fed: SecaggFederation | undefined
afterEach(async () => {
  await fed?.close()
  fed = undefined
})

const N = 10
const T = 6

/** Plaintext shares the coordinator received, by owner and kind. */
function revealed(log: TranscriptEntry[]) {
  const self = new Map<string, Array<{ x: number; y: Uint8Array }>>()
  const key = new Map<string, Array<{ x: number; y: Uint8Array }>>()
  for (const e of log) {
    if (e.request.phase !== 'unmask' || e.reply === undefined) continue
    const reply = decodeSecaggReply('unmask', e.reply)
    for (const s of reply.selfShares) self.set(s.owner, [...(self.get(s.owner) ?? []), s])
    for (const s of reply.keyShares) key.set(s.owner, [...(key.get(s.owner) ?? []), s])
  }
  return { self, key }
}

async function dropAndRun(phase: SecaggPhase, k = N - 1, t = T) {
  fed = await createSecaggFederation({ parties: N, d: 20, seed: `below-${phase}` })
  const ids = fed.parties.map((p) => p.identity.peerId)
  const dropped = ids.slice(0, N - t + 1)
  const log: TranscriptEntry[] = []
  const transport = dropoutTransport(
    recordingTransport(fed.coordinator.transport, log),
    fed.net,
    new Map(dropped.map((p) => [p, phase]))
  )
  const err = await runSecaggRound(transport, {
    jobId: 'job-t',
    round: 1,
    participants: ids,
    t,
    k,
    d: 20
  }).then(
    () => undefined,
    (e: { code?: string }) => e
  )
  return { err, log, ids, dropped }
}

describe(`n - t + 1 = ${N - T + 1} of ${N} parties drop (t = ${T})`, () => {
  for (const phase of ['share-keys', 'masked-input', 'consistency-check'] as const) {
    it(`at ${phase}: the round aborts before any share is revealed`, async () => {
      const { err, log, ids, dropped } = await dropAndRun(phase)
      expect(err).toMatchObject({ code: 'COHORT_SECAGG_BELOW_THRESHOLD' })
      expect(log.some((e) => e.request.phase === 'unmask')).toBe(false)
      // Survivors were told to abort: secrets zeroed, round state gone, abort audited.
      for (const p of fed!.parties) {
        if (dropped.includes(p.identity.peerId)) continue
        expect(p.handle.activeRounds()).toBe(0)
        const kinds = (await p.audit.read()).map((e) => e.kind)
        expect(kinds.at(-1)).toBe('secagg-aborted')
        expect(kinds).not.toContain('secagg-unmask')
      }
      expect(ids).toHaveLength(N)
    })
  }

  it('during unmask: the coordinator holds fewer than t shares of every secret, never both kinds', async () => {
    const { err, log, ids } = await dropAndRun('unmask')
    expect(err).toMatchObject({ code: 'COHORT_SECAGG_BELOW_THRESHOLD' })
    const { self, key } = revealed(log)
    // t - 1 parties answered unmask, each with one b-share per survivor.
    expect(log.filter((e) => e.request.phase === 'unmask' && e.reply !== undefined)).toHaveLength(T - 1)
    for (const owner of ids) {
      const b = self.get(owner) ?? []
      const s = key.get(owner) ?? []
      expect(b.length).toBeLessThan(T)
      expect(s.length).toBeLessThan(T)
      expect(b.length > 0 && s.length > 0).toBe(false)
      if (b.length > 0)
        expect(() => combine(b, T)).toThrow(expect.objectContaining({ code: 'COHORT_INSUFFICIENT_SHARES' }))
    }
  })

  it('SecAgg+ graph: a neighbourhood that falls below t aborts the round before unmask', async () => {
    // n = 12, k = 4, t = 3: three of party 0's four neighbours drop after sending their masked
    // inputs, so party 0's secrets have 2 live holders (itself and one neighbour) < t.
    fed = await createSecaggFederation({ parties: 12, d: 20, seed: 'below-plus' })
    const ids = fed.parties.map((p) => p.identity.peerId)
    const graphSeed = new Uint8Array(32).fill(5)
    const ctx = roundContext({
      jobId: 'job-p',
      round: 1,
      participants: ids,
      t: 3,
      k: 4,
      ringBits: 32,
      d: 20,
      graphSeed
    })
    const lost = neighboursOf(ctx, ids[0]!).slice(0, 3)
    const log: TranscriptEntry[] = []
    const transport = dropoutTransport(
      recordingTransport(fed.coordinator.transport, log),
      fed.net,
      new Map(lost.map((p) => [p, 'consistency-check' as const]))
    )
    const err = await runSecaggRound(transport, {
      jobId: 'job-p',
      round: 1,
      participants: ids,
      t: 3,
      k: 4,
      d: 20,
      graphSeed
    }).then(
      () => undefined,
      (e: { code?: string }) => e
    )
    expect(err).toMatchObject({ code: 'COHORT_SECAGG_BELOW_THRESHOLD' })
    expect(log.some((e) => e.request.phase === 'unmask')).toBe(false)
  })
})
