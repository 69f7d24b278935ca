/**
 * HeContext: one preset turned into a SEALContext, plus the stateless helpers every operation needs
 * (evaluator, encoder), the parameter fingerprint parties compare, and the size limits every load
 * enforces. Building one costs ~0.3-0.5 s (NTT tables), so build one per preset per process
 * ({@link getHeContext}) or own one explicitly ({@link createHeContext}, `using ctx = ...`).
 */
import type {
  BatchEncoder,
  CKKSEncoder,
  ContextData,
  EncryptionParameters,
  Evaluator,
  SEALContext
} from 'node-seal/throws'
import { bytesToHex } from '@noble/hashes/utils.js'
import { hashCanonical } from '../hash.ts'
import { HeDisposedError, HeParameterMismatchError, HeRuntimeError } from './errors.ts'
import { DEFAULT_MAX_VECTOR_LENGTH, hePreset } from './presets.ts'
import type { HePreset, HePresetId } from './presets.ts'
import { getSealRuntime, guard } from './runtime.ts'
import type { Seal, SealRuntime } from './runtime.ts'

/** Largest accepted serialized sizes (bytes on the wire, zstd-compressed) for this context. */
export interface HeLimits {
  readonly ciphertextBytes: number
  readonly publicKeyBytes: number
  readonly secretKeyBytes: number
  readonly relinKeysBytes: number
  readonly galoisKeysBytes: number
  /** Most values in one serialized vector unless the caller passes a smaller maxLength. */
  readonly maxVectorLength: number
}

/** Kinds of serialized SEAL objects. */
export type HeObjectKind = 'ciphertext' | 'public-key' | 'secret-key' | 'relin-keys' | 'galois-keys'

const OVERHEAD = 256 // SEAL headers and metadata of one object (73 bytes + nested headers), rounded up
const HEADER = 16

/**
 * Uncompressed payload bounds from the modulus sizes (SEAL 4.1 layouts: a ciphertext is `size`
 * polynomials of k RNS limbs of N uint64; keys live at the key level with k+1 limbs; relin keys hold
 * k public keys, Galois keys k public keys per rotation plus one 8-byte count per possible slot).
 */
function rawLimits(n: number, dataPrimes: number, galoisKeyCount: number): Record<HeObjectKind, number> {
  const poly = (limbs: number) => limbs * n * 8
  const pk = 2 * poly(dataPrimes + 1) + OVERHEAD
  return {
    ciphertext: 2 * poly(dataPrimes) + OVERHEAD,
    'public-key': pk,
    'secret-key': poly(dataPrimes + 1) + OVERHEAD,
    'relin-keys': OVERHEAD + dataPrimes * (HEADER + pk),
    'galois-keys': OVERHEAD + n * 8 + galoisKeyCount * dataPrimes * (HEADER + pk)
  }
}

/** zstd never expands by more than ~1/256 plus a small constant (ZSTD_compressBound). */
function compressedBound(raw: number): number {
  return HEADER + raw + Math.ceil(raw / 256) + 1024
}

function sameParmsId(a: BigUint64Array, b: BigUint64Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

/**
 * SEAL context for one preset. Owns its SEAL objects; `dispose()` frees them (a no-op for the shared
 * contexts of {@link getHeContext}). Objects created under a context stay usable with any other
 * context that has the same fingerprint.
 *
 * @example
 * using ctx = await createHeContext('bfv-8192')
 * ctx.slotCount // 8192
 */
export class HeContext implements Disposable {
  readonly preset: HePreset
  /** Hex SHA-256 over ("cohort/he-params/v1", preset id, SEAL's serialized parameters). */
  readonly fingerprint: string
  /** Values per ciphertext: N for BFV, N/2 for CKKS. */
  readonly slotCount: number
  /** BFV plain modulus t (0n for CKKS). */
  readonly plainModulus: bigint
  /** CKKS encoding scale (0 for BFV). */
  readonly scale: number
  /** Primes of the first data level, highest level first. */
  readonly coeffModuli: readonly bigint[]
  readonly limits: HeLimits
  /** Internal: decompressed payload bounds per kind. */
  readonly rawLimits: Readonly<Record<HeObjectKind, number>>
  /** Internal: parms ids of the data levels, index 0 = first (top) level, last = decryption-only level. */
  readonly dataParmsIds: readonly BigUint64Array[]
  /** Internal: parms id of the key level. */
  readonly keyParmsId: BigUint64Array
  /** True for the process-wide contexts of getHeContext (dispose is a no-op). */
  readonly shared: boolean
  /** Internal: the runtime whose guard every call uses. */
  readonly runtime: SealRuntime
  #native: SEALContext | undefined
  #evaluator: Evaluator | undefined
  #batch: BatchEncoder | undefined
  #ckks: CKKSEncoder | undefined

  private constructor(runtime: SealRuntime, preset: HePreset, shared: boolean) {
    this.runtime = runtime
    this.preset = preset
    this.shared = shared
    const seal = runtime.seal
    const built = guard(
      runtime,
      () => build(seal, preset),
      (m) => new HeRuntimeError(`SEAL rejected preset ${preset.id}: ${m}`)
    )
    this.#native = built.native
    this.fingerprint = built.fingerprint
    this.dataParmsIds = built.dataParmsIds
    this.keyParmsId = built.keyParmsId
    this.coeffModuli = built.coeffModuli
    this.plainModulus = built.plainModulus
    try {
      this.#evaluator = new seal.Evaluator(built.native)
      if (preset.scheme === 'bfv') this.#batch = new seal.BatchEncoder(built.native)
      else this.#ckks = new seal.CKKSEncoder(built.native)
    } catch (err) {
      for (const h of [this.#evaluator, built.native]) h?.delete()
      throw err
    }
    this.slotCount = this.#batch?.slotCount() ?? this.#ckks!.slotCount()
    this.scale = preset.scheme === 'ckks' ? 2 ** preset.scaleBits : 0
    const n = preset.polyModulusDegree
    this.rawLimits = Object.freeze(rawLimits(n, this.coeffModuli.length, Math.log2(n / 2)))
    this.limits = Object.freeze({
      ciphertextBytes: compressedBound(this.rawLimits.ciphertext),
      publicKeyBytes: compressedBound(this.rawLimits['public-key']),
      secretKeyBytes: compressedBound(this.rawLimits['secret-key']),
      relinKeysBytes: compressedBound(this.rawLimits['relin-keys']),
      galoisKeysBytes: compressedBound(this.rawLimits['galois-keys']),
      maxVectorLength: DEFAULT_MAX_VECTOR_LENGTH
    })
  }

  /** Internal: use createHeContext / getHeContext. */
  static async open(preset: HePreset, shared: boolean): Promise<HeContext> {
    return new HeContext(await getSealRuntime(), preset, shared)
  }

  /** The SEAL module. */
  get seal(): Seal {
    return this.runtime.seal
  }

  get disposed(): boolean {
    return this.#native === undefined
  }

  /** Internal: the SEALContext. @throws HeDisposedError */
  get native(): SEALContext {
    if (this.#native === undefined) throw new HeDisposedError(`HE context ${this.preset.id}`)
    return this.#native
  }

  /** Internal: the context's Evaluator (stateless, reused). @throws HeDisposedError */
  get evaluator(): Evaluator {
    if (this.#evaluator === undefined) throw new HeDisposedError(`HE context ${this.preset.id}`)
    return this.#evaluator
  }

  /** Internal: BFV batch encoder. @throws HeParameterMismatchError for CKKS, HeDisposedError */
  get batchEncoder(): BatchEncoder {
    if (this.#batch === undefined) this.#missing('bfv')
    return this.#batch
  }

  /** Internal: CKKS encoder. @throws HeParameterMismatchError for BFV, HeDisposedError */
  get ckksEncoder(): CKKSEncoder {
    if (this.#ckks === undefined) this.#missing('ckks')
    return this.#ckks
  }

  #missing(scheme: 'bfv' | 'ckks'): never {
    if (this.disposed) throw new HeDisposedError(`HE context ${this.preset.id}`)
    throw new HeParameterMismatchError(`context ${this.preset.id} is not a ${scheme} context`)
  }

  /** Internal: runs `fn` under the SEAL exception guard (see runtime.ts). */
  guard<T>(fn: () => T, translate?: (message: string) => Error): T {
    return guard(this.runtime, fn, translate)
  }

  /**
   * Throws unless `other` has the same parameters (same fingerprint).
   *
   * @example
   * a.context.assertCompatible(b.context, 'ciphertexts to add')
   */
  assertCompatible(other: HeContext, what: string): void {
    if (other !== this && other.fingerprint !== this.fingerprint) {
      throw new HeParameterMismatchError(
        `${what} belong to different HE parameters (${this.preset.id} vs ${other.preset.id})`
      )
    }
  }

  /** Internal: index of a data level (0 = top), or -1 when the parms id is not a data level here. */
  dataLevel(parmsId: BigUint64Array): number {
    return this.dataParmsIds.findIndex((p) => sameParmsId(p, parmsId))
  }

  /** Internal: true when `parmsId` is this context's key level. */
  isKeyLevel(parmsId: BigUint64Array): boolean {
    return sameParmsId(this.keyParmsId, parmsId)
  }

  /** Frees the SEAL context, evaluator and encoder (not for shared contexts). */
  dispose(): void {
    if (this.shared || this.#native === undefined) return
    for (const h of [this.#batch, this.#ckks, this.#evaluator, this.#native]) h?.delete()
    this.#batch = this.#ckks = this.#evaluator = undefined
    this.#native = undefined
  }

  [Symbol.dispose](): void {
    this.dispose()
  }
}

interface Built {
  native: SEALContext
  fingerprint: string
  dataParmsIds: BigUint64Array[]
  keyParmsId: BigUint64Array
  coeffModuli: bigint[]
  plainModulus: bigint
}

function parmsIdOf(cd: ContextData): BigUint64Array {
  using id = cd.parmsId()
  return BigUint64Array.from(id.values() as BigUint64Array)
}

function build(seal: Seal, preset: HePreset): Built {
  const n = preset.polyModulusDegree
  using parms: EncryptionParameters = new seal.EncryptionParameters(
    preset.scheme === 'bfv' ? seal.SchemeType.bfv : seal.SchemeType.ckks
  )
  parms.setPolyModulusDegree(n)
  {
    using coeff =
      preset.scheme === 'bfv'
        ? seal.CoeffModulus.BFVDefault(n, seal.SecLevelType.tc128)
        : seal.CoeffModulus.Create(n, Int32Array.from(preset.coeffModulusBits))
    parms.setCoeffModulus(coeff)
  }
  let plainModulus = 0n
  if (preset.scheme === 'bfv') {
    using t = seal.PlainModulus.Batching(n, preset.plainModulusBits)
    plainModulus = t.value()
    parms.setPlainModulus(t)
  }
  // SEAL checks the 128-bit bound (HomomorphicEncryption.org table) and sets parametersSet() = false.
  const native = new seal.SEALContext(parms, true, seal.SecLevelType.tc128)
  try {
    if (!native.parametersSet())
      throw new HeRuntimeError(`SEAL refused the parameters of preset ${preset.id}`)
    const dataParmsIds: BigUint64Array[] = []
    let coeffModuli: bigint[] = []
    let cd: ContextData = native.firstContextData()
    for (;;) {
      using current = cd
      dataParmsIds.push(parmsIdOf(current))
      if (dataParmsIds.length === 1) {
        using p = current.parms()
        using moduli = p.coeffModulus()
        coeffModuli = (seal.jsArrayFromVecModulus(moduli) as bigint[]).map((v) => BigInt(v))
      }
      // nextContextData() of the last level is a handle to null: stop on chain index 0 instead.
      if (current.chainIndex() === 0) break
      cd = current.nextContextData()
    }
    let keyParmsId: BigUint64Array
    {
      using kcd = native.keyContextData()
      keyParmsId = parmsIdOf(kcd)
    }
    const parmsBytes = parms.saveToArray(seal.ComprModeType.none) as Uint8Array
    const fingerprint = bytesToHex(hashCanonical('cohort/he-params/v1', [preset.id, parmsBytes]))
    return { native, fingerprint, dataParmsIds, keyParmsId, coeffModuli, plainModulus }
  } catch (err) {
    native.delete()
    throw err
  }
}

/**
 * Builds a new context owned by the caller (dispose it, or bind it with `using`).
 *
 * @throws CryptoArgumentError for an unknown preset id; HeRuntimeError if SEAL cannot be loaded
 * @example
 * using ctx = await createHeContext('ckks-8192')
 */
export async function createHeContext(preset: HePresetId | HePreset): Promise<HeContext> {
  return HeContext.open(typeof preset === 'string' ? hePreset(preset) : hePreset(preset.id), false)
}

const shared = new Map<HePresetId, Promise<HeContext>>()

/**
 * The process-wide shared context of a preset (built once, never freed; its dispose() does nothing).
 *
 * @example
 * const ctx = await getHeContext('bfv-8192')
 */
export async function getHeContext(id: HePresetId): Promise<HeContext> {
  const preset = hePreset(id)
  let p = shared.get(preset.id)
  if (p === undefined) {
    p = HeContext.open(preset, true)
    shared.set(preset.id, p)
    p.catch(() => shared.delete(preset.id))
  }
  return p
}
