/**
 * CKKS steps of one hop of the chain, on serialized vectors: load what arrived (size and shape
 * checked), add this party's freshly encrypted contribution, optionally multiply by the mask's
 * scales, serialize. Every SEAL object is freed before returning.
 */
import {
  ckksAddInPlace,
  ckksDecryptVector,
  ckksEncryptVector,
  ckksMultiplyPlain,
  loadCkksVector,
  saveVector
} from '../../../crypto/he/index.ts'
import type { HeContext, HePublicKey, HeSecretKey, SerializedHeVector } from '../../../crypto/he/index.ts'

/**
 * Encrypts `values` under the session key and serializes the result.
 * @example
 * const wire = encryptToWire(publicKey, ownDistances.subarray(from, to))
 */
export function encryptToWire(publicKey: HePublicKey, values: ArrayLike<number>): SerializedHeVector {
  using vec = ckksEncryptVector(publicKey, values)
  return saveVector(vec)
}

/**
 * incoming + Enc(own) [· weights], serialized. `own` must have the incoming vector's length.
 *
 * @throws HeSizeLimitError / HeMalformedError / HeParameterMismatchError for a bad incoming vector;
 *   CryptoArgumentError for values beyond the CKKS bound
 * @example
 * const out = addOwn(ctx, publicKey, req.vector, own, weights)
 */
export function addOwn(
  context: HeContext,
  publicKey: HePublicKey,
  incoming: SerializedHeVector,
  own: Float64Array,
  weights?: Float64Array
): SerializedHeVector {
  using acc = loadCkksVector(context, incoming, { expectedLength: own.length })
  using mine = ckksEncryptVector(publicKey, own)
  ckksAddInPlace(acc, mine)
  if (weights === undefined) return saveVector(acc)
  using scaled = ckksMultiplyPlain(acc, weights, { publicKey })
  return saveVector(scaled)
}

/**
 * Loads and decrypts a vector of `length` values.
 * @example
 * const masked = decryptWire(ctx, secretKey, reply.vector, to - from)
 */
export function decryptWire(
  context: HeContext,
  secretKey: HeSecretKey,
  wire: SerializedHeVector,
  length: number
): Float64Array {
  using vec = loadCkksVector(context, wire, { expectedLength: length })
  return ckksDecryptVector(secretKey, vec)
}
