/**
 * Checked loading of serialized SEAL objects. Bytes from the network reach SEAL only after:
 *
 * 1. size: `bytes.length <= limit` for the kind (HeSizeLimitError), before anything is parsed;
 * 2. header (SEAL 4.1 `SEALHeader`, 16 bytes little-endian): magic 0xA15E, header size 16, version 4.x,
 *    compression zstd, reserved 0, and the declared total size equal to `bytes.length`;
 * 3. decompression in JS (node:zlib zstd) with `maxOutputLength` = the kind's raw bound: a zstd bomb
 *    is refused as oversized instead of growing SEAL's wasm heap (SEAL inflates without a cap);
 * 4. structure: the parms id (first 32 payload bytes of every kind) must be one of this context's
 *    data levels (ciphertexts; BFV: the top level only) or its key level (keys), so bytes from another
 *    context fail with HeParameterMismatchError; a ciphertext must have size 2 and this N; key-switching
 *    keys are walked record by record with their counts bounded (N entries, k keys per entry);
 * 5. SEAL's own `load` on the uncompressed bytes (it checks metadata, buffer sizes and that every
 *    coefficient is reduced modulo its prime), inside the stack-restoring guard.
 */
import { zstdDecompressSync } from 'node:zlib'
import { aBytes } from '../asserts.ts'
import type { HeContext, HeLimits, HeObjectKind } from './context.ts'
import { HeMalformedError, HeParameterMismatchError, HeSizeLimitError } from './errors.ts'

const MAGIC = 0xa15e
const HEADER_BYTES = 16
const COMPR_NONE = 0
const COMPR_ZSTD = 2

const LIMIT_OF: Record<HeObjectKind, keyof HeLimits> = {
  ciphertext: 'ciphertextBytes',
  'public-key': 'publicKeyBytes',
  'secret-key': 'secretKeyBytes',
  'relin-keys': 'relinKeysBytes',
  'galois-keys': 'galoisKeysBytes'
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** uint64 at `offset` as a number, or Infinity when it does not fit (always refused by callers). */
function u64(bytes: Uint8Array, offset: number): number {
  const v = view(bytes).getBigUint64(offset, true)
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(v)
}

/** Checks a SEALHeader at `offset`; returns the object's total size (header included). */
function checkHeader(bytes: Uint8Array, offset: number, comprMode: number, what: string): number {
  if (bytes.length - offset < HEADER_BYTES) throw new HeMalformedError(`${what}: truncated SEAL header`)
  const v = view(bytes)
  const ok =
    v.getUint16(offset, true) === MAGIC &&
    bytes[offset + 2] === HEADER_BYTES &&
    bytes[offset + 3] === 4 &&
    bytes[offset + 5] === comprMode &&
    v.getUint16(offset + 6, true) === 0
  if (!ok) throw new HeMalformedError(`${what}: not a SEAL 4.x object with the expected compression`)
  const size = u64(bytes, offset + 8)
  if (size < HEADER_BYTES || size > bytes.length - offset)
    throw new HeMalformedError(`${what}: bad declared size`)
  return size
}

function parmsId(raw: Uint8Array): BigUint64Array {
  const v = view(raw)
  return BigUint64Array.from([0, 8, 16, 24].map((o) => v.getBigUint64(o, true)))
}

function checkCiphertext(ctx: HeContext, raw: Uint8Array): void {
  const level = ctx.dataLevel(parmsId(raw))
  if (level < 0 || (ctx.preset.scheme === 'bfv' && level !== 0)) {
    throw new HeParameterMismatchError(`ciphertext was not made under the HE parameters of ${ctx.preset.id}`)
  }
  // Ciphertext::save_members: parms_id(32) is_ntt(1) size(8) N(8) k(8) scale(8) correction(8).
  if (raw.length < 73) throw new HeMalformedError('ciphertext: truncated metadata')
  if (u64(raw, 33) !== 2) throw new HeMalformedError('ciphertext: only size-2 ciphertexts are accepted')
  if (u64(raw, 41) !== ctx.preset.polyModulusDegree) throw new HeMalformedError('ciphertext: wrong degree')
  if (u64(raw, 49) !== ctx.coeffModuli.length - level)
    throw new HeMalformedError('ciphertext: wrong RNS size')
}

/** KSwitchKeys::save_members: parms_id(32) dim1(8) then per entry dim2(8) and dim2 PublicKey records. */
function checkKSwitchKeys(ctx: HeContext, raw: Uint8Array, what: string): void {
  const dim1 = u64(raw, 32)
  if (dim1 > ctx.preset.polyModulusDegree) throw new HeMalformedError(`${what}: too many key entries`)
  let off = 40
  for (let i = 0; i < dim1; i++) {
    if (raw.length - off < 8) throw new HeMalformedError(`${what}: truncated`)
    const dim2 = u64(raw, off)
    off += 8
    if (dim2 > ctx.coeffModuli.length) throw new HeMalformedError(`${what}: too many keys in an entry`)
    for (let j = 0; j < dim2; j++) off += checkHeader(raw, off, COMPR_NONE, what)
  }
  if (off !== raw.length) throw new HeMalformedError(`${what}: trailing or missing bytes`)
}

/**
 * Runs checks 1-4 and returns the object re-framed as an uncompressed SEAL serialization.
 *
 * @throws HeSizeLimitError, HeMalformedError, HeParameterMismatchError, CryptoArgumentError
 * @example
 * const sealBytes = prepareLoad(ctx, bytes, 'ciphertext'); ct.loadFromArray(ctx.native, sealBytes)
 */
export function prepareLoad(ctx: HeContext, bytes: Uint8Array, kind: HeObjectKind): Uint8Array {
  aBytes(bytes, undefined, kind)
  const limit = ctx.limits[LIMIT_OF[kind]]
  if (bytes.length > limit) throw new HeSizeLimitError(`serialized ${kind}`, bytes.length, limit)
  if (checkHeader(bytes, 0, COMPR_ZSTD, kind) !== bytes.length)
    throw new HeMalformedError(`${kind}: size mismatch`)
  let raw: Uint8Array
  try {
    raw = zstdDecompressSync(bytes.subarray(HEADER_BYTES), { maxOutputLength: ctx.rawLimits[kind] })
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new HeSizeLimitError(`decompressed ${kind}`, ctx.rawLimits[kind] + 1, ctx.rawLimits[kind])
    }
    throw new HeMalformedError(`${kind}: zstd payload does not decompress`, { cause: err })
  }
  if (raw.length < 40) throw new HeMalformedError(`${kind}: payload too short`)
  if (kind === 'ciphertext') checkCiphertext(ctx, raw)
  else if (!ctx.isKeyLevel(parmsId(raw))) {
    throw new HeParameterMismatchError(`${kind} was not made under the HE parameters of ${ctx.preset.id}`)
  }
  if (kind === 'relin-keys' || kind === 'galois-keys') checkKSwitchKeys(ctx, raw, kind)
  const out = new Uint8Array(HEADER_BYTES + raw.length)
  out.set(bytes.subarray(0, HEADER_BYTES), 0)
  out[5] = COMPR_NONE
  view(out).setBigUint64(8, BigInt(out.length), true)
  out.set(raw, HEADER_BYTES)
  return out
}

/**
 * Loads `bytes` into a fresh SEAL object made by `create`, through prepareLoad and the guard. The
 * object is freed again if SEAL refuses the bytes.
 *
 * @example
 * const handle = loadChecked(ctx, bytes, 'public-key', () => new ctx.seal.PublicKey())
 */
export function loadChecked<T extends { delete(): void; loadFromArray(c: unknown, b: unknown): void }>(
  ctx: HeContext,
  bytes: Uint8Array,
  kind: HeObjectKind,
  create: () => T
): T {
  const sealBytes = prepareLoad(ctx, bytes, kind)
  const handle = create()
  try {
    ctx.guard(
      () => handle.loadFromArray(ctx.native, sealBytes),
      (m) => new HeMalformedError(`${kind} was refused by SEAL: ${m}`)
    )
    return handle
  } catch (err) {
    handle.delete()
    throw err
  }
}
