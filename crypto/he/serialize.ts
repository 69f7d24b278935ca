/**
 * Serialization of ciphertexts, vectors and keys: SEAL's own format with zstd compression
 * (`ComprModeType.zstd`). Every load checks the context's size limit before parsing and refuses
 * garbage, truncated bytes and objects from other parameters with typed errors (see _load.ts).
 *
 * Sizes for the presets (measured): a BFV-8192 ciphertext ~430 kB, a CKKS-8192 ciphertext ~330 kB,
 * a CKKS public key ~465 kB, CKKS rotate-and-sum Galois keys (12 steps) ~16.7 MB.
 */
import type { GaloisKeys, PublicKey, RelinKeys, SecretKey } from 'node-seal/throws'
import { aInRange } from '../asserts.ts'
import { CryptoArgumentError } from '../errors.ts'
import { loadChecked } from './_load.ts'
import { chunkCount, HeCiphertext, HeVector } from './ciphertext.ts'
import type { BfvVector, CkksVector, HeScheme } from './ciphertext.ts'
import type { HeContext } from './context.ts'
import type { SealOwned } from './dispose.ts'
import { disposeAll } from './dispose.ts'
import { HeParameterMismatchError } from './errors.ts'
import { HeGaloisKeys, HePublicKey, HeRelinKeys, HeSecretKey } from './keys.ts'

type Saveable = { saveToArray(mode: unknown): unknown; delete(): void; isDeleted(): boolean }

function save(owned: SealOwned<Saveable>): Uint8Array {
  const ctx = owned.context
  return ctx.guard(() => owned.handle.saveToArray(ctx.seal.ComprModeType.zstd) as Uint8Array)
}

/**
 * Serializes one ciphertext (zstd).
 *
 * @example
 * const bytes = saveCiphertext(vec.chunks[0])
 */
export function saveCiphertext(ciphertext: HeCiphertext): Uint8Array {
  return save(ciphertext)
}

/**
 * Loads one ciphertext under `context`.
 *
 * @throws HeSizeLimitError over `context.limits.ciphertextBytes`; HeMalformedError for bytes that are
 *   not a valid ciphertext; HeParameterMismatchError for a ciphertext of other parameters
 * @example
 * using ct = loadCiphertext(ctx, bytes)
 */
export function loadCiphertext(context: HeContext, bytes: Uint8Array): HeCiphertext {
  const handle = loadChecked(context, bytes, 'ciphertext', () => new context.seal.Ciphertext())
  return new HeCiphertext(context, handle)
}

/** A vector as it travels: its scheme, its length and one serialized ciphertext per chunk. */
export interface SerializedHeVector {
  readonly scheme: HeScheme
  readonly length: number
  readonly chunks: readonly Uint8Array[]
}

/**
 * Serializes an encrypted vector chunk by chunk.
 *
 * @example
 * const wire = saveVector(vec) // { scheme: 'bfv', length, chunks: [Uint8Array, ...] }
 */
export function saveVector(vector: HeVector): SerializedHeVector {
  return { scheme: vector.scheme, length: vector.length, chunks: vector.chunks.map(saveCiphertext) }
}

/** Options of {@link loadVector}. */
export interface LoadVectorOptions {
  /** Largest accepted length; also capped by `context.limits.maxVectorLength`. */
  maxLength?: number
  /** When given, the length must be exactly this. */
  expectedLength?: number
}

/**
 * Loads an encrypted vector. The chunk count must match the length; every chunk goes through the
 * checks of {@link loadCiphertext}; if any fails, the chunks already loaded are freed.
 *
 * @throws CryptoArgumentError for a malformed record or a length over the cap;
 *   HeParameterMismatchError for another scheme or length; the errors of loadCiphertext
 * @example
 * using vec = loadVector(ctx, wire, { expectedLength: model.size })
 */
export function loadVector(
  context: HeContext,
  data: SerializedHeVector,
  options: LoadVectorOptions = {}
): HeVector {
  if (data === null || typeof data !== 'object' || !Array.isArray(data.chunks)) {
    throw new CryptoArgumentError('serialized vector must be { scheme, length, chunks[] }')
  }
  if (data.scheme !== context.preset.scheme) {
    throw new HeParameterMismatchError(
      `vector scheme ${String(data.scheme)} does not match ${context.preset.id}`
    )
  }
  const cap = Math.min(options.maxLength ?? context.limits.maxVectorLength, context.limits.maxVectorLength)
  aInRange(data.length, 1, cap, 'vector length')
  if (options.expectedLength !== undefined && data.length !== options.expectedLength) {
    throw new HeParameterMismatchError(`vector has length ${data.length}, expected ${options.expectedLength}`)
  }
  const count = chunkCount(data.length, context.slotCount)
  if (data.chunks.length !== count) {
    throw new CryptoArgumentError(
      `vector of length ${data.length} needs ${count} chunks, got ${data.chunks.length}`
    )
  }
  const chunks: HeCiphertext[] = []
  try {
    for (const bytes of data.chunks) chunks.push(loadCiphertext(context, bytes))
  } catch (err) {
    disposeAll(chunks)
    throw err
  }
  return new HeVector(data.scheme, context, data.length, chunks)
}

/**
 * {@link loadVector} for a BFV context, typed as a BfvVector.
 *
 * @throws HeParameterMismatchError for a CKKS context or record; the errors of loadVector
 * @example
 * using vec = loadBfvVector(ctx, wire, { expectedLength: 8192 })
 */
export function loadBfvVector(
  context: HeContext,
  data: SerializedHeVector,
  options: LoadVectorOptions = {}
): BfvVector {
  if (context.preset.scheme !== 'bfv')
    throw new HeParameterMismatchError(`${context.preset.id} is not a BFV context`)
  return loadVector(context, data, options) as BfvVector
}

/**
 * {@link loadVector} for a CKKS context, typed as a CkksVector.
 *
 * @throws HeParameterMismatchError for a BFV context or record; the errors of loadVector
 * @example
 * using vec = loadCkksVector(ctx, wire)
 */
export function loadCkksVector(
  context: HeContext,
  data: SerializedHeVector,
  options: LoadVectorOptions = {}
): CkksVector {
  if (context.preset.scheme !== 'ckks')
    throw new HeParameterMismatchError(`${context.preset.id} is not a CKKS context`)
  return loadVector(context, data, options) as CkksVector
}

/**
 * Serializes a public key (zstd).
 *
 * @example
 * const bytes = savePublicKey(keys.publicKey)
 */
export function savePublicKey(key: HePublicKey): Uint8Array {
  return save(key)
}

/**
 * Loads a public key.
 *
 * @throws HeSizeLimitError, HeMalformedError, HeParameterMismatchError
 * @example
 * using pk = loadPublicKey(ctx, bytes)
 */
export function loadPublicKey(context: HeContext, bytes: Uint8Array): HePublicKey {
  const handle: PublicKey = loadChecked(context, bytes, 'public-key', () => new context.seal.PublicKey())
  return new HePublicKey(context, handle)
}

/**
 * Serializes a secret key (zstd). The bytes are the key: store them encrypted at rest.
 *
 * @example
 * const bytes = saveSecretKey(keys.secretKey)
 */
export function saveSecretKey(key: HeSecretKey): Uint8Array {
  return save(key)
}

/**
 * Loads a secret key.
 *
 * @throws HeSizeLimitError, HeMalformedError, HeParameterMismatchError
 * @example
 * using sk = loadSecretKey(ctx, bytes)
 */
export function loadSecretKey(context: HeContext, bytes: Uint8Array): HeSecretKey {
  const handle: SecretKey = loadChecked(context, bytes, 'secret-key', () => new context.seal.SecretKey())
  return new HeSecretKey(context, handle)
}

/**
 * Serializes relinearization keys (zstd).
 *
 * @example
 * const bytes = saveRelinKeys(keys.relinKeys!)
 */
export function saveRelinKeys(keys: HeRelinKeys): Uint8Array {
  return save(keys)
}

/**
 * Loads relinearization keys.
 *
 * @throws HeSizeLimitError, HeMalformedError, HeParameterMismatchError
 * @example
 * using rk = loadRelinKeys(ctx, bytes)
 */
export function loadRelinKeys(context: HeContext, bytes: Uint8Array): HeRelinKeys {
  const handle: RelinKeys = loadChecked(context, bytes, 'relin-keys', () => new context.seal.RelinKeys())
  return new HeRelinKeys(context, handle)
}

/**
 * Serializes Galois keys (zstd; ~16.7 MB for the 12 rotate-and-sum steps of ckks-8192).
 *
 * @example
 * const bytes = saveGaloisKeys(keys.galoisKeys!)
 */
export function saveGaloisKeys(keys: HeGaloisKeys): Uint8Array {
  return save(keys)
}

/**
 * Loads Galois keys.
 *
 * @throws HeSizeLimitError, HeMalformedError, HeParameterMismatchError
 * @example
 * using gk = loadGaloisKeys(ctx, bytes)
 */
export function loadGaloisKeys(context: HeContext, bytes: Uint8Array): HeGaloisKeys {
  const handle: GaloisKeys = loadChecked(context, bytes, 'galois-keys', () => new context.seal.GaloisKeys())
  return new HeGaloisKeys(context, handle)
}
