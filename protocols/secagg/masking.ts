/**
 * Mask arithmetic of SecAgg (Bonawitz et al. 2017 §3-4):
 *
 *   y_u = x_u + PRG(b_u) + Σ_{v ∈ M(u)} Δ_uv · PRG(s_uv)   (mod 2^k)
 *
 * with Δ_uv = +1 when index(u) < index(v) and -1 otherwise, M(u) the neighbours whose shares u
 * received (so both ends of every pair agree), b_u a fresh 32-byte self-mask seed, and
 * s_uv = HKDF(X25519(s_sk_u, s_pk_v)) bound to (jobId, round, {u, v}). Summed over survivors, each
 * pair term appears once with each sign and cancels; the coordinator removes PRG(b_u) of survivors
 * and the pair terms of dropped parties after unmasking.
 *
 * Memory stays bounded for d in the millions: masks are never materialised. {@link applyMasks} walks
 * the vector in blocks of BLOCK_ELEMENTS and, per block, streams each seed's keystream through
 * crypto/prg.ts `addMask`/`subMask` (64 KiB chunks, offset = block start), so extra memory is one
 * keystream chunk regardless of d and of the number of neighbours. Blocking keeps the block in cache
 * while all masks are added to it.
 */
import { aBytes } from '../../crypto/asserts.ts'
import { encodeCanonical } from '../../crypto/hash.ts'
import { deriveKey } from '../../crypto/kdf.ts'
import { addMask, PRG_SEED_BYTES, subMask } from '../../crypto/prg.ts'
import type { RingVector } from '../../crypto/ring.ts'
import type { PeerRef } from '../transport.ts'
import { PAIR_CONTEXT_LABEL, PAIR_MASK_LABEL } from './phases.ts'

/** Elements per block of {@link applyMasks} (1 MiB of 32-bit elements). */
export const BLOCK_ELEMENTS = 1 << 18

/** One mask to add (+1) or subtract (-1). */
export interface Mask {
  seed: Uint8Array
  sign: 1 | -1
}

/**
 * The pairwise mask seed of peers a and b from their X25519 shared secret; symmetric in (a, b).
 *
 * @example
 * const seed = pairSeed(x25519SharedSecret(sSk, peerSPk), { jobId, round, a: self, b: peer })
 */
export function pairSeed(
  sharedSecret: Uint8Array,
  ctx: { jobId: string; round: number; a: PeerRef; b: PeerRef }
): Uint8Array {
  aBytes(sharedSecret, 32, 'sharedSecret')
  const [lo, hi] = ctx.a < ctx.b ? [ctx.a, ctx.b] : [ctx.b, ctx.a]
  const context = encodeCanonical(PAIR_CONTEXT_LABEL, [ctx.jobId, ctx.round, lo, hi])
  return deriveKey(sharedSecret, PAIR_MASK_LABEL, { context, length: PRG_SEED_BYTES })
}

/**
 * Δ_uv: +1 when u's index is lower than v's, else -1.
 *
 * @example
 * maskSign(0, 5) // 1
 */
export function maskSign(selfIndex: number, peerIndex: number): 1 | -1 {
  return selfIndex < peerIndex ? 1 : -1
}

/**
 * vec += Σ sign · PRG(seed) mod 2^k, in place, block by block (bounded memory, see file comment).
 *
 * @example
 * applyMasks(y, [{ seed: b, sign: 1 }, { seed: s01, sign: -1 }], 32)
 */
export function applyMasks(vec: RingVector, masks: readonly Mask[], k: number): void {
  for (let start = 0; start < vec.length; start += BLOCK_ELEMENTS) {
    const block = vec.subarray(start, Math.min(vec.length, start + BLOCK_ELEMENTS)) as RingVector
    for (const m of masks) {
      if (m.sign === 1) addMask(block, m.seed, { k, offset: start })
      else subMask(block, m.seed, { k, offset: start })
    }
  }
}

/**
 * Overwrites every given byte array with zeros (secrets at the end of their use).
 *
 * @example
 * wipe(b, sSk, cSk)
 */
export function wipe(...arrays: ReadonlyArray<Uint8Array | undefined>): void {
  for (const a of arrays) a?.fill(0)
}

/**
 * Overwrites a ring vector with zeros (a partial sum of masked inputs when a round aborts).
 *
 * @example
 * zeroVector(state.sum)
 */
export function zeroVector(v: RingVector | undefined): void {
  if (v instanceof Uint32Array) v.fill(0)
  else v?.fill(0n)
}
