import { decodeSum } from '../../crypto/quantize.ts'
import { minimumThreshold } from '../../protocols/secagg/neighbours.ts'
import { SECAGG_PHASES } from '../../protocols/secagg/phases.ts'
import type { PeerRef } from '../../protocols/transport.ts'
import { HE_MAX_ABS_PER_PARTY, noiseReserve } from '../../protocols/training/quantisation.ts'
import { bytesToF64 } from '../../protocols/training/wire.ts'
import { runHeAggRound } from '../he-agg/run-round.ts'
import { runSecaggRound } from '../secagg/run-round.ts'
import { TooFewParticipantsError } from './errors.ts'
import type { JobRuntime } from './runtime.ts'

/**
 * The secure sum of the summands the ready nodes stashed: a SecAgg+ round over them (or, for a
 * plaintext job, the sum of the vectors they returned), decoded from the ring to reals. Survivors
 * are the nodes whose summands are in the sum.
 */

/**
 * Parameters of one secure sum.
 * @example
 * await secureSum(rt, { secaggId, round: 3, ready, d: 28, quant, ... })
 */
export interface SecureSumRequest {
  secaggId: string
  round: number
  /** Nodes that stashed their summand, in a stable order. */
  ready: readonly PeerRef[]
  /** Summand length. */
  d: number
  quant: { k: number; clip: number; scale: number }
  /** sigma_total of the distributed noise in the sum (ring units; 0 = none). */
  noiseSigma: number
  minParticipants: number
  secagg: { threshold: number; neighbours: 'full' | number }
  phaseMs: number
  /** Plaintext jobs: each ready node's summand. */
  plaintext?: ReadonlyMap<PeerRef, Uint8Array>
}

/**
 * The decoded sum and who is in it.
 * @example
 * const { sum, survivors } = await secureSum(rt, request)
 */
export interface SecureSumResult {
  sum: Float64Array
  survivors: PeerRef[]
  dropped: PeerRef[]
  ms: number
  /**
   * `cpuMs`, this process's CPU time over the sum (steadier than wall time on a loaded machine; in a
   * simulation it includes the nodes' work), and for SecAgg+ the wall time per phase (ms), for the
   * round record and benches.
   */
  phases?: Record<string, number>
}

/**
 * CPU time (user + system, ms) this process spent since `from` (a `process.cpuUsage()` reading).
 * @example
 * const c0 = process.cpuUsage(); work(); cpuMsSince(c0)
 */
export function cpuMsSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from)
  return (d.user + d.system) / 1000
}

/**
 * SecAgg+ parameters for n ready nodes: k neighbours (complete graph, or the job's number capped at
 * n − 1) and threshold t = max(protocol minimum, ceil(threshold · (k + 1)), minParticipants): the
 * fraction applies to a secret's holders (k + 1; all n on the complete graph), and no sum is ever
 * unmasked over fewer than minParticipants parties (what the distributed noise assumes).
 *
 * @throws TooFewParticipantsError when n < 3 or t cannot be met
 * @example
 * secaggShape(3, { threshold: 0.6, neighbours: 'full' }, 2) // { k: 2, t: 2 }
 */
export function secaggShape(
  n: number,
  cfg: { threshold: number; neighbours: 'full' | number },
  minParticipants: number
): { k: number; t: number } {
  if (n < 3) throw new TooFewParticipantsError(`secure aggregation needs at least 3 nodes, ${n} are ready`)
  const k = cfg.neighbours === 'full' ? n - 1 : Math.min(cfg.neighbours, n - 1)
  const t = Math.max(minimumThreshold(k + 1), Math.ceil(cfg.threshold * (k + 1) - 1e-9), minParticipants)
  if (t > k + 1)
    throw new TooFewParticipantsError(
      `${n} ready nodes cannot meet the threshold ${t} (minParticipants ${minParticipants})`
    )
  return { k, t }
}

/**
 * Runs the secure sum.
 *
 * @throws TooFewParticipantsError | SecaggBelowThresholdError | SecaggAbortedError
 * @example
 * const r = await secureSum(rt, { secaggId, round, ready, d, quant, noiseSigma: 0, minParticipants: 3, secagg, phaseMs })
 */
export async function secureSum(rt: JobRuntime, r: SecureSumRequest): Promise<SecureSumResult> {
  const started = performance.now()
  const cpu0 = process.cpuUsage()
  if (r.ready.length < r.minParticipants)
    throw new TooFewParticipantsError(
      `${r.ready.length} nodes are ready, the job needs at least ${r.minParticipants}`
    )
  if (rt.he !== undefined) {
    // Homomorphic: the key-holder decrypts only the sum of the ciphertexts (exact integers).
    const res = await runHeAggRound(rt.transport, {
      jobId: r.secaggId,
      round: r.round,
      participants: r.ready,
      keyholder: rt.he.keyholder,
      announcement: rt.he.announcement,
      context: rt.he.context,
      length: r.d,
      maxAbsPerParty: HE_MAX_ABS_PER_PARTY,
      minParticipants: r.minParticipants,
      deadlines: { submit: r.phaseMs, challenge: r.phaseMs, decrypt: r.phaseMs },
      audit: rt.ctx.audit,
      signal: rt.signal
    })
    const sum = res.sum.map((v) => v / r.quant.scale)
    return {
      sum,
      survivors: res.contributors,
      dropped: res.dropped,
      ms: performance.now() - started,
      phases: { cpuMs: cpuMsSince(cpu0) }
    }
  }
  if (r.plaintext !== undefined) {
    const sum = new Float64Array(r.d)
    for (const peer of r.ready) {
      const v = bytesToF64(r.plaintext.get(peer)!, r.d)
      for (let i = 0; i < r.d; i++) sum[i]! += v[i]!
    }
    return {
      sum,
      survivors: [...r.ready],
      dropped: [],
      ms: performance.now() - started,
      phases: { cpuMs: cpuMsSince(cpu0) }
    }
  }
  const { k, t } = secaggShape(r.ready.length, r.secagg, r.minParticipants)
  const deadlines = Object.fromEntries(SECAGG_PHASES.map((p) => [p, r.phaseMs]))
  const res = await runSecaggRound(rt.transport, {
    jobId: r.secaggId,
    round: r.round,
    participants: r.ready,
    t,
    k,
    ringBits: r.quant.k,
    d: r.d,
    deadlines,
    audit: rt.ctx.audit,
    signal: rt.signal
  })
  // The noise of every survivor is in the sum (more than minParticipants shares: more variance).
  const sigma = r.noiseSigma * Math.sqrt(res.survivors.length / r.minParticipants)
  const sum = decodeSum(res.sum, res.survivors.length, {
    ...r.quant,
    reserve: noiseReserve(sigma, r.quant.k)
  })
  return {
    sum,
    survivors: res.survivors,
    dropped: res.dropped,
    ms: performance.now() - started,
    phases: { ...res.timings, cpuMs: cpuMsSince(cpu0) }
  }
}
