/**
 * The homomorphic steps of vertical LR, on serialized ciphertexts (what travels) and owned keys.
 *
 * Masking and re-randomization: every ciphertext that goes back to the key holder for decryption
 * carries (1) a fresh uniform mask on *every* slot, drawn from crypto.getRandomValues, uniform on
 * [−2^maskBits, 2^maskBits] (statistical hiding: a value v is hidden up to a statistical distance of
 * |v|/2^maskBits per slot), and (2) a fresh encryption of zero under the key holder's public key.
 * (2) matters: a plaintext product leaves the second ciphertext component a known linear function of
 * the plaintext (the key holder knows its own input ciphertext), so without re-randomization the key
 * holder could solve for the other party's matrix.
 */
import type { Ciphertext } from 'node-seal/throws'
import type { HeContext } from '../../../crypto/he/context.ts'
import { newCiphertext } from '../../../crypto/he/ciphertext.ts'
import type { CkksVector, HeCiphertext } from '../../../crypto/he/ciphertext.ts'
import { ckksDecryptVector, ckksEncryptVector } from '../../../crypto/he/ckks.ts'
import { ckksMatvec, matvecAssemble, matvecBlocks } from '../../../crypto/he/ckks-matvec.ts'
import { HeVector } from '../../../crypto/he/ciphertext.ts'
import { disposeAll } from '../../../crypto/he/dispose.ts'
import { evaluatorError } from '../../../crypto/he/errors.ts'
import type { HeGaloisKeys, HePublicKey, HeRelinKeys, HeSecretKey } from '../../../crypto/he/keys.ts'
import { rotateSumSteps } from '../../../crypto/he/keys.ts'
import { loadCiphertext, saveCiphertext } from '../../../crypto/he/serialize.ts'
import type { RandomSource } from '../../../crypto/dp/random.ts'
import { VerticalLrInputError } from './errors.ts'

/** A uniform mask on [−2^bits, 2^bits] per value (53-bit resolution). */
export function uniformMask(length: number, bits: number, rng: RandomSource): Float64Array {
  const out = new Float64Array(length)
  const scale = 2 ** (bits + 1) / 2 ** 53
  for (let i = 0; i < length; i++) out[i] = rng.bits(53) * scale - 2 ** bits
  return out
}

/** Loads one ciphertext as a one-chunk vector of `length` values. */
export function loadOne(ctx: HeContext, bytes: Uint8Array, length: number): CkksVector {
  return new HeVector('ckks', ctx, length, [loadCiphertext(ctx, bytes)])
}

/** Encrypts ≤ slots values and serializes the one ciphertext. */
export function encryptToBytes(publicKey: HePublicKey, values: Float64Array): Uint8Array {
  using v = ckksEncryptVector(publicKey, values)
  return saveCiphertext(v.chunks[0]!)
}

/**
 * Encrypts ≤ slots values at scale Δ² (top level) and serializes the ciphertext: it then adds to
 * plaintext products Enc(c) ⊙ u without a multiplication of its own.
 */
export function encryptAtSquaredScale(publicKey: HePublicKey, values: Float64Array): Uint8Array {
  const ctx = publicKey.context
  const bound = ctx.preset.scheme === 'ckks' ? ctx.preset.maxAbsValue : 0
  if (values.length > ctx.slotCount || values.some((v) => !(Math.abs(v) <= bound)))
    throw new VerticalLrInputError(`at most ${ctx.slotCount} finite values with |v| <= ${bound}`)
  return ctx.guard(() => {
    const padded = new Float64Array(ctx.slotCount)
    padded.set(values)
    using pt = new ctx.seal.Plaintext()
    ctx.ckksEncoder.encode(padded, ctx.scale * ctx.scale, pt)
    using ct = newCiphertext(ctx, (out) => publicKey.encryptor.encrypt(pt, out))
    return ct.saveToArray(ctx.seal.ComprModeType.zstd) as Uint8Array
  }, evaluatorError)
}

/** Adds `mask` (slots values) and a fresh encryption of zero to `ct`, in place. */
function maskInPlace(ctx: HeContext, ct: HeCiphertext, mask: Float64Array, publicKey: HePublicKey): void {
  ctx.guard(() => {
    const h = ct.handle
    using pid = h.parmsId()
    using pt = new ctx.seal.Plaintext()
    ctx.ckksEncoder.encode(mask, h.scale(), pt)
    ctx.evaluator.plainModSwitchToInplace(pt, pid)
    ctx.evaluator.addPlainInplace(h, pt)
    using zero = newCiphertext(ctx, (out) => publicKey.encryptor.encryptZero(out))
    ctx.evaluator.cipherModSwitchToInplace(zero, pid)
    zero.setScale(h.scale())
    ctx.evaluator.addInplace(h, zero)
  }, evaluatorError)
}

/** A masked, re-randomized product and the masks to remove after decryption (per block, all slots). */
export interface MaskedProduct {
  readonly cts: Uint8Array[]
  readonly masks: Float64Array[]
}

/**
 * Enc(xᵀ v) for an encrypted v (one ciphertext) and plaintext x (rows × cols), masked and
 * re-randomized under the key holder's public key.
 */
export function maskedMatvec(
  v: CkksVector,
  x: Float64Array,
  rows: number,
  cols: number,
  galois: readonly HeGaloisKeys[],
  holderKey: HePublicKey,
  maskBits: number,
  rng: RandomSource
): MaskedProduct {
  const ctx = v.context
  using product = ckksMatvec(v, x, rows, cols, galois, { publicKey: holderKey })
  const masks: Float64Array[] = []
  const cts: Uint8Array[] = []
  for (const chunk of product.chunks) {
    const mask = uniformMask(ctx.slotCount, maskBits, rng)
    maskInPlace(ctx, chunk, mask, holderKey)
    masks.push(mask)
    cts.push(saveCiphertext(chunk))
  }
  return { cts, masks }
}

/** Decrypts a masked product of `cols` columns (the key holder's side). */
export function decryptProduct(
  ctx: HeContext,
  secretKey: HeSecretKey,
  cts: readonly Uint8Array[],
  cols: number
) {
  const blocks = matvecBlocks(cols, ctx.slotCount)
  if (cts.length !== blocks.length)
    throw new VerticalLrInputError(
      `a product of ${cols} columns has ${blocks.length} ciphertexts, got ${cts.length}`
    )
  const loaded = cts.map((b) => loadCiphertext(ctx, b))
  try {
    using vec = new HeVector('ckks', ctx, blocks.length * ctx.slotCount, loaded)
    return matvecAssemble(cols, ckksDecryptVector(secretKey, vec), ctx.slotCount)
  } catch (err) {
    disposeAll(loaded)
    throw err
  }
}

/** Removes the masks of a product from its decrypted (possibly noised) values. */
export function unmask(
  cols: number,
  values: Float64Array,
  masks: readonly Float64Array[],
  slots: number
): Float64Array {
  const blocks = matvecBlocks(cols, slots)
  if (values.length !== cols || masks.length !== blocks.length)
    throw new VerticalLrInputError(`expected ${cols} values, got ${values.length}`)
  const out = new Float64Array(cols)
  blocks.forEach((b, k) => {
    for (let j = 0; j < b.width; j++) out[b.col0 + j] = values[b.col0 + j]! - masks[k]![j]!
  })
  return out
}

/** Enc(c ⊙ u) at scale Δ² (not rescaled), or undefined when u encodes to zero (a transparent product). */
function slopeTimes(ctx: HeContext, slope: HeCiphertext, u: Float64Array): Ciphertext | undefined {
  const padded = new Float64Array(ctx.slotCount)
  padded.set(u)
  using pt = new ctx.seal.Plaintext()
  ctx.ckksEncoder.encode(padded, ctx.scale, pt)
  if (pt.isZero()) return undefined
  using pid = slope.handle.parmsId()
  ctx.evaluator.plainModSwitchToInplace(pt, pid)
  return newCiphertext(ctx, (out) => ctx.evaluator.multiplyPlain(slope.handle, pt, out))
}

/**
 * A feature party's share for the others: Enc_L(c ⊙ u_q) at scale Δ², re-randomized by a fresh
 * encryption of zero (the receiver holds Enc_L(c) too and could otherwise divide u_q out).
 */
export function slopeShare(
  ctx: HeContext,
  slope: Uint8Array,
  u: Float64Array,
  labelKey: HePublicKey
): Uint8Array {
  using c = loadCiphertext(ctx, slope)
  return ctx.guard(() => {
    using product = slopeTimes(ctx, c, u)
    using zero = newCiphertext(ctx, (out) => labelKey.encryptor.encryptZero(out))
    zero.setScale(ctx.scale * ctx.scale)
    if (product !== undefined) ctx.evaluator.addInplace(zero, product)
    return zero.saveToArray(ctx.seal.ComprModeType.zstd) as Uint8Array
  }, evaluatorError)
}

/**
 * Enc_L(r) = Enc_L(a) + Enc_L(c) ⊙ u_p + Σ_q Enc_L(c ⊙ u_q), rescaled once: the offsets `partial`
 * and the shares at scale Δ², the slopes at scale Δ, all at the top level. The result is one level
 * down (the matvec's input level).
 */
export function buildResidual(
  ctx: HeContext,
  partial: Uint8Array,
  slope: Uint8Array,
  own: Float64Array,
  shares: readonly Uint8Array[]
): CkksVector {
  const r = loadOne(ctx, partial, ctx.slotCount)
  try {
    using c = loadCiphertext(ctx, slope)
    const h = r.chunks[0]!.handle
    ctx.guard(() => {
      using term = slopeTimes(ctx, c, own)
      if (term !== undefined) ctx.evaluator.addInplace(h, term)
    }, evaluatorError)
    for (const s of shares) {
      using share = loadCiphertext(ctx, s)
      ctx.guard(() => ctx.evaluator.addInplace(h, share.handle), evaluatorError)
    }
    ctx.guard(() => ctx.evaluator.rescaleToNextInplace(h), evaluatorError)
    return r
  } catch (err) {
    r.dispose()
    throw err
  }
}

/**
 * Enc_L(Σ_i r_i²) (in every slot), re-randomized: one ciphertext square, relinearization, one
 * rescale and log2(slots) rotations (steps 1, 2, …, slots/2 must be among the Galois keys).
 */
export function encryptedSumOfSquares(
  r: CkksVector,
  relin: HeRelinKeys,
  galois: readonly HeGaloisKeys[],
  holderKey: HePublicKey
): Uint8Array {
  const ctx = r.context
  const ev = ctx.evaluator
  const steps = rotateSumSteps(ctx)
  const elt = (s: number) => {
    let e = 1
    for (let i = 0; i < s; i++) e = (e * 3) % (2 * ctx.preset.polyModulusDegree)
    return e
  }
  return ctx.guard(() => {
    using sq = newCiphertext(ctx, (out) => ev.square(r.chunks[0]!.handle, out))
    ev.relinearizeInplace(sq, relin.handle)
    ev.rescaleToNextInplace(sq)
    for (const s of steps) {
      const keys = galois.find((k) => k.handle.hasKey(elt(s)))
      if (keys === undefined) throw new VerticalLrInputError(`no Galois key for step ${s} to sum the loss`)
      using rot = new ctx.seal.Ciphertext()
      ev.rotateVector(sq, s, keys.handle, rot)
      ev.addInplace(sq, rot)
    }
    using pid = sq.parmsId()
    using zero = newCiphertext(ctx, (out) => holderKey.encryptor.encryptZero(out))
    ev.cipherModSwitchToInplace(zero, pid)
    zero.setScale(sq.scale())
    ev.addInplace(sq, zero)
    return sq.saveToArray(ctx.seal.ComprModeType.zstd) as Uint8Array
  }, evaluatorError)
}

/** Decrypts slot 0 of a one-ciphertext value. */
export function decryptScalar(ctx: HeContext, secretKey: HeSecretKey, bytes: Uint8Array): number {
  using v = loadOne(ctx, bytes, 1)
  return ckksDecryptVector(secretKey, v)[0]!
}
