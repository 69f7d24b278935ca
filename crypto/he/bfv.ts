/**
 * BFV batched vectors of signed fixed-point integers, for additive aggregation (he-agg).
 *
 * Encoding (SEAL BatchEncoder, CRT batching): slot i of a plaintext holds an element of Z_t, t the
 * plain modulus. A signed integer x with |x| <= (t-1)/2 is stored as x mod t (the centred
 * representation), so adding ciphertexts adds the slots mod t, and decoding lifts each slot back to
 * (-(t-1)/2, (t-1)/2]. The decoded sum is the exact integer sum as long as it never leaves that range:
 * for n parties with |x| <= B each, n·B <= (t-1)/2 (see bfvMaxParties). A sum that wrapped decodes to a
 * plausible but wrong value, which is why decryption takes the caller's bound `maxAbs` and refuses to
 * return anything beyond it (HeDecodeOverflowError). Decryption also refuses a ciphertext whose
 * invariant noise budget is 0 (it would decrypt to garbage).
 */
import { aInt } from '../asserts.ts'
import { CryptoArgumentError } from '../errors.ts'
import { assertSameShape, buildVector, chunkCount, newCiphertext } from './ciphertext.ts'
import type { BfvVector } from './ciphertext.ts'
import type { HeContext } from './context.ts'
import { evaluatorError, HeDecodeOverflowError, HeParameterMismatchError } from './errors.ts'
import type { HePublicKey, HeSecretKey } from './keys.ts'

/**
 * Largest |value| a slot can hold: (t-1)/2 (a safe integer for every preset).
 *
 * @example
 * bfvMaxAbs(ctx) // 562949953413120 for bfv-8192
 */
export function bfvMaxAbs(context: HeContext): number {
  if (context.preset.scheme !== 'bfv')
    throw new HeParameterMismatchError(`${context.preset.id} is not a BFV context`)
  return Number((context.plainModulus - 1n) / 2n)
}

/**
 * How many parties, each contributing |x| <= maxAbsPerParty per coordinate, can be summed with an
 * exact result: floor(((t-1)/2) / maxAbsPerParty).
 *
 * @example
 * bfvMaxParties(ctx, 2 ** 24) // 33554431 for bfv-8192 (16 fractional bits, |x| <= 256)
 */
export function bfvMaxParties(context: HeContext, maxAbsPerParty: number): number {
  aInt(maxAbsPerParty, 'maxAbsPerParty')
  if (maxAbsPerParty < 1) throw new CryptoArgumentError('maxAbsPerParty must be >= 1')
  return Number((context.plainModulus - 1n) / 2n / BigInt(maxAbsPerParty))
}

function assertBfv(context: HeContext): void {
  if (context.preset.scheme !== 'bfv')
    throw new HeParameterMismatchError(`${context.preset.id} is not a BFV context`)
}

/**
 * Encrypts a vector of signed integers under a public key, splitting it into ceil(length / slotCount)
 * ciphertexts (the last one zero-padded).
 *
 * @param values - safe integers with |v| <= (t-1)/2 (bfvMaxAbs); usually quantised fixed-point values
 * @throws CryptoArgumentError for an empty vector or a value out of range; HeParameterMismatchError for
 *   a CKKS key
 * @example
 * using vec = bfvEncryptVector(publicKey, Int32Array.from([5, -3, 7]))
 */
export function bfvEncryptVector(publicKey: HePublicKey, values: ArrayLike<number>): BfvVector {
  const ctx = publicKey.context
  assertBfv(ctx)
  const length = values?.length
  if (typeof length !== 'number' || length < 1)
    throw new CryptoArgumentError('values must be a non-empty array')
  const maxAbs = bfvMaxAbs(ctx)
  for (let i = 0; i < length; i++) {
    const v = values[i]
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || Math.abs(v) > maxAbs) {
      throw new CryptoArgumentError(`values[${i}] must be an integer with |v| <= ${maxAbs}, got ${String(v)}`)
    }
  }
  const slots = ctx.slotCount
  const encryptor = publicKey.encryptor
  return ctx.guard(() =>
    buildVector('bfv', ctx, length, chunkCount(length, slots), (c) => {
      const chunk = new BigInt64Array(slots)
      const end = Math.min(length, (c + 1) * slots)
      for (let i = c * slots; i < end; i++) chunk[i - c * slots] = BigInt(values[i]!)
      using pt = new ctx.seal.Plaintext()
      ctx.batchEncoder.encode(chunk, pt)
      return newCiphertext(ctx, (out) => encryptor.encrypt(pt, out))
    })
  )
}

/**
 * Element-wise sum of two encrypted vectors, as a new vector (the inputs stay owned by the caller).
 *
 * @throws HeParameterMismatchError for vectors of other parameters or lengths
 * @example
 * using sum = bfvAdd(a, b)
 */
export function bfvAdd(a: BfvVector, b: BfvVector): BfvVector {
  assertSameShape(a, b, 'BFV vectors to add')
  const ctx = a.context
  assertBfv(ctx)
  return ctx.guard(
    () =>
      buildVector('bfv', ctx, a.length, a.chunks.length, (i) =>
        newCiphertext(ctx, (out) => ctx.evaluator.add(a.chunks[i]!.handle, b.chunks[i]!.handle, out))
      ),
    evaluatorError
  )
}

/**
 * Adds `b` into `acc` in place (no new SEAL memory): the aggregator's running sum.
 *
 * @example
 * for (const v of received) bfvAddInPlace(total, v)
 */
export function bfvAddInPlace(acc: BfvVector, b: BfvVector): void {
  assertSameShape(acc, b, 'BFV vectors to add')
  const ctx = acc.context
  assertBfv(ctx)
  ctx.guard(() => {
    for (let i = 0; i < acc.chunks.length; i++)
      ctx.evaluator.addInplace(acc.chunks[i]!.handle, b.chunks[i]!.handle)
  }, evaluatorError)
}

/**
 * Sum of one or more encrypted vectors, as a new vector.
 *
 * @example
 * using total = bfvSum(vectors)
 */
export function bfvSum(vectors: readonly BfvVector[]): BfvVector {
  if (!Array.isArray(vectors) || vectors.length === 0)
    throw new CryptoArgumentError('vectors must be non-empty')
  const first = vectors[0]!
  for (const v of vectors) assertSameShape(first, v, 'BFV vectors to sum')
  const ctx = first.context
  assertBfv(ctx)
  return ctx.guard(
    () =>
      buildVector('bfv', ctx, first.length, first.chunks.length, (i) => {
        const acc = first.chunks[i]!.handle.copy()
        try {
          for (let k = 1; k < vectors.length; k++)
            ctx.evaluator.addInplace(acc, vectors[k]!.chunks[i]!.handle)
          return acc
        } catch (err) {
          acc.delete()
          throw err
        }
      }),
    evaluatorError
  )
}

/** Options of {@link bfvDecryptVector}. */
export interface BfvDecryptOptions {
  /**
   * Largest |value| the caller expects (e.g. parties × per-party bound). A decoded value beyond it
   * means the sum wrapped mod t or a party cheated: nothing is returned. @default (t-1)/2
   */
  maxAbs?: number
}

/**
 * Decrypts an (aggregate) vector to the exact signed integers of the ring sum.
 *
 * @throws HeDecodeOverflowError when a value exceeds `maxAbs` or the noise budget is exhausted;
 *   HeParameterMismatchError when the key belongs to other parameters
 * @example
 * const sums = bfvDecryptVector(secretKey, total, { maxAbs: parties * 2 ** 24 })
 */
export function bfvDecryptVector(
  secretKey: HeSecretKey,
  vector: BfvVector,
  options: BfvDecryptOptions = {}
): Float64Array {
  const ctx = vector.context
  assertBfv(ctx)
  secretKey.context.assertCompatible(ctx, 'secret key and ciphertext')
  const limit = options.maxAbs ?? bfvMaxAbs(ctx)
  if (typeof limit !== 'number' || !(limit >= 0))
    throw new CryptoArgumentError('maxAbs must be a number >= 0')
  const decryptor = secretKey.decryptor
  const out = new Float64Array(vector.length)
  ctx.guard(() => {
    vector.chunks.forEach((chunk, c) => {
      if (decryptor.invariantNoiseBudget(chunk.handle) <= 0) {
        throw new HeDecodeOverflowError('ciphertext noise budget is exhausted: it would decrypt to garbage')
      }
      using pt = new ctx.seal.Plaintext()
      decryptor.decrypt(chunk.handle, pt)
      const slots = ctx.batchEncoder.decodeBigInt64(pt) as BigInt64Array
      const base = c * ctx.slotCount
      const end = Math.min(vector.length - base, ctx.slotCount)
      for (let i = 0; i < end; i++) {
        const v = Number(slots[i]!)
        if (Math.abs(v) > limit) {
          throw new HeDecodeOverflowError(
            `value ${base + i} decodes to |${v}| > maxAbs ${limit}: the sum wrapped mod t`
          )
        }
        out[base + i] = v
      }
    })
  }, evaluatorError)
  return out
}
