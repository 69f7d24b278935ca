/**
 * Homomorphic encryption for Cohort on node-seal (Microsoft SEAL 4.1, WebAssembly). See README.md.
 *
 * @example
 * import { createHeContext, generateKeys, bfvEncryptVector, bfvSum, bfvDecryptVector } from './crypto/he/index.ts'
 * using ctx = await createHeContext('bfv-8192')
 * using keys = generateKeys(ctx)
 * using a = bfvEncryptVector(keys.publicKey, [1, -2])
 * using b = bfvEncryptVector(keys.publicKey, [3, 4])
 * using sum = bfvSum([a, b])
 * bfvDecryptVector(keys.secretKey, sum) // Float64Array [4, 2]
 */
export {
  bfvAdd,
  bfvAddInPlace,
  bfvDecryptVector,
  bfvEncryptVector,
  bfvMaxAbs,
  bfvMaxParties,
  bfvSum
} from './bfv.ts'
export type { BfvDecryptOptions } from './bfv.ts'
export { HeCiphertext, HeVector } from './ciphertext.ts'
export type { BfvVector, CkksVector, HeScheme } from './ciphertext.ts'
export {
  ckksAdd,
  ckksAddInPlace,
  ckksDecryptVector,
  ckksEncryptVector,
  ckksMultiplyPlain,
  ckksRotateSum
} from './ckks.ts'
export type { CkksMultiplyOptions } from './ckks.ts'
export {
  ckksMatvec,
  generateMatvecGaloisKeys,
  matvecAssemble,
  matvecBlocks,
  matvecGaloisSteps
} from './ckks-matvec.ts'
export type { CkksMatvecOptions, MatvecBlock } from './ckks-matvec.ts'
export { createHeContext, getHeContext, HeContext } from './context.ts'
export type { HeLimits, HeObjectKind } from './context.ts'
export { disposeAll } from './dispose.ts'
export * from './errors.ts'
export {
  generateKeys,
  HeGaloisKeys,
  HePublicKey,
  HeRelinKeys,
  HeSecretKey,
  publicKeyFingerprint,
  rotateSumSteps
} from './keys.ts'
export type { GenerateKeysOptions, HeKeySet } from './keys.ts'
export { BFV_8192, CKKS_8192, DEFAULT_MAX_VECTOR_LENGTH, HE_PRESETS, hePreset } from './presets.ts'
export type { BfvPreset, CkksPreset, HePreset, HePresetId } from './presets.ts'
export { getSeal, sealHeapBytes } from './runtime.ts'
export type { Seal } from './runtime.ts'
export {
  loadBfvVector,
  loadCiphertext,
  loadCkksVector,
  loadGaloisKeys,
  loadPublicKey,
  loadRelinKeys,
  loadSecretKey,
  loadVector,
  saveCiphertext,
  saveGaloisKeys,
  savePublicKey,
  saveRelinKeys,
  saveSecretKey,
  saveVector
} from './serialize.ts'
export type { LoadVectorOptions, SerializedHeVector } from './serialize.ts'
