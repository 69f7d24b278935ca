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
 * Memory stays bounded for d in the millions: masks are never materialised. {@link applyMasks} hands
 * all seeds to crypto/prg.ts `applySignedMasks`, which walks the vector in 64 KiB chunks with one
 * AES-CTR stream open per seed and folds four keystream chunks into each vector chunk per pass, so
 * extra memory is one AES context per seed plus a fixed 320 KiB scratch, whatever d, and the vector
 * chunk stays in cache while every mask is added to it.
 */
import { aBytes } from '../../crypto/asserts.ts'
import { encodeCanonical } from '../../crypto/hash.ts'
import { deriveKey } from '../../crypto/kdf.ts'
import { applySignedMasks, PRG_SEED_BYTES } from '../../crypto/prg.ts'
import type { RingVector } from '../../crypto/ring.ts'
import type { PeerRef } from '../transport.ts'
import { PAIR_CONTEXT_LABEL, PAIR_MASK_LABEL } from './phases.ts'

/**
 * Elements per block of the former block-wise {@link applyMasks} (1 MiB of 32-bit elements). Masking
 * is now streamed in 64 KiB chunks inside crypto/prg.ts; kept so tests can size vectors that span
 * many chunks.
 */
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
 * vec += Σ sign · PRG(seed) mod 2^k, in place, streamed chunk by chunk (bounded memory, see file
 * comment). Bit-identical to calling addMask / subMask once per mask.
 *
 * @example
 * applyMasks(y, [{ seed: b, sign: 1 }, { seed: s01, sign: -1 }], 32)
 */
export function applyMasks(vec: RingVector, masks: readonly Mask[], k: number): void {
  applySignedMasks(vec, masks, { k })
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
