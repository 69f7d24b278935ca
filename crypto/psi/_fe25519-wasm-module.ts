/**
 * @internal The WebAssembly module of ./_fe25519-wasm.ts: arithmetic in F_p, p = 2^255 - 19, for
 * hash-to-curve (./hash-to-curve.ts). WebAssembly has exact 64-bit integer products, so the ref10
 * representation (Bernstein et al., the reference code of Ed25519/X25519 in SUPERCOP) runs as
 * native integer code instead of the exact-double tricks of ./_fe25519.ts.
 *
 * Representation: an element is 10 signed limbs stored as i32 at a 40-byte address in the module's
 * memory: value = Σ h_i·2^ceil(25.5·i), limb i of 26 bits when i is even, 25 when odd. Products are
 * i64: with |f_i|, |g_i| <= 1.65·2^26 (even) / 1.65·2^25 (odd) every column of the 10×10 schoolbook
 * product, terms at weight >= 2^255 multiplied by 19 (2^255 ≡ 19) and odd×odd terms by 2 (their
 * weights sum to one bit more than the column's), stays below 2^62 (ref10 fe_mul's bound). Every
 * operation ends with ref10's carry sequence (rounding carries, 0→1, 4→5, 1→2, 5→6, 2→3, 6→7, 3→4,
 * 7→8, 4→5, 8→9, 9→0 as ·19, 0→1), which leaves limbs within 1.01·2^25 / 1.01·2^24: far inside the
 * multiplication's bound, so every stored element is a valid input to every operation. Only
 * toBytes reduces fully below p (ref10 fe_tobytes); equality, zero and parity go through it.
 *
 * The module is generated below (../_wasm-emit.ts) from these rules: straight-line code, no branch
 * and no memory access that depends on a field value. Its shape, e.g. for mul:
 *
 *   (func $mul (export "mul") (param $o i32) (param $a i32) (param $b i32)
 *     (local $f0 i64) ... (local $g9 i64) (local $g19_1 i64) ... (local $h9 i64) (local $c i64)
 *     (local.set $f0 (i64.load32_s offset=0 (local.get $a)))  ...      ;; and $g0.. from $b
 *     (local.set $g19_1 (i64.mul (local.get $g1) (i64.const 19)))  ... ;; 19·g_j for j >= 1
 *     (local.set $f2_1 (i64.add (local.get $f1) (local.get $f1)))  ... ;; 2·f_i for odd i
 *     (local.set $h0 (i64.add (i64.mul $f0 $g0) (i64.add (i64.mul $f2_1 $g19_9) ...)))  ;; 10 terms
 *     ...                                                               ;; h1 .. h9
 *     (local.set $c (i64.shr_s (i64.add $h0 (i64.const 0x2000000)) (i64.const 26)))   ;; carry 0→1
 *     (local.set $h1 (i64.add $h1 $c)) (local.set $h0 (i64.sub $h0 (i64.shl $c (i64.const 26))))
 *     ...                                                               ;; the other 11 carries
 *     (i64.store32 offset=0 (local.get $o) (local.get $h0)) ...)
 *
 * sqr uses the 55 distinct products (cross terms doubled), sqrn loops sqr with the limbs in locals.
 */
import {
  assemble,
  BLOCK,
  br,
  brIf,
  type Code,
  call,
  END,
  get,
  I32,
  I32_EQZ,
  I32_SUB,
  I32_WRAP,
  I64,
  I64_ADD,
  I64_AND,
  I64_EQZ,
  I64_EXTEND_U,
  I64_MUL,
  I64_OR,
  I64_SHL,
  I64_SHR_S,
  I64_SHR_U,
  I64_SUB,
  I64_XOR,
  i32c,
  i64c,
  i64Load,
  i64Load8u,
  i64Load32s,
  i64Store,
  i64Store32,
  LOOP,
  set,
  tee,
  WasmFunction
} from '../_wasm-emit.ts'

/** Limbs per element. */
export const N = 10
/** Bit offset of limb i: ceil(25.5·i). */
const OFF = Array.from({ length: 16 }, (_, i) =>
  i < N ? Math.ceil(25.5 * i) : 255 + Math.ceil(25.5 * (i - N))
)
/** Width in bits of limb i. */
export const W = (i: number): number => (i % 2 === 0 ? 26 : 25)
/** ref10's carry order: spreads two interleaved chains so that neither is long. */
const CARRIES = [0, 4, 1, 5, 2, 6, 3, 7, 4, 8, 9, 0]
/** Bytes of one element (10 × i32). */
export const FE_BYTES = 40
/** Where toBytes writes for isZero / sgn0 (32 bytes). */
const SCRATCH = 0
/** First address the allocator hands out. */
export const HEAP = 64
/** Memory size in 64 KiB pages (never grown, so views of it stay valid). */
export const PAGES = 4

const loadFe = (f: WasmFunction, addr: number, limbs: number[]) => {
  for (let i = 0; i < N; i++) f.emit(get(addr), i64Load32s(4 * i), set(limbs[i]!))
}
const storeFe = (f: WasmFunction, addr: number, limbs: number[]) => {
  for (let i = 0; i < N; i++) f.emit(get(addr), get(limbs[i]!), i64Store32(4 * i))
}
const locals = (f: WasmFunction, n = N) => Array.from({ length: n }, () => f.local(I64))

/** ref10's rounding carries over h (see the file comment); c is a scratch local. */
function carry(f: WasmFunction, h: number[], c: number): void {
  for (const i of CARRIES) {
    const w = W(i)
    const next = (i + 1) % N
    f.emit(get(h[i]!), i64c(2 ** (w - 1)), I64_ADD, i64c(w), I64_SHR_S, set(c))
    f.emit(get(h[next]!), get(c), i === N - 1 ? [...i64c(19), ...I64_MUL] : [], I64_ADD, set(h[next]!))
    f.emit(get(h[i]!), get(c), i64c(w), I64_SHL, I64_SUB, set(h[i]!))
  }
}

/** h = columns of Σ coef·x_i·y_j, each term as (left i) · (right j) locals chosen by `pick`. */
function columns(f: WasmFunction, h: number[], terms: [number, number][][]): void {
  for (let k = 0; k < N; k++) {
    terms[k]!.forEach(([x, y], t) => {
      f.emit(get(x), get(y), I64_MUL, t > 0 ? I64_ADD : [])
    })
    f.emit(set(h[k]!))
  }
}

/** A local holding c·x, made once per (x, c). */
function scaler(f: WasmFunction) {
  const made = new Map<string, number>()
  return (x: number, c: number): number => {
    if (c === 1) return x
    const key = `${x}*${c}`
    let l = made.get(key)
    if (l === undefined) {
      l = f.local(I64)
      f.emit(get(x), c === 2 ? get(x) : i64c(c), c === 2 ? I64_ADD : I64_MUL, set(l))
      made.set(key, l)
    }
    return l
  }
}

/** Squaring terms of x (55 products): coefficient (2 if i < j)·(2 if both odd)·(19 if wrapped). */
function sqrTerms(f: WasmFunction, x: number[]): [number, number][][] {
  const s = scaler(f)
  const terms: [number, number][][] = Array.from({ length: N }, () => [])
  for (let i = 0; i < N; i++) {
    for (let j = i; j < N; j++) {
      const odd = i % 2 === 1 && j % 2 === 1 ? 2 : 1
      const wrap = i + j >= N ? 19 : 1
      terms[(i + j) % N]!.push([s(x[i]!, i < j ? 2 : 1), s(x[j]!, odd * wrap)])
    }
  }
  return terms
}

function mulFn(): WasmFunction {
  const f = new WasmFunction('mul', [I32, I32, I32], [])
  const [a, b, h, c] = [locals(f), locals(f), locals(f), f.local(I64)]
  loadFe(f, 1, a)
  loadFe(f, 2, b)
  const s = scaler(f)
  const terms: [number, number][][] = Array.from({ length: N }, () => [])
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      const odd = i % 2 === 1 && j % 2 === 1 ? 2 : 1
      terms[(i + j) % N]!.push([s(a[i]!, odd), s(b[j]!, i + j >= N ? 19 : 1)])
    }
  }
  columns(f, h, terms)
  carry(f, h, c)
  storeFe(f, 0, h)
  return f
}

/** sqr (count = 1) or sqrn: a^(2^n), the limbs kept in locals between squarings. */
function sqrFn(many: boolean): WasmFunction {
  const f = new WasmFunction(many ? 'sqrn' : 'sqr', many ? [I32, I32, I32] : [I32, I32], [])
  const [a, h, c] = [locals(f), locals(f), f.local(I64)]
  loadFe(f, 1, a)
  if (many) f.emit(BLOCK, LOOP, get(2), I32_EQZ, brIf(1)) // while (n != 0)
  columns(f, h, sqrTerms(f, a))
  carry(f, h, c)
  if (many) {
    for (let i = 0; i < N; i++) f.emit(get(h[i]!), set(a[i]!))
    f.emit(get(2), i32c(1), I32_SUB, set(2), br(0), END, END)
    storeFe(f, 0, a)
  } else storeFe(f, 0, h)
  return f
}

/** o = combine(a_i, b_i) limb by limb (b a second element or the i32 param k), carried. */
function limbwise(exportName: string, op: Code, scalar: boolean): WasmFunction {
  const f = new WasmFunction(exportName, [I32, I32, I32], [])
  const [a, b, c] = [locals(f), locals(f), f.local(I64)]
  loadFe(f, 1, a)
  if (scalar) f.emit(get(2), I64_EXTEND_U, set(b[0]!))
  else loadFe(f, 2, b)
  for (let i = 0; i < N; i++) f.emit(get(a[i]!), get(b[scalar ? 0 : i]!), op, set(a[i]!))
  carry(f, a, c)
  storeFe(f, 0, a)
  return f
}

/** o = flag ? a : o for flag in {0, 1}: o ^ (-flag & (o ^ a)). */
function cmovFn(): WasmFunction {
  const f = new WasmFunction('cmov', [I32, I32, I32], [])
  const [mask, t] = [f.local(I64), f.local(I64)]
  f.emit(i64c(0), get(2), I64_EXTEND_U, I64_SUB, set(mask))
  for (let i = 0; i < N; i++) {
    f.emit(get(0), get(0), i64Load32s(4 * i), tee(t)) // store address, o_i
    f.emit(get(mask), get(t), get(1), i64Load32s(4 * i), I64_XOR, I64_AND, I64_XOR, i64Store32(4 * i))
  }
  return f
}

function copyFn(): WasmFunction {
  const f = new WasmFunction('copy', [I32, I32], [])
  for (let w = 0; w < FE_BYTES; w += 8) f.emit(get(0), get(1), i64Load(w), i64Store(w))
  return f
}

/**
 * toBytes(out, a): the canonical 32-byte little-endian encoding. After a carry, ref10 fe_tobytes:
 * q = floor(value / p) from the top limb down, value - q·p by a plain (floor) carry chain, then the
 * limbs packed into four 64-bit words.
 */
function toBytesFn(): WasmFunction {
  const f = new WasmFunction('toBytes', [I32, I32], [])
  const [h, c, q] = [locals(f), f.local(I64), f.local(I64)]
  loadFe(f, 1, h)
  carry(f, h, c)
  f.emit(get(h[9]!), i64c(19), I64_MUL, i64c(1 << 24), I64_ADD, i64c(25), I64_SHR_S, set(q))
  for (let i = 0; i < N; i++) f.emit(get(h[i]!), get(q), I64_ADD, i64c(W(i)), I64_SHR_S, set(q))
  f.emit(get(h[0]!), get(q), i64c(19), I64_MUL, I64_ADD, set(h[0]!))
  for (let i = 0; i < N; i++) {
    f.emit(get(h[i]!), i64c(W(i)), I64_SHR_S, set(c)) // carry out of limb i (dropped from limb 9: 2^255)
    if (i < N - 1) f.emit(get(h[i + 1]!), get(c), I64_ADD, set(h[i + 1]!))
    f.emit(get(h[i]!), get(c), i64c(W(i)), I64_SHL, I64_SUB, set(h[i]!))
  }
  for (let word = 0; word < 4; word++) {
    f.emit(get(0))
    let first = true
    for (let i = 0; i < N; i++) {
      const lo = OFF[i]! - 64 * word
      if (lo >= 64 || lo + W(i) <= 0) continue
      f.emit(
        get(h[i]!),
        lo >= 0 ? [...i64c(lo), ...I64_SHL] : [...i64c(-lo), ...I64_SHR_U],
        first ? [] : I64_OR
      )
      first = false
    }
    f.emit(i64Store(8 * word))
  }
  return f
}

/** isZero(a) / sgn0(a): from the canonical bytes at SCRATCH (toBytes is function `toBytes`). */
function fromCanonical(exportName: string, toBytes: number, zero: boolean): WasmFunction {
  const f = new WasmFunction(exportName, [I32], [I32])
  f.emit(i32c(SCRATCH), get(0), call(toBytes))
  if (zero) {
    f.emit(i32c(SCRATCH), i64Load(0))
    for (let w = 8; w < 32; w += 8) f.emit(i32c(SCRATCH), i64Load(w), I64_OR)
    f.emit(I64_EQZ)
  } else f.emit(i32c(SCRATCH), i64Load8u(0), i64c(1), I64_AND, I32_WRAP)
  return f
}

/**
 * fromBE48(o, at): OS2IP of the 48 bytes at `at` (big-endian, RFC 9380 §5.2) mod p. The 384-bit
 * integer is cut into 16 limbs continuing the 25.5-bit pattern past 2^255 (limb 10 + k at bit
 * 255 + offset k); 2^255 ≡ 19 folds limb 10 + k onto limb k, then a carry.
 */
function fromBE48Fn(): WasmFunction {
  const f = new WasmFunction('fromBE48', [I32, I32], [])
  const [h, c] = [locals(f, 16), f.local(I64)]
  for (let i = 0; i < 16; i++) {
    const w = Math.min(W(i), 384 - OFF[i]!)
    for (let j = Math.floor(OFF[i]! / 8); j <= Math.floor((OFF[i]! + w - 1) / 8); j++) {
      const shift = 8 * j - OFF[i]!
      f.emit(
        get(1),
        i64Load8u(47 - j),
        shift >= 0 ? [...i64c(shift), ...I64_SHL] : [...i64c(-shift), ...I64_SHR_U]
      )
      if (j > Math.floor(OFF[i]! / 8)) f.emit(I64_OR)
    }
    f.emit(i64c(2 ** w - 1), I64_AND, set(h[i]!))
  }
  for (let i = 0; i < 6; i++) f.emit(get(h[i]!), get(h[N + i]!), i64c(19), I64_MUL, I64_ADD, set(h[i]!))
  carry(f, h, c)
  storeFe(f, 0, h)
  return f
}

/**
 * @internal The module's bytes. Exports (addresses are i32 byte offsets into the memory "m"):
 * mul(o, a, b), sqr(o, a), sqrn(o, a, n), add(o, a, b), sub(o, a, b), mulSmall(o, a, k), cmov(o, a,
 * flag), copy(o, a), toBytes(out, a), isZero(a) -> i32, sgn0(a) -> i32, fromBE48(o, at).
 * @example
 * const module = new WebAssembly.Module(fieldModule())
 */
export function fieldModule(): Uint8Array {
  const fns = [mulFn(), sqrFn(false), sqrFn(true), limbwise('add', I64_ADD, false)]
  fns.push(limbwise('sub', I64_SUB, false), limbwise('mulSmall', I64_MUL, true), cmovFn(), copyFn())
  const toBytes = fns.push(toBytesFn()) - 1
  fns.push(fromCanonical('isZero', toBytes, true), fromCanonical('sgn0', toBytes, false), fromBE48Fn())
  return assemble(fns, PAGES)
}
