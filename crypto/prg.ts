/**
 * The mask PRG of secure aggregation: a 32-byte seed -> a vector of d elements of Z_2^k.
 *
 * Construction: (key || iv) = HKDF-SHA256(seed, info = PRG_LABEL) (32 bytes, crypto/kdf.ts); the
 * keystream is AES-128-CTR(key, iv) over zeros with a 128-bit big-endian counter (NIST SP 800-38A
 * §6.5, OpenSSL increments the whole block). Element i is read little-endian from keystream bytes
 * [w·i, w·(i+1)) with w = 4 (k <= 32) or 8 (k > 32), then reduced mod 2^k by masking: an exact
 * power-of-two reduction, so every element is uniform on Z_2^k given a uniform keystream.
 *
 * Random access: element i depends only on (seed, i), so `offset` lets a caller mask a vector of
 * millions of coordinates chunk by chunk; internally the keystream is produced 64 KiB at a time and
 * never as one allocation of d·w bytes.
 *
 * Many masks at once ({@link applySignedMasks}, the SecAgg hot path; ~16 masks per client, ~230 at
 * the coordinator). The vector is walked in 64 KiB chunks with one AES-CTR stream open per seed;
 * for each chunk, four keystream chunks at a time are folded into it by crypto/_ring-fold.ts
 * (WebAssembly SIMD), subtraction folded in as two's complement (y - m = y + ~m + 1), so the chunk
 * stays in cache and each mask costs its AES output plus one copy of it. Three things measured here
 * mattered (100 clients of d = 10^5 with 16 masks each in one process, like `npm run bench --
 * secagg`): freeing each keystream buffer as soon as it is used ({@link release}: fresh cache-cold
 * mallocs and GC pressure otherwise doubled the AES cost), the SIMD fold (V8 does not vectorise the
 * JS loop: 0.9 -> 0.2 ms per client), and keys given to OpenSSL as KeyObjects (Node probes raw key
 * buffers by throwing exceptions: 10 µs per stream). Per client: 3.5 -> 1.3 ms in that loop.
 *
 * Why AES-128-CTR and not ChaCha20 (style.md C1 said chacha20): measured on this project's machine
 * (x86-64 with AES-NI/VAES, Node 24.21, OpenSSL 3, one core, 64 KiB chunks, same run) node:crypto
 * AES-128-CTR gives 3.0-3.5 GB/s of keystream and @noble/ciphers `chacha20` (pure JS) 0.4-0.6 GB/s,
 * 6-8x less; prgFill reaches 2.8 GB/s (1.3x of raw AES, the copy out of OpenSSL's buffer) and
 * addMask 1.75 GB/s (before the changes above). A d = 10^6 model with 100 neighbours needs 400 MB
 * of masks per round per party, so this is the cost that matters. `npm run bench -- crypto` re-measures all of them.
 * Security: each seed gets its own HKDF-derived AES key, and AES-CTR output is indistinguishable from
 * random up to the PRP/PRF switching bound q^2/2^129 for q blocks (q = 2^22 for 64 MiB: ~2^-85).
 * A multi-target key search over N seeds costs 2^128/N, ample for the seeds a federation ever uses.
 */
import { createCipheriv, createSecretKey } from 'node:crypto'
import type { Cipheriv } from 'node:crypto'
import { FOLD_ELEMENTS, makeRingFolder } from './_ring-fold.ts'
import type { RingFolder } from './_ring-fold.ts'
import { aBytes, aInt } from './asserts.ts'
import { CryptoArgumentError } from './errors.ts'
import { deriveKey } from './kdf.ts'
import type { DomainLabel } from './kdf.ts'
import { aRingBits, aRingVector, DEFAULT_RING_BITS, ringCombineUnchecked } from './ring.ts'
import type { RingVector } from './ring.ts'

/**
 * Seed length in bytes.
 * @example
 * const seed = crypto.getRandomValues(new Uint8Array(PRG_SEED_BYTES))
 */
export const PRG_SEED_BYTES = 32
/**
 * Domain label of the seed -> (AES key, IV) derivation.
 * @example
 * deriveKey(seed, PRG_LABEL, { length: 32 }) // AES key || IV
 */
export const PRG_LABEL: DomainLabel = 'cohort/prg/aes-128-ctr/v1'

const CHUNK_BYTES = 64 * 1024
const ZERO_CHUNK = Buffer.alloc(CHUNK_BYTES) // read-only input of cipher.update
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/**
 * Options of the PRG functions.
 * @example
 * addMask(chunk, seed, { k: 32, offset: 65536 })
 */
export interface PrgOptions {
  /** Ring bits k in 1..62. @default 32 */
  k?: number
  /** Index of the first element produced (for chunked processing). @default 0 */
  offset?: number
}

/**
 * One term sign · PRG(seed) of a masked sum (SecAgg: +PRG(b_u), ±PRG(s_uv)).
 * @example
 * const terms: SignedSeed[] = [{ seed: b, sign: 1 }, { seed: s01, sign: -1 }]
 */
export interface SignedSeed {
  /** 32-byte PRG seed. */
  seed: Uint8Array
  /** +1 adds PRG(seed), -1 subtracts it. */
  sign: 1 | -1
}

/** AES-128 key and initial counter block of one seed's keystream. */
interface Stream {
  key: Uint8Array
  iv: Uint8Array
}

function streamFor(seed: Uint8Array): Stream {
  aBytes(seed, PRG_SEED_BYTES, 'seed')
  const okm = deriveKey(seed, PRG_LABEL, { length: 32 })
  return { key: okm.subarray(0, 16), iv: okm.subarray(16, 32) }
}

/** iv + block mod 2^128 as a 16-byte big-endian counter block (0 <= block < 2^53, exact in doubles). */
function counterBlock(iv: Uint8Array, block: number): Buffer {
  const b = Buffer.from(iv)
  let carry = block
  for (let i = 15; i >= 0 && carry > 0; i--) {
    const s = b[i]! + (carry % 256)
    b[i] = s & 0xff
    carry = Math.floor(carry / 256) + (s >> 8)
  }
  return b
}

/**
 * A cipher positioned at keystream byte `byteOffset`. The key goes in as a secret KeyObject: given a
 * raw buffer, createCipheriv first probes it as a KeyObject and as a CryptoKey by throwing and
 * catching two exceptions (Node 24 prepareSecretKey), 10.5 µs per cipher against 1.9 µs.
 */
function cipherAt(stream: Stream, byteOffset: number): Cipheriv {
  const block = Math.floor(byteOffset / 16)
  const cipher = createCipheriv('aes-128-ctr', createSecretKey(stream.key), counterBlock(stream.iv, block))
  const skip = byteOffset % 16
  if (skip > 0) cipher.update(ZERO_CHUNK.subarray(0, skip))
  return cipher
}

/** The cipher of `seed` at element `offset`; the derived key bytes are wiped (OpenSSL keeps a copy). */
function openStream(seed: Uint8Array, offset: number, width: 4 | 8): Cipheriv {
  const stream = streamFor(seed)
  const cipher = cipherAt(stream, offset * width)
  stream.key.fill(0)
  stream.iv.fill(0)
  return cipher
}

/**
 * The next `n` elements of `width` bytes of a keystream, as little-endian words in a buffer whose
 * offset is a multiple of `width`. Node hands out cipher output in a fresh allocation (offset 0);
 * anything else is copied into a fresh buffer rather than trusted. Pass the result to
 * {@link release} once it has been used.
 */
function nextKeystream(cipher: Cipheriv, n: number, width: 4 | 8): Buffer {
  let ks = cipher.update(ZERO_CHUNK.subarray(0, n * width))
  if (ks.byteOffset % width !== 0) ks = Buffer.from(new Uint8Array(ks).buffer)
  if (!LITTLE_ENDIAN) width === 4 ? ks.swap32() : ks.swap64()
  return ks
}

/**
 * Frees a used keystream chunk now rather than at the next GC. Every cipher.update output is a new
 * malloc'd backing store that V8 frees only when a GC finds the Buffer dead; in a masking loop that
 * means megabytes of fresh, cache-cold memory per client and GCs driven by external-memory growth.
 * Detaching the buffer (ES2024 ArrayBuffer.prototype.transfer(0)) frees the store at once, so the
 * next chunk reuses the same cache-hot block: measured 5.5 -> 2.7 ms for 100 chunks of 64 KiB with an
 * add pass. Only a buffer that owns its whole ArrayBuffer is detached (never a slice of Node's
 * pool); if a runtime refuses, the GC frees it as before.
 */
function release(ks: Buffer): void {
  const ab = ks.buffer
  if (ks.byteOffset !== 0 || ab.byteLength !== ks.length || !(ab instanceof ArrayBuffer)) return
  try {
    ab.transfer(0)
  } catch {
    // not detachable here: left to the GC
  }
}

const int32s = (b: Buffer, n: number) => new Int32Array(b.buffer, b.byteOffset, n)

/**
 * Calls `visit(words, elementIndex)` for consecutive keystream chunks covering `count` elements of
 * `width` bytes from element `offset`. `words` views the chunk as LE elements and is only valid
 * during the call.
 */
function forEachChunk(
  seed: Uint8Array,
  offset: number,
  count: number,
  width: 4 | 8,
  visit: (words: Int32Array | BigUint64Array, at: number) => void
): void {
  const cipher = openStream(seed, offset, width)
  const perChunk = CHUNK_BYTES / width
  for (let at = 0; at < count; at += perChunk) {
    const n = Math.min(perChunk, count - at)
    const ks = nextKeystream(cipher, n, width)
    visit(width === 4 ? int32s(ks, n) : new BigUint64Array(ks.buffer, ks.byteOffset, n), at)
    release(ks)
  }
}

function checkRange(options: PrgOptions): { k: number; offset: number } {
  const { k = DEFAULT_RING_BITS, offset = 0 } = options
  aRingBits(k)
  aInt(offset, 'offset')
  if (offset < 0) throw new CryptoArgumentError(`offset must be >= 0, got ${offset}`)
  return { k, offset }
}

/**
 * Writes PRG(seed)[offset .. offset + out.length) into `out`, reduced mod 2^k.
 *
 * @param out - Uint32Array (k <= 32) or BigUint64Array (k > 32)
 * @example
 * const chunk = new Uint32Array(65536)
 * prgFill(seed, chunk, { offset: 3 * 65536 })
 */
export function prgFill(seed: Uint8Array, out: RingVector, options: PrgOptions = {}): void {
  const { k, offset } = checkRange(options)
  aRingVector(out, k, 'out')
  if (k <= 32) {
    const o = out as Uint32Array
    const o32 = new Int32Array(o.buffer, o.byteOffset, o.length)
    const mask = (2 ** k - 1) | 0 // -1 for k = 32: the AND is then the identity
    forEachChunk(seed, offset, o.length, 4, (w, at) => {
      o32.set(w as Int32Array, at)
      if (k < 32) for (let i = at, end = at + w.length; i < end; i++) o32[i] = o32[i]! & mask
    })
  } else {
    const o = out as BigUint64Array
    forEachChunk(seed, offset, o.length, 8, (w, at) => {
      o.set(w as BigUint64Array, at)
      for (let i = at, end = at + w.length; i < end; i++) o[i] = BigInt.asUintN(k, o[i]!)
    })
  }
}

/**
 * Expands `seed` into `d` ring elements PRG(seed)[offset .. offset + d).
 *
 * @param seed - 32 bytes
 * @param d - number of elements
 * @example
 * const mask = prgExpand(seed, 1000) // Uint32Array, k = 32
 * const wide = prgExpand(seed, 1000, { k: 48 }) // BigUint64Array
 */
export function prgExpand(seed: Uint8Array, d: number, options: PrgOptions = {}): RingVector {
  const { k } = checkRange(options)
  aInt(d, 'd')
  if (d < 0) throw new CryptoArgumentError(`d must be >= 0, got ${d}`)
  const out = k <= 32 ? new Uint32Array(d) : new BigUint64Array(d)
  prgFill(seed, out, options)
  return out
}

function checkTerms(terms: readonly SignedSeed[]): void {
  if (!Array.isArray(terms)) throw new CryptoArgumentError('terms must be an array')
  for (let j = 0; j < terms.length; j++) {
    const sign = terms[j]?.sign
    if (sign !== 1 && sign !== -1) throw new CryptoArgumentError(`terms[${j}].sign must be 1 or -1`)
    aBytes(terms[j]!.seed, PRG_SEED_BYTES, `terms[${j}].seed`)
  }
}

// One folder for the module, reused across calls (allocating and faulting in its 320 KiB each call
// would cost more than the fold) and wiped at the end of every call. Calls are synchronous, so two
// never share it.
let sharedFolder: RingFolder | undefined

/** k <= 32: four keystream chunks per fold into each vector chunk (crypto/_ring-fold.ts). */
function foldMasks(
  v: Uint32Array,
  terms: readonly SignedSeed[],
  ciphers: Cipheriv[],
  k: number,
  folder: RingFolder
) {
  const v32 = new Int32Array(v.buffer, v.byteOffset, v.length)
  // A subtracted mask enters as m ^ -1 (= ~m) plus 1 in `carry`: y - m = y + ~m + 1 (mod 2^32).
  const flip = terms.map((t) => (t.sign === 1 ? 0 : -1))
  const mask = (2 ** k - 1) | 0 // -1 for k = 32: the AND is then the identity
  const f = [0, 0, 0, 0]
  try {
    for (let at = 0; at < v.length; at += FOLD_ELEMENTS) {
      const n = Math.min(FOLD_ELEMENTS, v.length - at)
      folder.acc.set(v32.subarray(at, at + n))
      for (let j = 0; j < terms.length; j += 4) {
        let carry = 0
        for (let q = 0; q < 4; q++) {
          if (j + q < terms.length) {
            const ks = nextKeystream(ciphers[j + q]!, n, 4)
            folder.slots[q].set(int32s(ks, n))
            release(ks)
            f[q] = flip[j + q]!
            carry -= f[q]!
          } else {
            folder.slots[q].fill(0, 0, n) // the last group may have fewer than four masks
            f[q] = 0
          }
        }
        folder.fold(n, f[0]!, f[1]!, f[2]!, f[3]!, carry, mask)
      }
      v32.set(folder.acc.subarray(0, n), at)
    }
  } finally {
    folder.wipe() // the regions held keystream and, in the participant, an unmasked input
  }
}

/**
 * vec[i] += Σ_j terms[j].sign · PRG(terms[j].seed)[offset + i] mod 2^k, in place: bit-identical to
 * calling {@link addMask} / {@link subMask} once per term, several times faster for k <= 32 (see
 * the file comment). Memory: one open AES-CTR context per term and four 64 KiB keystream chunks.
 *
 * @param terms - seeds with their signs; an empty list leaves `vec` unchanged
 * @example
 * applySignedMasks(y, [{ seed: b, sign: 1 }, { seed: s01, sign: -1 }]) // y = y + PRG(b) - PRG(s01)
 */
export function applySignedMasks(
  vec: RingVector,
  terms: readonly SignedSeed[],
  options: PrgOptions = {}
): void {
  const { k, offset } = checkRange(options)
  aRingVector(vec, k, 'vec')
  checkTerms(terms)
  if (terms.length === 0) return
  const width = k <= 32 ? 4 : 8
  const ciphers = terms.map((t) => openStream(t.seed, offset, width))
  if (k <= 32) {
    sharedFolder ??= makeRingFolder()
    foldMasks(vec as Uint32Array, terms, ciphers, k, sharedFolder)
    return
  }
  // BigInt path (~20x slower per element, see ring.ts): one pass per term, chunk by chunk.
  const v = vec as BigUint64Array
  const perChunk = CHUNK_BYTES / 8
  for (let at = 0; at < v.length; at += perChunk) {
    const n = Math.min(perChunk, v.length - at)
    const y = v.subarray(at, at + n)
    for (let j = 0; j < terms.length; j++) {
      const ks = nextKeystream(ciphers[j]!, n, 8)
      ringCombineUnchecked(y, new BigUint64Array(ks.buffer, ks.byteOffset, n), k, terms[j]!.sign)
      release(ks)
    }
  }
}

/**
 * vec[i] += PRG(seed)[offset + i] mod 2^k, in place: `vec` is the slice of the full vector that
 * starts at element `offset`.
 *
 * @example
 * addMask(y, selfSeed) // y = x + PRG(b)
 */
export function addMask(vec: RingVector, seed: Uint8Array, options: PrgOptions = {}): void {
  applySignedMasks(vec, [{ seed, sign: 1 }], options)
}

/**
 * vec[i] -= PRG(seed)[offset + i] mod 2^k, in place.
 *
 * @example
 * subMask(sum, selfSeed) // remove a survivor's self mask
 */
export function subMask(vec: RingVector, seed: Uint8Array, options: PrgOptions = {}): void {
  applySignedMasks(vec, [{ seed, sign: -1 }], options)
}

/**
 * Test-only access: the raw keystream with a chosen counter start (carry tests), and the module's
 * fold scratch (to check it is wiped after every call).
 * @example
 * __TEST.keystream(key, (1n << 128n) - 1n, 16, 64)
 */
export const __TEST = Object.freeze({
  sharedFolder: (): RingFolder | undefined => sharedFolder,
  keystream(key: Uint8Array, iv0: bigint, byteOffset: number, length: number): Uint8Array {
    const iv = new Uint8Array(16)
    for (let i = 15, v = iv0; i >= 0; i--, v >>= 8n) iv[i] = Number(v & 0xffn)
    const out = new Uint8Array(length)
    const cipher = cipherAt({ key, iv }, byteOffset)
    out.set(cipher.update(Buffer.alloc(length)))
    return out
  }
})
