/**
 * One SecAgg round over the loopback transport with N in-process parties, seeded inputs and a
 * dropout schedule: the engine of `cohort secagg dev-round`. Dropped parties are spread over the
 * five phases (a party dropping "at" a phase crashes when that phase's request reaches it), and the
 * unmasked sum is checked against the plaintext ring sum of the parties that survived.
 */
import { sha256 } from '../crypto/hash.ts'
import { prgExpand } from '../crypto/prg.ts'
import { ringAddInPlace, ringZeros } from '../crypto/ring.ts'
import type { RingVector } from '../crypto/ring.ts'
import { runSecaggRound } from '../coordinator/secagg/run-round.ts'
import type { SecaggDeadlines } from '../coordinator/secagg/run-round.ts'
import { decodeSecaggRequest } from '../protocols/secagg/messages.ts'
import { minimumThreshold, recommendedNeighbours } from '../protocols/secagg/neighbours.ts'
import { SECAGG_PHASES } from '../protocols/secagg/phases.ts'
import type { SecaggPhase } from '../protocols/secagg/phases.ts'
import type { PeerRef, Transport } from '../protocols/transport.ts'
import type { LoopbackNetwork } from './loopback-transport.ts'
import { createSecaggFederation } from './secagg-federation.ts'

/** Options of {@link runSecaggDevRound}. */
export interface SecaggDevRoundOptions {
  parties: number
  /** Vector length. @default 1000 */
  dim?: number
  /** Fraction of parties that drop, 0..1. @default 0 */
  dropout?: number
  /** 'plus' = SecAgg+ sparse graph, 'full' = complete graph. @default 'plus' */
  graph?: 'plus' | 'full'
  /** @default recommendedNeighbours(parties) for plus */
  k?: number
  /** @default minimumThreshold(k + 1) */
  t?: number
  /** @default 32 */
  ringBits?: number
  /** @default 'cohort-dev' */
  seed?: string
  /** One-way loopback latency. @default 0 */
  latencyMs?: number
  deadlines?: Partial<SecaggDeadlines>
}

/** What the dev round reports. */
export interface SecaggDevRoundReport {
  parties: number
  k: number
  t: number
  d: number
  ringBits: number
  graph: 'plus' | 'full'
  droppedAt: Partial<Record<SecaggPhase, number>>
  survivors: number
  sumMatches: boolean
  timings: Record<string, number>
  bytes: { total: number; perParty: number; coordinator: number }
  auditEntries: number
}

/**
 * Wraps the coordinator's transport so that a party scheduled to drop at a phase goes down when that
 * phase's request is sent to it.
 *
 * @example
 * const t = dropoutTransport(fed.coordinator.transport, fed.net, new Map([[peer, 'unmask']]))
 */
export function dropoutTransport(
  inner: Transport,
  net: LoopbackNetwork,
  plan: ReadonlyMap<PeerRef, SecaggPhase>
): Transport {
  return {
    ...inner,
    self: inner.self,
    request(peer, protocol, body, options) {
      const at = plan.get(peer)
      if (at !== undefined) {
        const phase = decodeSecaggRequest(body).phase
        if (phase === at) net.setDown(peer, true)
      }
      return inner.request(peer, protocol, body, options)
    }
  }
}

/** Deterministic choice of `count` distinct indices below n from a seed. */
function choose(n: number, count: number, seed: string): number[] {
  const words = prgExpand(
    sha256(new TextEncoder().encode(`cohort/sim-dropout/${seed}`)),
    2 * n
  ) as Uint32Array
  const idx = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = ((words[2 * i]! >>> 11) * 2 ** 32 + words[2 * i + 1]!) % (i + 1)
    ;[idx[i], idx[j]] = [idx[j]!, idx[i]!]
  }
  return idx.slice(0, count)
}

/**
 * Runs one round and checks the unmasked sum.
 *
 * @example
 * const report = await runSecaggDevRound({ parties: 100, dropout: 0.1 })
 * report.sumMatches // true
 */
export async function runSecaggDevRound(opts: SecaggDevRoundOptions): Promise<SecaggDevRoundReport> {
  const n = opts.parties
  const d = opts.dim ?? 1000
  const ringBits = opts.ringBits ?? 32
  const graph = opts.graph ?? 'plus'
  const k = graph === 'full' ? n - 1 : (opts.k ?? recommendedNeighbours(n))
  const t = opts.t ?? minimumThreshold(k + 1)
  const seed = opts.seed ?? 'cohort-dev'
  const t0 = performance.now()
  const latency = opts.latencyMs ?? 0
  const fed = await createSecaggFederation({
    parties: n,
    d,
    ringBits,
    seed,
    hooks: latency > 0 ? { latencyMs: () => latency } : {}
  })
  const setupMs = performance.now() - t0
  try {
    const ids = fed.parties.map((p) => p.identity.peerId)
    const plan = new Map<PeerRef, SecaggPhase>()
    const droppedAt: Partial<Record<SecaggPhase, number>> = {}
    choose(n, Math.round((opts.dropout ?? 0) * n), seed).forEach((i, j) => {
      const phase = SECAGG_PHASES[j % SECAGG_PHASES.length]!
      plan.set(ids[i]!, phase)
      droppedAt[phase] = (droppedAt[phase] ?? 0) + 1
    })
    const t1 = performance.now()
    const result = await runSecaggRound(dropoutTransport(fed.coordinator.transport, fed.net, plan), {
      jobId: `dev-${seed}`,
      round: 1,
      participants: ids,
      t,
      k,
      ringBits,
      d,
      deadlines: opts.deadlines
    })
    const roundMs = performance.now() - t1
    const t2 = performance.now()
    const expected: RingVector = ringZeros(d, ringBits)
    for (const s of result.survivors) ringAddInPlace(expected, fed.inputs.get(s)!, ringBits)
    const plainSumMs = performance.now() - t2
    const sumMatches = Buffer.from(expected.buffer).equals(
      Buffer.from(result.sum.buffer, result.sum.byteOffset, result.sum.byteLength)
    )
    let auditEntries = 0
    for (const p of fed.parties)
      auditEntries += (await p.audit.head())?.seq === undefined ? 0 : (await p.audit.head())!.seq + 1
    let total = 0
    for (const v of fed.net.bytesSent.values()) total += v
    const coordinatorBytes = fed.net.bytesSent.get(fed.coordinator.peerId) ?? 0
    return {
      parties: n,
      k,
      t,
      d,
      ringBits,
      graph,
      droppedAt,
      survivors: result.survivors.length,
      sumMatches,
      timings: { setupMs, roundMs, plainSumMs, ...result.timings },
      bytes: { total, coordinator: coordinatorBytes, perParty: Math.round((total - coordinatorBytes) / n) },
      auditEntries
    }
  } finally {
    await fed.close()
  }
}
