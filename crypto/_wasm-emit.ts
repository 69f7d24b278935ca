/**
 * @internal A minimal WebAssembly binary writer (Core spec 2.0, chapter 5 "Binary Format") for our
 * two generated modules, the field arithmetic of ./psi/_fe25519-wasm.ts and the SIMD fold of
 * ./_ring-fold.ts: named opcodes, functions with typed locals, one exported memory. Only what those
 * modules need; no validation beyond the engine's own.
 */

/** Instruction bytes. */
export type Code = number[]

/** Value types (§5.3.1). */
export const I32 = 0x7f
export const I64 = 0x7e

/** Unsigned LEB128 (§5.2.2) of a non-negative integer < 2^32. */
export function uleb(n: number): Code {
  const out: Code = []
  do {
    const b = n & 0x7f
    n >>>= 7
    out.push(n === 0 ? b : b | 0x80)
  } while (n !== 0)
  return out
}

/** Signed LEB128 (§5.2.2), for i32.const / i64.const immediates. */
export function sleb(value: number | bigint): Code {
  let n = BigInt(value)
  const out: Code = []
  for (;;) {
    const b = Number(n & 0x7fn)
    n >>= 7n
    const done = (n === 0n && (b & 0x40) === 0) || (n === -1n && (b & 0x40) !== 0)
    out.push(done ? b : b | 0x80)
    if (done) return out
  }
}

const vec = (items: Code[]): Code => [...uleb(items.length), ...items.flat()]
const section = (id: number, body: Code): Code => [id, ...uleb(body.length), ...body]
const name = (s: string): Code => vec([...s].map((c) => [c.charCodeAt(0)]))

// Instructions (§5.4). Memory accesses take a natural-alignment hint and a constant offset.
export const get = (i: number): Code => [0x20, ...uleb(i)] // local.get
export const set = (i: number): Code => [0x21, ...uleb(i)] // local.set
export const tee = (i: number): Code => [0x22, ...uleb(i)] // local.tee
export const i32c = (n: number): Code => [0x41, ...sleb(n)] // i32.const
export const i64c = (n: number | bigint): Code => [0x42, ...sleb(n)] // i64.const
export const call = (f: number): Code => [0x10, ...uleb(f)]
export const i64Load32s = (offset: number): Code => [0x34, 2, ...uleb(offset)] // i64.load32_s
export const i64Store32 = (offset: number): Code => [0x3e, 2, ...uleb(offset)] // i64.store32
export const i64Load8u = (offset: number): Code => [0x31, 0, ...uleb(offset)] // i64.load8_u
export const i64Store = (offset: number): Code => [0x37, 3, ...uleb(offset)] // i64.store
export const i64Load = (offset: number): Code => [0x29, 3, ...uleb(offset)] // i64.load
export const I32_SUB = [0x6b]
export const I32_EQZ = [0x45]
export const I32_WRAP = [0xa7] // i32.wrap_i64
export const I64_EQZ = [0x50]
export const I64_ADD = [0x7c]
export const I64_SUB = [0x7d]
export const I64_MUL = [0x7e]
export const I64_AND = [0x83]
export const I64_OR = [0x84]
export const I64_XOR = [0x85]
export const I64_SHL = [0x86]
export const I64_SHR_S = [0x87]
export const I64_SHR_U = [0x88]
export const I64_EXTEND_U = [0xad] // i64.extend_i32_u
export const BLOCK = [0x02, 0x40] // block (no result)
export const LOOP = [0x03, 0x40] // loop (no result)
export const brIf = (depth: number): Code => [0x0d, ...uleb(depth)]
export const br = (depth: number): Code => [0x0c, ...uleb(depth)]
export const END = [0x0b]

/**
 * @internal A function under construction: parameters first, then locals added by {@link local}.
 * @example
 * const f = new WasmFunction('sqr', [I32, I32], [])
 * const t = f.local(I64)
 */
export class WasmFunction {
  readonly exportName: string | undefined
  readonly params: number[]
  readonly results: number[]
  readonly locals: number[] = []
  readonly body: Code = []

  constructor(exportName: string | undefined, params: number[], results: number[]) {
    this.exportName = exportName
    this.params = params
    this.results = results
  }

  /** A new local of type t; returns its index. */
  local(t: number): number {
    this.locals.push(t)
    return this.params.length + this.locals.length - 1
  }

  /** Appends instructions. */
  emit(...code: Code[]): void {
    for (const c of code) for (const b of c) this.body.push(b)
  }
}

/**
 * @internal The module bytes: function i (in array order) has index i; one memory of `pages` 64 KiB
 * pages, exported as "m"; functions with an exportName are exported under it.
 * @example
 * const bytes = assemble([f], 4)
 */
export function assemble(funcs: readonly WasmFunction[], pages: number): Uint8Array {
  const sigs: string[] = []
  const typeOf = funcs.map((f) => {
    const sig = JSON.stringify([f.params, f.results])
    if (!sigs.includes(sig)) sigs.push(sig)
    return sigs.indexOf(sig)
  })
  const types = sigs.map((s) => {
    const [params, results] = JSON.parse(s) as [number[], number[]]
    return [0x60, ...vec(params.map((t) => [t])), ...vec(results.map((t) => [t]))]
  })
  const bodies = funcs.map((f) => {
    const runs: Code[] = [] // consecutive locals of one type share an entry
    for (let i = 0; i < f.locals.length; ) {
      let j = i
      while (j < f.locals.length && f.locals[j] === f.locals[i]) j++
      runs.push([...uleb(j - i), f.locals[i]!])
      i = j
    }
    const code = [...vec(runs), ...f.body, ...END]
    return [...uleb(code.length), ...code]
  })
  const exports: Code[] = [[...name('m'), 0x02, 0]]
  funcs.forEach((f, i) => {
    if (f.exportName !== undefined) exports.push([...name(f.exportName), 0x00, ...uleb(i)])
  })
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // magic, version 1
    ...section(1, vec(types)),
    ...section(3, vec(typeOf.map((t) => uleb(t)))),
    ...section(5, vec([[0x00, ...uleb(pages)]])), // memory 0: min pages, no max
    ...section(7, vec(exports)),
    ...section(10, vec(bodies))
  ])
}
