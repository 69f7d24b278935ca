/**
 * Round parameters, their validation, and the derived round context both machines work from.
 *
 * The coordinator announces (jobId, round, ordered participant list, t, k, ring bits, d, graph
 * seed). A party's index in the list fixes its mask sign (Bonawitz et al. 2017 §3: p_uv is added by
 * the lower index and subtracted by the higher) and, through the neighbour graph, the Shamir x
 * coordinates of its shares. Both sides validate with the same function, so a participant refuses
 * exactly what an honest coordinator would never send.
 *
 * Safety rule on t (checked here): 2t > max |holders| and t <= min |holders|. Each secret is split
 * among its owner's holders; if t were at most half of them, a coordinator could gather t "survived"
 * and t "dropped" answers about one peer from disjoint halves (README.md, threat model).
 */
import { createHash } from 'node:crypto'
import { encodeCanonical, sha256 } from '../../crypto/hash.ts'
import { deriveKey } from '../../crypto/kdf.ts'
import { MAX_RING_BITS, ringElementBytes } from '../../crypto/ring.ts'
import { MAX_VECTOR_BYTES } from '../ids.ts'
import type { PeerRef } from '../transport.ts'
import { SecaggParamsError } from './errors.ts'
import { buildNeighbourGraph, MAX_SECAGG_PARTIES, shareX } from './neighbours.ts'
import type { NeighbourGraph } from './neighbours.ts'
import { AUDIT_HASH_LABEL, GRAPH_LABEL } from './phases.ts'

/** Room kept in a masked-input reply frame for the envelope around the vector bytes. */
export const MASKED_REPLY_OVERHEAD_BYTES = 4096
/**
 * Largest masked vector in bytes: one reply frame of at most MAX_VECTOR_BYTES (64 MiB + 4 KiB)
 * minus the envelope, i.e. d <= 16,777,216 elements for k <= 32 bits (8,388,608 for k > 32).
 */
export const MAX_MASKED_VECTOR_BYTES = MAX_VECTOR_BYTES - MASKED_REPLY_OVERHEAD_BYTES

/** What the coordinator announces for one round. */
export interface RoundParams {
  jobId: string
  round: number
  /** Ordered, distinct participant peer ids; index = position in this list. */
  participants: readonly PeerRef[]
  /** Shamir threshold: shares needed to rebuild any one secret. */
  t: number
  /** Neighbourhood size; participants.length - 1 = complete graph. */
  k: number
  /** Ring Z_2^ringBits, 1..62. */
  ringBits: number
  /** Vector length. */
  d: number
  /** 32 public random bytes from the coordinator, fixing the neighbour graph. */
  graphSeed: Uint8Array
}

/** Validated parameters plus everything derived from them. */
export interface RoundContext extends RoundParams {
  readonly n: number
  readonly index: ReadonlyMap<PeerRef, number>
  readonly graph: NeighbourGraph
}

const JOB_ID_RE = /^[A-Za-z0-9._:/-]{1,128}$/

/**
 * Validates round parameters and derives the context (index map, neighbour graph).
 *
 * @param members - when given, every participant must be in it (federation members with role node)
 * @throws SecaggParamsError when a parameter is out of range or unsafe
 * @example
 * const ctx = roundContext({ jobId: 'j', round: 1, participants, t: 9, k: 15, ringBits: 32, d: 1000, graphSeed })
 */
export function roundContext(params: RoundParams, members?: ReadonlySet<PeerRef>): RoundContext {
  const { jobId, round, participants, t, k, ringBits, d, graphSeed } = params
  if (typeof jobId !== 'string' || !JOB_ID_RE.test(jobId)) {
    throw new SecaggParamsError('jobId must be 1-128 characters of [A-Za-z0-9._:/-]')
  }
  if (!Number.isSafeInteger(round) || round < 0 || round > 2 ** 31 - 1) {
    throw new SecaggParamsError(`round must be an integer in [0, 2^31), got ${round}`)
  }
  const n = participants.length
  if (n < 3 || n > MAX_SECAGG_PARTIES) {
    throw new SecaggParamsError(`a round needs 3..${MAX_SECAGG_PARTIES} participants, got ${n}`)
  }
  const index = new Map<PeerRef, number>()
  participants.forEach((p, i) => {
    if (typeof p !== 'string' || p.length === 0)
      throw new SecaggParamsError('participant ids must be strings')
    if (index.has(p)) throw new SecaggParamsError(`participant ${p} is listed twice`)
    if (members !== undefined && !members.has(p)) {
      throw new SecaggParamsError(`participant ${p} is not a node member of the federation`)
    }
    index.set(p, i)
  })
  if (!Number.isSafeInteger(ringBits) || ringBits < 1 || ringBits > MAX_RING_BITS) {
    throw new SecaggParamsError(`ringBits must be in [1, ${MAX_RING_BITS}], got ${ringBits}`)
  }
  const maxD = Math.floor(MAX_MASKED_VECTOR_BYTES / ringElementBytes(ringBits))
  if (!Number.isSafeInteger(d) || d < 1 || d > maxD) {
    throw new SecaggParamsError(`d must be in [1, ${maxD}] for ${ringBits}-bit elements, got ${d}`)
  }
  if (!(graphSeed instanceof Uint8Array) || graphSeed.length !== 32) {
    throw new SecaggParamsError('graphSeed must be 32 bytes')
  }
  if (!Number.isSafeInteger(k) || k < 2 || k > n - 1) {
    throw new SecaggParamsError(`k must be in [2, ${n - 1}] for ${n} participants, got ${k}`)
  }
  const graph = buildNeighbourGraph(n, k, graphPermutationSeed(params))
  if (!Number.isSafeInteger(t) || t < 2 || t > graph.minHolders) {
    throw new SecaggParamsError(`t must be in [2, ${graph.minHolders}] (shares per secret), got ${t}`)
  }
  if (2 * t <= graph.maxHolders) {
    throw new SecaggParamsError(
      `t = ${t} is unsafe: it must exceed half of the ${graph.maxHolders} holders of a secret (t >= ${Math.floor(graph.maxHolders / 2) + 1})`
    )
  }
  return { ...params, participants: [...participants], n, index, graph }
}

/** The permutation seed of the neighbour graph: HKDF(graphSeed) bound to the round and the party list. */
function graphPermutationSeed(p: RoundParams): Uint8Array {
  const context = encodeCanonical(GRAPH_LABEL, [p.jobId, p.round, p.k, [...p.participants]])
  return deriveKey(p.graphSeed, GRAPH_LABEL, { context: sha256(context) })
}

/**
 * Index of a participant, or -1.
 *
 * @example
 * indexOf(ctx, peer) // 0..n-1
 */
export function indexOf(ctx: RoundContext, peer: PeerRef): number {
  return ctx.index.get(peer) ?? -1
}

/**
 * Neighbour peer ids of `peer`, sorted by index.
 *
 * @example
 * neighboursOf(ctx, self)
 */
export function neighboursOf(ctx: RoundContext, peer: PeerRef): PeerRef[] {
  return ctx.graph.neighbours(indexOf(ctx, peer)).map((i) => ctx.participants[i]!)
}

/**
 * Share holders of `owner` (neighbours and itself), sorted by index.
 *
 * @example
 * holdersOf(ctx, self).length // k + 1
 */
export function holdersOf(ctx: RoundContext, owner: PeerRef): PeerRef[] {
  return ctx.graph.holders(indexOf(ctx, owner)).map((i) => ctx.participants[i]!)
}

/**
 * True when a and b are neighbours in this round's graph.
 *
 * @example
 * areNeighbours(ctx, self, peer)
 */
export function areNeighbours(ctx: RoundContext, a: PeerRef, b: PeerRef): boolean {
  const i = indexOf(ctx, a)
  const j = indexOf(ctx, b)
  return i >= 0 && j >= 0 && ctx.graph.isNeighbour(i, j)
}

/**
 * Shamir x coordinate of holder's share of owner's secrets (0 = not a holder).
 *
 * @example
 * xOf(ctx, owner, self)
 */
export function xOf(ctx: RoundContext, owner: PeerRef, holder: PeerRef): number {
  const o = indexOf(ctx, owner)
  const h = indexOf(ctx, holder)
  return o < 0 || h < 0 ? 0 : shareX(ctx.graph, o, h)
}

/**
 * Sorts peer ids by their participant index (the canonical order of every list that is signed or hashed).
 *
 * @example
 * byIndex(ctx, [...survivors])
 */
export function byIndex(ctx: RoundContext, peers: Iterable<PeerRef>): PeerRef[] {
  return [...peers].sort((a, b) => indexOf(ctx, a) - indexOf(ctx, b))
}

/**
 * Hex SHA-256 of public values, for audit bodies (never of secrets).
 *
 * @example
 * auditHash(['participants', ...ctx.participants])
 */
export function auditHash(values: ReadonlyArray<string | number | Uint8Array>): string {
  return Buffer.from(sha256(encodeCanonical(AUDIT_HASH_LABEL, [...values]))).toString('hex')
}

/**
 * Hex SHA-256 of one large public byte string (a masked vector, a refused frame) for audit bodies:
 * SHA-256(label || 0x00 || bytes), streamed without copying the bytes.
 *
 * @example
 * auditHashBytes(maskedVectorBytes)
 */
export function auditHashBytes(bytes: Uint8Array): string {
  return createHash('sha256')
    .update(AUDIT_HASH_LABEL)
    .update(new Uint8Array([0]))
    .update(bytes)
    .digest('hex')
}
