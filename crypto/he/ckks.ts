/**
 * CKKS vectors of reals (Cheon-Kim-Kim-Song, ASIACRYPT 2017): encrypt, add, multiply by a plaintext
 * vector (then rescale), rotate-and-sum, decrypt. Results are approximate: each value carries an error
 * of roughly 2^-20 relative to the preset scale 2^40.
 *
 * Levels and scales: a fresh ciphertext is at the top level with scale Δ = 2^40. A plaintext product
 * has scale Δ² and is rescaled (divided by the next 40-bit prime q, dropping one level) to Δ²/q ≈ Δ.
 * Only ciphertexts at the same level with the same scale can be added: add products to products,
 * fresh to fresh. ckks-8192 has two 40-bit primes, so a ciphertext supports two multiplications.
 *
 * Rotate-and-sum: with Galois keys for the steps 1, 2, 4, ..., slots/2, log2(slots) rotations and
 * additions leave the sum of all slots in every slot (x += rot(x, 2^j) for j = 0..log2(slots)-1).
 */
import { CryptoArgumentError } from '../errors.ts'
import { assertSameShape, buildVector, chunkCount, newCiphertext } from './ciphertext.ts'
import type { CkksVector, HeCiphertext } from './ciphertext.ts'
import type { HeContext } from './context.ts'
import {
  evaluatorError,
  HeDecodeOverflowError,
  HeLevelExhaustedError,
  HeParameterMismatchError
} from './errors.ts'
import type { HeGaloisKeys, HePublicKey, HeSecretKey } from './keys.ts'
import { rotateSumSteps } from './keys.ts'

function assertCkks(context: HeContext): void {
  if (context.preset.scheme !== 'ckks')
    throw new HeParameterMismatchError(`${context.preset.id} is not a CKKS context`)
}

/** Checks finite |v| <= maxAbsValue for every value; returns the length. */
function aReals(context: HeContext, values: ArrayLike<number>, title: string): number {
  const length = values?.length
  if (typeof length !== 'number' || length < 1)
    throw new CryptoArgumentError(`${title} must be a non-empty array`)
  const max = context.preset.scheme === 'ckks' ? context.preset.maxAbsValue : 0
  for (let i = 0; i < length; i++) {
    const v = values[i]
    if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > max) {
      throw new CryptoArgumentError(`${title}[${i}] must be finite with |v| <= ${max}, got ${String(v)}`)
    }
  }
  return length
}

/** Chunk `c` of `values`, zero-padded to the slot count. */
function chunkOf(values: ArrayLike<number>, c: number, slots: number): Float64Array {
  const out = new Float64Array(slots)
  const end = Math.min(values.length, (c + 1) * slots)
  for (let i = c * slots; i < end; i++) out[i - c * slots] = values[i]!
  return out
}

/**
 * Encrypts a real vector under a public key (ceil(length / slotCount) ciphertexts, zero-padded).
 *
 * @throws CryptoArgumentError for an empty vector or a value that is not finite or exceeds 2^18
 * @example
 * using residuals = ckksEncryptVector(publicKey, Float64Array.from(r))
 */
export function ckksEncryptVector(publicKey: HePublicKey, values: ArrayLike<number>): CkksVector {
  const ctx = publicKey.context
  assertCkks(ctx)
  const length = aReals(ctx, values, 'values')
  const encryptor = publicKey.encryptor
  return ctx.guard(() =>
    buildVector('ckks', ctx, length, chunkCount(length, ctx.slotCount), (c) => {
      using pt = new ctx.seal.Plaintext()
      ctx.ckksEncoder.encode(chunkOf(values, c, ctx.slotCount), ctx.scale, pt)
      return newCiphertext(ctx, (out) => encryptor.encrypt(pt, out))
    })
  )
}

/**
 * Element-wise sum as a new vector.
 *
 * @throws HeParameterMismatchError for other parameters, lengths, levels or scales
 * @example
 * using total = ckksAdd(a, b)
 */
export function ckksAdd(a: CkksVector, b: CkksVector): CkksVector {
  assertSameShape(a, b, 'CKKS vectors to add')
  const ctx = a.context
  assertCkks(ctx)
  return ctx.guard(
    () =>
      buildVector('ckks', ctx, a.length, a.chunks.length, (i) =>
        newCiphertext(ctx, (out) => ctx.evaluator.add(a.chunks[i]!.handle, b.chunks[i]!.handle, out))
      ),
    evaluatorError
  )
}

/**
 * Adds `b` into `acc` in place.
 *
 * @example
 * ckksAddInPlace(total, next)
 */
export function ckksAddInPlace(acc: CkksVector, b: CkksVector): void {
  assertSameShape(acc, b, 'CKKS vectors to add')
  const ctx = acc.context
  assertCkks(ctx)
  ctx.guard(() => {
    for (let i = 0; i < acc.chunks.length; i++)
      ctx.evaluator.addInplace(acc.chunks[i]!.handle, b.chunks[i]!.handle)
  }, evaluatorError)
}

/** Options of {@link ckksMultiplyPlain}. */
export interface CkksMultiplyOptions {
  /**
   * Public key used to produce a fresh encryption of zero for a chunk whose plaintext is all zeros
   * (SEAL's `throws` build refuses the transparent ciphertext x·0 would be). Without it such a chunk
   * throws HeParameterMismatchError.
   */
  publicKey?: HePublicKey
}

function zeroLike(ctx: HeContext, publicKey: HePublicKey | undefined, like: HeCiphertext, level: number) {
  if (publicKey === undefined) {
    throw new HeParameterMismatchError(
      'a plaintext chunk is all zeros: pass options.publicKey to encrypt the zero product'
    )
  }
  publicKey.context.assertCompatible(ctx, 'public key and ciphertext')
  const scale = like.handle.scale()
  return newCiphertext(ctx, (out) => {
    publicKey.encryptor.encryptZero(out)
    using pid = like.handle.parmsId()
    if (level + 1 < ctx.dataParmsIds.length) {
      using next = ctx.native.getContextData(pid)
      using nextData = next.nextContextData()
      using nextId = nextData.parmsId()
      ctx.evaluator.cipherModSwitchToInplace(out, nextId)
    }
    // The product of x and Δ is rescaled to scale(x)·Δ/q_level; zero carries any scale.
    out.setScale((scale * ctx.scale) / Number(ctx.coeffModuli[ctx.coeffModuli.length - 1 - level]!))
  })
}

/**
 * Multiplies each encrypted value by the matching plaintext value and rescales: result[i] ≈ x[i]·w[i],
 * one level lower.
 *
 * @param weights - same length as the vector, finite, |w| <= 2^18
 * @throws HeLevelExhaustedError when no level is left; CryptoArgumentError for bad weights
 * @example
 * using products = ckksMultiplyPlain(residuals, featureColumn, { publicKey })
 */
export function ckksMultiplyPlain(
  vector: CkksVector,
  weights: ArrayLike<number>,
  options: CkksMultiplyOptions = {}
): CkksVector {
  const ctx = vector.context
  assertCkks(ctx)
  const length = aReals(ctx, weights, 'weights')
  if (length !== vector.length)
    throw new HeParameterMismatchError(`weights have length ${length}, vector ${vector.length}`)
  const levels = vector.chunks.map((c) => ctx.dataLevel(c.parmsId()))
  if (levels.some((l) => l < 0 || l + 1 >= ctx.dataParmsIds.length)) throw new HeLevelExhaustedError()
  return ctx.guard(
    () =>
      buildVector('ckks', ctx, vector.length, vector.chunks.length, (c) => {
        const ct = vector.chunks[c]!
        const w = chunkOf(weights, c, ctx.slotCount)
        if (w.every((v) => v === 0)) return zeroLike(ctx, options.publicKey, ct, levels[c]!)
        using pt = new ctx.seal.Plaintext()
        ctx.ckksEncoder.encode(w, ctx.scale, pt)
        using pid = ct.handle.parmsId()
        ctx.evaluator.plainModSwitchToInplace(pt, pid)
        return newCiphertext(ctx, (out) => {
          ctx.evaluator.multiplyPlain(ct.handle, pt, out)
          ctx.evaluator.rescaleToNextInplace(out)
        })
      }),
    evaluatorError
  )
}

/**
 * Sum of all values of the vector: chunks are added, then log2(slots) rotations fold the slots. The
 * result is a one-value vector (decrypts to [sum]); in the ciphertext every slot holds the sum, so it
 * can also be used as a broadcast of the sum.
 *
 * @param galoisKeys - keys for the steps of rotateSumSteps (generateKeys(ctx, { galois: true }))
 * @throws HeParameterMismatchError when chunks differ in level/scale or a rotation key is missing
 * @example
 * using dot = ckksRotateSum(ckksMultiplyPlain(x, w), keys.galoisKeys!)
 */
export function ckksRotateSum(vector: CkksVector, galoisKeys: HeGaloisKeys): CkksVector {
  const ctx = vector.context
  assertCkks(ctx)
  galoisKeys.context.assertCompatible(ctx, 'Galois keys and ciphertext')
  const steps = rotateSumSteps(ctx)
  return ctx.guard(
    () =>
      buildVector('ckks', ctx, 1, 1, () => {
        const acc = vector.chunks[0]!.handle.copy()
        try {
          for (let i = 1; i < vector.chunks.length; i++)
            ctx.evaluator.addInplace(acc, vector.chunks[i]!.handle)
          for (const step of steps) {
            using rotated = new ctx.seal.Ciphertext()
            ctx.evaluator.rotateVector(acc, step, galoisKeys.handle, rotated)
            ctx.evaluator.addInplace(acc, rotated)
          }
          return acc
        } catch (err) {
          acc.delete()
          throw err
        }
      }),
    evaluatorError
  )
}

/**
 * Decrypts a CKKS vector to approximate reals.
 *
 * @throws HeDecodeOverflowError if a decoded value is not finite; HeParameterMismatchError for a key
 *   of other parameters
 * @example
 * const [sum] = ckksDecryptVector(secretKey, dot)
 */
export function ckksDecryptVector(secretKey: HeSecretKey, vector: CkksVector): Float64Array {
  const ctx = vector.context
  assertCkks(ctx)
  secretKey.context.assertCompatible(ctx, 'secret key and ciphertext')
  const decryptor = secretKey.decryptor
  const out = new Float64Array(vector.length)
  ctx.guard(() => {
    vector.chunks.forEach((chunk, c) => {
      using pt = new ctx.seal.Plaintext()
      decryptor.decrypt(chunk.handle, pt)
      const slots = ctx.ckksEncoder.decodeFloat64(pt) as Float64Array
      const base = c * ctx.slotCount
      const end = Math.min(vector.length - base, ctx.slotCount)
      for (let i = 0; i < end; i++) {
        if (!Number.isFinite(slots[i]!))
          throw new HeDecodeOverflowError(`value ${base + i} decodes to a non-finite number`)
        out[base + i] = slots[i]!
      }
    })
  }, evaluatorError)
  return out
}
