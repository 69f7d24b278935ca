/**
 * @internal The inner loop of masking (crypto/prg.ts applySignedMasks): fold four keystream chunks
 * into an accumulator chunk over Z_2^32, with WebAssembly SIMD (i32x4) when the runtime has it.
 *
 *   acc[i] = (acc[i] + (s0[i] ^ f0) + (s1[i] ^ f1) + (s2[i] ^ f2) + (s3[i] ^ f3) + carry) & mask
 *
 * all mod 2^32, for i < n. A flip f = -1 (all ones) with carry += 1 subtracts a slot by two's
 * complement (y - m = y + ~m + 1); f = 0 adds it; an unused slot holds zeros. `mask` = 2^k - 1
 * reduces to Z_2^k (k < 32; -1 for k = 32), which commutes with the sum since 2^k divides 2^32.
 *
 * Why WebAssembly: V8 does not vectorise the equivalent JS loop over Int32Arrays, which costs
 * ~0.9 ms per client for 16 masks of d = 10^5 (6.4 MB of keystream); i32x4 does the same work in
 * 0.09 ms, 0.2 ms with the copies into and out of the module's memory (measured on this machine,
 * x86-64, Node 24). The module is assembled below from named opcodes (WebAssembly Core 2.0, binary
 * format, chapter 5, with its vector instructions) rather than shipped as an opaque blob; its text:
 *
 *   (module
 *     (memory (export "m") 5)            ;; region r (0 = acc, 1..4 = slots) at r · 64 KiB
 *     (func (export "fold") (param $bytes i32) (param $f0 i32) (param $f1 i32) (param $f2 i32)
 *           (param $f3 i32) (param $carry i32) (param $mask i32)
 *       (local $i i32) (local $v0 v128) ... (local $vmask v128)   ;; splats of f0..f3, carry, mask
 *       (block (loop
 *         (br_if 1 (i32.ge_u (local.get $i) (local.get $bytes)))
 *         (v128.store offset=0 (local.get $i)
 *           (v128.and (local.get $vmask)
 *             (i32x4.add
 *               (i32x4.add (i32x4.add (v128.load offset=0 (local.get $i))
 *                                     (v128.xor (v128.load offset=65536 (local.get $i)) (local.get $v0)))
 *                          (i32x4.add (v128.xor (v128.load offset=131072 ...) $v1)
 *                                     (v128.xor (v128.load offset=196608 ...) $v2)))
 *               (i32x4.add (v128.xor (v128.load offset=262144 ...) $v3) (local.get $vcarry)))))
 *         (local.set $i (i32.add (local.get $i) (i32.const 16)))
 *         (br 0)))))
 *
 * Without WebAssembly (e.g. `node --jitless`) the same contract is met by a JS loop on Int32Arrays.
 * The regions hold keystream and an unmasked input between calls: callers wipe() when done.
 */
import { assemble, BLOCK, br, brIf, END, get, I32, LOOP, set, uleb, WasmFunction } from './_wasm-emit.ts'

/**
 * @internal Elements per region (64 KiB of 32-bit words); a multiple of 4, the SIMD lane count.
 * @example
 * const n = Math.min(FOLD_ELEMENTS, remaining)
 */
export const FOLD_ELEMENTS = 16384

/**
 * @internal An accumulator region and four addend slots with the fold above.
 * @example
 * const f = makeRingFolder()
 * f.acc.set(chunk)
 * f.slots[0].set(keystream)
 * f.fold(chunk.length, 0, 0, 0, 0, 0, -1) // acc += slot 0 (slots 1..3 zero)
 */
export interface RingFolder {
  /** Which kernel runs: WebAssembly SIMD or the portable JS loop. */
  readonly kind: 'simd' | 'js'
  /** Accumulator, FOLD_ELEMENTS words. */
  readonly acc: Int32Array
  /** Four addend slots, FOLD_ELEMENTS words each. */
  readonly slots: readonly [Int32Array, Int32Array, Int32Array, Int32Array]
  /** acc[i] = (acc[i] + Σ_q (slots[q][i] ^ f_q) + carry) & mask mod 2^32, for i < n <= FOLD_ELEMENTS. */
  fold(n: number, f0: number, f1: number, f2: number, f3: number, carry: number, mask: number): void
  /** Zeroes every region. */
  wipe(): void
}

const REGION_BYTES = FOLD_ELEMENTS * 4
const PAGE_BYTES = 65536

const V128 = 0x7b
const simd = (op: number) => [0xfd, ...uleb(op)]
const ALIGN_16 = 4 // memarg alignment hint: log2(16)
const load = (region: number) => [...simd(0x00), ALIGN_16, ...uleb(region * REGION_BYTES)] // v128.load
const store = [...simd(0x0b), ALIGN_16, 0] // v128.store offset=0
const splat = simd(0x11) // i32x4.splat
const and = simd(0x4e) // v128.and
const xor = simd(0x51) // v128.xor
const add = simd(0xae) // i32x4.add
const GE_U = [0x4f] // i32.ge_u
const ADD_16 = [0x41, 16, 0x6a] // i32.const 16, i32.add

function foldModule(): Uint8Array {
  // params 0..6: bytes, f0..f3, carry, mask; local 7: i; locals 8..13: splats of params 1..6
  const fold = new WasmFunction(
    'fold',
    Array.from({ length: 7 }, () => I32),
    []
  )
  const i = fold.local(I32)
  for (let p = 1; p <= 6; p++) fold.local(V128)
  const v = (p: number) => 7 + p
  const slot = (q: number) => [get(i), load(1 + q), get(v(1 + q)), xor].flat() // slot_q[i] ^ f_q
  // biome-ignore format: one line per step of the loop reads better than one token per line
  fold.emit(
    ...[1, 2, 3, 4, 5, 6].map((p) => [get(p), splat, set(v(p))].flat()), // splat f0..f3, carry, mask
    BLOCK, LOOP,
    get(i), get(0), GE_U, brIf(1), // while i < bytes
    get(i), // the store address
    get(i), load(0), slot(0), add, // acc + s0
    slot(1), slot(2), add, add, // + (s1 + s2)
    slot(3), get(v(5)), add, add, // + (s3 + carry)
    get(v(6)), and, store, // & mask -> acc
    get(i), ADD_16, set(i), // i += 16
    br(0), END, END
  )
  return assemble([fold], (5 * REGION_BYTES) / PAGE_BYTES)
}

// @types/node does not declare the WebAssembly namespace (it comes with lib.dom); type what we use
// (as crypto/he/runtime.ts does).
interface WasmNamespace {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object) => { exports: Record<string, unknown> }
}

function simdFolder(): RingFolder | undefined {
  try {
    const wasm = (globalThis as unknown as { WebAssembly: WasmNamespace }).WebAssembly
    const instance = new wasm.Instance(new wasm.Module(foldModule()))
    const memory = instance.exports.m as { readonly buffer: ArrayBuffer }
    const run = instance.exports.fold as (...args: number[]) => void
    const region = (r: number) => new Int32Array(memory.buffer, r * REGION_BYTES, FOLD_ELEMENTS)
    const all = new Uint8Array(memory.buffer)
    return {
      kind: 'simd',
      acc: region(0),
      slots: [region(1), region(2), region(3), region(4)],
      fold(n, f0, f1, f2, f3, carry, mask) {
        // Whole 16-byte lanes; words past n are scratch the caller never reads.
        run(Math.ceil(n / 4) * 16, f0, f1, f2, f3, carry, mask)
      },
      wipe: () => all.fill(0)
    }
  } catch {
    return undefined // no WebAssembly or no SIMD here: the JS kernel below
  }
}

function jsFolder(): RingFolder {
  const acc = new Int32Array(FOLD_ELEMENTS)
  const slots = [0, 1, 2, 3].map(() => new Int32Array(FOLD_ELEMENTS)) as unknown as RingFolder['slots']
  const [s0, s1, s2, s3] = slots
  return {
    kind: 'js',
    acc,
    slots,
    fold(n, f0, f1, f2, f3, carry, mask) {
      // Partial sums of <= 3 int32s stay below 2^33 in magnitude: V8 keeps them in integer
      // registers and `| 0` reduces mod 2^32 exactly.
      for (let i = 0; i < n; i++) {
        const lo = (acc[i]! + (s0[i]! ^ f0)) | 0
        const mid = ((s1[i]! ^ f1) + (s2[i]! ^ f2)) | 0
        const hi = ((s3[i]! ^ f3) + carry) | 0
        acc[i] = ((lo + mid + hi) | 0) & mask
      }
    },
    wipe() {
      acc.fill(0)
      for (const s of slots) s.fill(0)
    }
  }
}

/**
 * @internal A new folder with its own regions: the SIMD kernel when available (unless
 * `portable`), else the JS one. The two give identical results.
 * @example
 * const folder = makeRingFolder() // folder.kind === 'simd' on Node 24
 */
export function makeRingFolder(options: { portable?: boolean } = {}): RingFolder {
  return (options.portable === true ? undefined : simdFolder()) ?? jsFolder()
}
