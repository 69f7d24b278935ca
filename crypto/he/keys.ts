/**
 * Key generation and owned key wrappers.
 *
 * Roles (design.md, trust model): SEAL has no threshold decryption, so one key-holder party generates
 * the key set, keeps the secret key, and publishes the public key (plus Galois keys for CKKS
 * rotate-and-sum). Everyone else encrypts under the public key; only the key-holder decrypts, and it
 * only ever receives aggregates. SEAL draws key randomness from the Emscripten `random_get` import,
 * which node-seal backs with `crypto.getRandomValues`.
 */
import type { Decryptor, Encryptor, GaloisKeys, PublicKey, RelinKeys, SecretKey } from 'node-seal/throws'
import { bytesToHex } from '@noble/hashes/utils.js'
import { aInt } from '../asserts.ts'
import { CryptoArgumentError } from '../errors.ts'
import { hashCanonical } from '../hash.ts'
import type { HeContext } from './context.ts'
import { disposeAll, SealOwned } from './dispose.ts'

/**
 * Public (encryption) key. Caches its SEAL Encryptor, freed with the key.
 *
 * @example
 * using vec = bfvEncryptVector(publicKey, values)
 */
export class HePublicKey extends SealOwned<PublicKey> {
  readonly kind = 'public-key'
  #encryptor: Encryptor | undefined
  /** Internal: wrap a handle this wrapper will own. */
  constructor(context: HeContext, handle: PublicKey) {
    super(context, handle, 'HE public key')
  }
  /** Internal: the Encryptor bound to this key (created once). */
  get encryptor(): Encryptor {
    const pk = this.handle
    this.#encryptor ??= new this.context.seal.Encryptor(this.context.native, pk)
    return this.#encryptor
  }
  protected override releaseDependents(): void {
    this.#encryptor?.delete()
    this.#encryptor = undefined
  }
}

/**
 * Secret (decryption) key; stays with the key-holder. Caches its SEAL Decryptor, freed with the key.
 *
 * @example
 * const sums = bfvDecryptVector(secretKey, aggregate)
 */
export class HeSecretKey extends SealOwned<SecretKey> {
  readonly kind = 'secret-key'
  #decryptor: Decryptor | undefined
  /** Internal: wrap a handle this wrapper will own. */
  constructor(context: HeContext, handle: SecretKey) {
    super(context, handle, 'HE secret key')
  }
  /** Internal: the Decryptor bound to this key (created once). */
  get decryptor(): Decryptor {
    const sk = this.handle
    this.#decryptor ??= new this.context.seal.Decryptor(this.context.native, sk)
    return this.#decryptor
  }
  protected override releaseDependents(): void {
    this.#decryptor?.delete()
    this.#decryptor = undefined
  }
}

/**
 * Relinearization keys (needed only after ciphertext × ciphertext products; none of our operations
 * multiply two ciphertexts, they exist for completeness of the key set).
 *
 * @example
 * const keys = generateKeys(ctx, { relin: true }); keys.relinKeys
 */
export class HeRelinKeys extends SealOwned<RelinKeys> {
  readonly kind = 'relin-keys'
  /** Internal: wrap a handle this wrapper will own. */
  constructor(context: HeContext, handle: RelinKeys) {
    super(context, handle, 'HE relinearization keys')
  }
}

/**
 * Galois (rotation) keys for a set of rotation steps.
 *
 * @example
 * using sum = ckksRotateSum(vec, keys.galoisKeys!)
 */
export class HeGaloisKeys extends SealOwned<GaloisKeys> {
  readonly kind = 'galois-keys'
  /** Internal: wrap a handle this wrapper will own. */
  constructor(context: HeContext, handle: GaloisKeys) {
    super(context, handle, 'HE Galois keys')
  }
}

/** A freshly generated key set; dispose() frees every key in it. */
export interface HeKeySet extends Disposable {
  readonly context: HeContext
  readonly secretKey: HeSecretKey
  readonly publicKey: HePublicKey
  readonly relinKeys?: HeRelinKeys
  readonly galoisKeys?: HeGaloisKeys
  dispose(): void
}

/** Which optional keys to generate. */
export interface GenerateKeysOptions {
  /** Generate relinearization keys. @default false */
  relin?: boolean
  /**
   * Generate Galois keys: `true` for the power-of-two steps rotate-and-sum needs
   * ({@link rotateSumSteps}), or an explicit list of rotation steps. @default false
   */
  galois?: boolean | readonly number[]
}

/**
 * Rotation steps 1, 2, 4, ..., rowSize/2: log2(rowSize) rotations fold a row of `rowSize` slots so
 * that every slot holds the sum of all of them. rowSize = N/2 for both schemes (CKKS slots; BFV rows).
 *
 * @example
 * rotateSumSteps(ctx) // [1, 2, 4, ..., 2048] for N = 8192
 */
export function rotateSumSteps(context: HeContext): number[] {
  const steps: number[] = []
  for (let s = 1; s < context.preset.polyModulusDegree / 2; s *= 2) steps.push(s)
  return steps
}

function galoisSteps(context: HeContext, galois: true | readonly number[]): Int32Array {
  if (galois === true) return Int32Array.from(rotateSumSteps(context))
  if (!Array.isArray(galois) || galois.length === 0) {
    throw new CryptoArgumentError('galois must be true or a non-empty array of rotation steps')
  }
  const row = context.preset.polyModulusDegree / 2
  for (const s of galois) {
    aInt(s, 'rotation step')
    if (s === 0 || Math.abs(s) >= row)
      throw new CryptoArgumentError(`rotation step must be in ±[1, ${row - 1}], got ${s}`)
  }
  return Int32Array.from(galois)
}

/**
 * Generates a secret key and its public key, and optionally relinearization and Galois keys. The
 * caller owns the result: `using keys = generateKeys(ctx)` or `keys.dispose()`.
 *
 * @throws CryptoArgumentError for bad rotation steps; HeDisposedError for a disposed context
 * @example
 * using keys = generateKeys(ctx, { galois: true })
 * const pkBytes = savePublicKey(keys.publicKey)
 */
export function generateKeys(context: HeContext, options: GenerateKeysOptions = {}): HeKeySet {
  const steps =
    options.galois === undefined || options.galois === false
      ? undefined
      : galoisSteps(context, options.galois)
  const owned: Disposable[] = []
  const own = <T extends Disposable>(x: T): T => {
    owned.push(x)
    return x
  }
  try {
    return context.guard(() => {
      using kg = new context.seal.KeyGenerator(context.native)
      const secretKey = own(new HeSecretKey(context, kg.secretKey()))
      const publicKey = own(new HePublicKey(context, kg.createPublicKey()))
      const relinKeys =
        options.relin === true ? own(new HeRelinKeys(context, kg.createRelinKeys())) : undefined
      const galoisKeys =
        steps === undefined ? undefined : own(new HeGaloisKeys(context, kg.createGaloisKeysWithSteps(steps)))
      const dispose = () => disposeAll([galoisKeys, relinKeys, publicKey, secretKey])
      return { context, secretKey, publicKey, relinKeys, galoisKeys, dispose, [Symbol.dispose]: dispose }
    })
  } catch (err) {
    disposeAll(owned)
    throw err
  }
}

/**
 * Audit fingerprint of a public key: hex SHA-256 over the domain label "cohort/he-public-key/v1" and
 * the key's uncompressed SEAL serialization (compression-independent, so every party computes the same
 * value from the key it loaded, whatever bytes carried it).
 *
 * @example
 * audit.append('he-key', encode({ fingerprint: publicKeyFingerprint(pk) }))
 */
export function publicKeyFingerprint(publicKey: HePublicKey): string {
  const ctx = publicKey.context
  const bytes = ctx.guard(() => publicKey.handle.saveToArray(ctx.seal.ComprModeType.none) as Uint8Array)
  return bytesToHex(hashCanonical('cohort/he-public-key/v1', [bytes]))
}
