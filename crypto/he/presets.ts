/**
 * Named SEAL parameter sets. Every party of a job uses the same preset id; the context derived from it
 * is fingerprinted (HeContext.fingerprint) so a mismatch is caught before any ciphertext is exchanged.
 *
 * Both presets are 128-bit secure by the HomomorphicEncryption.org standard table that SEAL enforces
 * (`SecLevelType.tc128`): for N = 8192 the total coefficient-modulus size must be <= 218 bits.
 *
 * bfv-8192 — additive aggregation of fixed-point integer vectors (he-agg).
 *   N = 8192 -> 8192 batching slots; coeff modulus = SEAL's BFVDefault(8192) = 43+43+44+44+44 = 218 bits;
 *   plain modulus t = the largest prime below 2^50 with t ≡ 1 (mod 2N) (batching), t = 1125899906826241.
 *   Slots hold Z_t, decoded centred: |value| <= (t-1)/2 ≈ 5.6e14 (< 2^53, so exact as JS numbers).
 *   Bound: n parties each sending |x| <= B decode exactly iff n·B <= (t-1)/2 (bfvMaxParties). Example:
 *   16 fractional bits and |x| <= 2^8 (B = 2^24) -> 33,554,431 parties; B = 2^32 -> 131,071 parties.
 *   Why t ~ 2^50: sums only add noise (each addition ~1 bit per doubling of the party count), and the
 *   fresh noise budget at t = 2^50 is still ~140 bits, so a larger t costs nothing and buys headroom.
 *
 * ckks-8192 — approximate arithmetic (vertical learning: encrypted residuals × plaintext features).
 *   N = 8192 -> 4096 complex slots (we use the real part); coeff modulus 60+40+40+60 = 200 bits;
 *   scale 2^40. The two 40-bit primes allow two rescales: one plaintext multiplication per ciphertext
 *   (plus one spare); the outer 60-bit primes are the decryption level and the key-switching prime.
 *   Values must stay below 2^18 in magnitude (the last level keeps 60 - 40 = 20 bits of integer part,
 *   minus sign and rounding), and precision is about 2^-20 relative after one multiplication.
 */
import { CryptoArgumentError } from '../errors.ts'

/** BFV preset: exact integer arithmetic mod the plain modulus. */
export interface BfvPreset {
  readonly id: 'bfv-8192'
  readonly scheme: 'bfv'
  readonly polyModulusDegree: number
  /** Bit size requested from SEAL's PlainModulus.Batching; t is the largest batching prime of that size. */
  readonly plainModulusBits: number
  readonly securityBits: 128
}

/** CKKS preset: approximate arithmetic on real vectors. */
export interface CkksPreset {
  readonly id: 'ckks-8192'
  readonly scheme: 'ckks'
  readonly polyModulusDegree: number
  /** Bit sizes of the coefficient-modulus primes, first (decryption) to last (key switching). */
  readonly coeffModulusBits: readonly number[]
  /** log2 of the encoding scale. */
  readonly scaleBits: number
  /** Largest |value| accepted at encryption (see the module comment). */
  readonly maxAbsValue: number
  readonly securityBits: 128
}

/** One of the named parameter sets. */
export type HePreset = BfvPreset | CkksPreset

/** Ids of the presets. */
export type HePresetId = HePreset['id']

/**
 * BFV, N = 8192, 50-bit batching plain modulus, 128-bit security.
 *
 * @example
 * using ctx = await createHeContext(BFV_8192)
 */
export const BFV_8192: BfvPreset = Object.freeze({
  id: 'bfv-8192',
  scheme: 'bfv',
  polyModulusDegree: 8192,
  plainModulusBits: 50,
  securityBits: 128
})

/**
 * CKKS, N = 8192, primes 60/40/40/60, scale 2^40, 128-bit security.
 *
 * @example
 * using ctx = await createHeContext(CKKS_8192)
 */
export const CKKS_8192: CkksPreset = Object.freeze({
  id: 'ckks-8192',
  scheme: 'ckks',
  polyModulusDegree: 8192,
  coeffModulusBits: Object.freeze([60, 40, 40, 60]),
  scaleBits: 40,
  maxAbsValue: 2 ** 18,
  securityBits: 128
})

/**
 * All presets by id.
 *
 * @example
 * Object.keys(HE_PRESETS) // ['bfv-8192', 'ckks-8192']
 */
export const HE_PRESETS: Readonly<Record<HePresetId, HePreset>> = Object.freeze({
  'bfv-8192': BFV_8192,
  'ckks-8192': CKKS_8192
})

/**
 * Default cap on the number of values in one serialized vector (1,048,576 = 128 BFV or 256 CKKS
 * ciphertexts). Pass a smaller `maxLength` where the protocol knows the model size.
 *
 * @example
 * loadVector(ctx, wire, { maxLength: Math.min(modelSize, DEFAULT_MAX_VECTOR_LENGTH) })
 */
export const DEFAULT_MAX_VECTOR_LENGTH = 1 << 20

/**
 * Looks a preset up by id.
 *
 * @throws CryptoArgumentError for an unknown id
 * @example
 * const preset = hePreset('bfv-8192') // BFV_8192
 */
export function hePreset(id: string): HePreset {
  const preset = (HE_PRESETS as Record<string, HePreset | undefined>)[id]
  if (preset === undefined || !Object.hasOwn(HE_PRESETS, id)) {
    throw new CryptoArgumentError(`unknown HE preset "${id}"; known: ${Object.keys(HE_PRESETS).join(', ')}`)
  }
  return preset
}
