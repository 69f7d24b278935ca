import type { RingVector } from '../../crypto/ring.ts'
import { InputNotReadyError } from './errors.ts'

/**
 * Where the training participant leaves a round's quantised summand for the SecAgg participant to
 * take as its masked input: the two runners share one stash, keyed by (secagg job id, round). An
 * entry is taken once (the masked input is sent once per SecAgg round) and expires after `ttlMs`,
 * so a round that never ran does not keep its vector in memory.
 */

/**
 * The shared stash.
 * @example
 * const stash = createInputStash()
 * await registerSecaggParticipant(transport, { identity, audit, manifest, inputProvider: stash.inputProvider })
 * await registerTrainParticipant(transport, { ..., stash })
 */
export interface InputStash {
  /** `meta`: what the SecAgg participant checks the round's announcement against. */
  put(secaggId: string, round: number, vector: RingVector, meta?: StashRound): void
  /** Removes and returns the entry. @throws InputNotReadyError */
  take(secaggId: string, round: number): RingVector
  has(secaggId: string, round: number): boolean
  /** Drops every entry of a job (secagg ids `<jobId>/…`). */
  dropJob(jobId: string): void
  size(): number
  /** The SecAgg participant's `inputProvider`. */
  readonly inputProvider: (secaggId: string, round: number) => Promise<RingVector>
  /** The dataset and job minimum of a SecAgg id a summand was stashed for (kept after `take`). */
  roundOf(secaggId: string): StashRound | undefined
  /** Marks an id as an HE aggregation with the key fingerprint its job pins. */
  setHeJob(id: string, config: HeStashJob): void
  /** The he-agg participant's `jobConfig`. */
  readonly heJobConfig: (id: string) => Promise<HeStashJob | undefined>
  /** The he-agg participant's `inputProvider`: the summand as signed integers. */
  readonly heInputProvider: (id: string, round: number) => Promise<Float64Array>
}

/**
 * What the he-agg participant needs of an HE job (node/runners/he-agg-participant.ts `HeAggJobConfig`).
 * @example
 * stash.setHeJob('job-1/fit/ab12', { pinnedFingerprint, minParticipants: 3 })
 */
export interface HeStashJob {
  pinnedFingerprint: string
  minParticipants: number
}

/**
 * Whose summand a SecAgg id carries: the dataset (its policy's `minParticipants` applies) and the
 * job's own `minParticipants` (the distributed noise assumes that many parties).
 * @example
 * stash.put('job-1/fit/ab12', 3, ring, { dataset: 'credit', minParticipants: 3 })
 */
export interface StashRound {
  dataset: string
  minParticipants: number
}

/**
 * A ring vector's elements as signed integers (two's complement in Z_2^k).
 * @example
 * toSigned(new BigUint64Array([2n ** 62n - 1n]), 62) // Float64Array [-1]
 */
export function toSigned(v: RingVector, k: number): Float64Array {
  if (v instanceof BigUint64Array) return Float64Array.from(v, (x) => Number(BigInt.asIntN(k, x)))
  const half = 2 ** (k - 1)
  return Float64Array.from(v, (x) => (x >= half ? x - 2 ** k : x))
}

/**
 * Options of {@link createInputStash}.
 * @example
 * createInputStash({ ttlMs: 60_000 })
 */
export interface InputStashInit {
  /** @default 900000 (15 min) */
  ttlMs?: number
  /** Oldest entries are dropped beyond this. @default 64 */
  maxEntries?: number
}

/**
 * Creates an input stash.
 * @example
 * const stash = createInputStash()
 */
export function createInputStash(init: InputStashInit = {}): InputStash {
  const ttlMs = init.ttlMs ?? 900_000
  const maxEntries = init.maxEntries ?? 64
  const entries = new Map<string, { vector: RingVector; expires: number }>()
  const heJobs = new Map<string, HeStashJob>()
  const roundsOf = new Map<string, StashRound>()
  const key = (id: string, round: number) => `${id}\u0000${round}`
  const sweep = () => {
    const now = Date.now()
    for (const [k, e] of entries) if (e.expires <= now) entries.delete(k)
  }
  const take = (id: string, round: number): RingVector => {
    sweep()
    const k = key(id, round)
    const e = entries.get(k)
    if (e === undefined) throw new InputNotReadyError(`no input is prepared for ${id} round ${round}`)
    entries.delete(k)
    return e.vector
  }
  return {
    put(id, round, vector, meta) {
      sweep()
      const k = key(id, round)
      entries.delete(k)
      entries.set(k, { vector, expires: Date.now() + ttlMs })
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value!)
      if (meta !== undefined) {
        roundsOf.delete(id)
        roundsOf.set(id, meta)
        while (roundsOf.size > 4 * maxEntries) roundsOf.delete(roundsOf.keys().next().value!)
      }
    },
    take,
    has(id, round) {
      sweep()
      return entries.has(key(id, round))
    },
    dropJob(jobId) {
      for (const k of [...entries.keys()]) if (k.startsWith(`${jobId}/`)) entries.delete(k)
      for (const k of [...heJobs.keys()]) if (k.startsWith(`${jobId}/`)) heJobs.delete(k)
      for (const k of [...roundsOf.keys()]) if (k.startsWith(`${jobId}/`)) roundsOf.delete(k)
    },
    size() {
      sweep()
      return entries.size
    },
    inputProvider: async (id, round) => take(id, round),
    roundOf: (id) => roundsOf.get(id),
    setHeJob(id, config) {
      heJobs.delete(id)
      heJobs.set(id, config)
      while (heJobs.size > 4 * maxEntries) heJobs.delete(heJobs.keys().next().value!)
    },
    heJobConfig: async (id) => heJobs.get(id),
    // The HE quantisation (protocols/training/quantisation.ts) encodes in a 62-bit ring.
    heInputProvider: async (id, round) => toSigned(take(id, round), 62)
  }
}
