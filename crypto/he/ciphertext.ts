/**
 * Owned ciphertexts and encrypted vectors. A vector longer than one ciphertext's slot count is split
 * into consecutive chunks of `slotCount` values; the last chunk is zero-padded, so padding never
 * changes a sum (BFV) or a rotate-and-sum (CKKS).
 */
import type { Ciphertext } from 'node-seal/throws'
import type { HeContext } from './context.ts'
import { disposeAll, SealOwned } from './dispose.ts'
import { HeParameterMismatchError } from './errors.ts'

/**
 * One SEAL ciphertext, freed by dispose().
 *
 * @example
 * using ct = loadCiphertext(ctx, bytes)
 */
export class HeCiphertext extends SealOwned<Ciphertext> {
  readonly kind = 'ciphertext'
  /** Internal: wrap a handle this wrapper will own. */
  constructor(context: HeContext, handle: Ciphertext) {
    super(context, handle, 'HE ciphertext')
  }

  /** Internal: the ciphertext's parms id (identifies its level). */
  parmsId(): BigUint64Array {
    using id = this.handle.parmsId()
    return BigUint64Array.from(id.values() as BigUint64Array)
  }
}

/** Scheme of an encrypted vector. */
export type HeScheme = 'bfv' | 'ckks'

/**
 * An encrypted vector of `length` values held in `chunks` ciphertexts. Owns its chunks: dispose() frees
 * them all.
 *
 * @example
 * using vec = bfvEncryptVector(keys.publicKey, [1, -2, 3])
 * vec.length // 3
 * vec.chunks.length // 1
 */
export class HeVector<S extends HeScheme = HeScheme> implements Disposable {
  readonly scheme: S
  readonly context: HeContext
  readonly length: number
  readonly chunks: readonly HeCiphertext[]

  /** Internal: takes ownership of `chunks`. */
  constructor(scheme: S, context: HeContext, length: number, chunks: readonly HeCiphertext[]) {
    this.scheme = scheme
    this.context = context
    this.length = length
    this.chunks = Object.freeze([...chunks])
  }

  /** True once any chunk is disposed. */
  get disposed(): boolean {
    return this.chunks.some((c) => c.disposed)
  }

  /** Frees every chunk. Safe to call twice. */
  dispose(): void {
    disposeAll(this.chunks)
  }

  [Symbol.dispose](): void {
    this.dispose()
  }
}

/** A BFV-encrypted vector of integers. */
export type BfvVector = HeVector<'bfv'>
/** A CKKS-encrypted vector of reals. */
export type CkksVector = HeVector<'ckks'>

/**
 * Number of ciphertexts for `length` values at `slotCount` values each (at least one).
 *
 * @example
 * chunkCount(9000, 8192) // 2
 */
export function chunkCount(length: number, slotCount: number): number {
  return Math.max(1, Math.ceil(length / slotCount))
}

/**
 * Internal: asserts two vectors can be combined element-wise (same scheme, parameters, length).
 *
 * @example
 * assertSameShape(a, b, 'vectors to add')
 */
export function assertSameShape(a: HeVector, b: HeVector, what: string): void {
  a.context.assertCompatible(b.context, what)
  if (a.scheme !== b.scheme) throw new HeParameterMismatchError(`${what}: ${a.scheme} vs ${b.scheme}`)
  if (a.length !== b.length || a.chunks.length !== b.chunks.length) {
    throw new HeParameterMismatchError(`${what} have different lengths (${a.length} vs ${b.length})`)
  }
}

/**
 * Internal: builds a vector chunk by chunk; if any step throws, frees the chunks made so far.
 *
 * @example
 * const vec = buildVector('bfv', ctx, length, n, (i) => encryptChunk(i))
 */
export function buildVector<S extends HeScheme>(
  scheme: S,
  context: HeContext,
  length: number,
  count: number,
  makeChunk: (index: number) => Ciphertext
): HeVector<S> {
  const chunks: HeCiphertext[] = []
  try {
    for (let i = 0; i < count; i++) chunks.push(new HeCiphertext(context, makeChunk(i)))
  } catch (err) {
    disposeAll(chunks)
    throw err
  }
  return new HeVector(scheme, context, length, chunks)
}

/**
 * Internal: a new SEAL ciphertext filled by `fill`; freed again if `fill` throws.
 *
 * @example
 * const ct = newCiphertext(ctx, (out) => ctx.evaluator.add(a, b, out))
 */
export function newCiphertext(context: HeContext, fill: (out: Ciphertext) => void): Ciphertext {
  const ct = new context.seal.Ciphertext()
  try {
    fill(ct)
    return ct
  } catch (err) {
    ct.delete()
    throw err
  }
}
