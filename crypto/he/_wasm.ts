/**
 * Finds Emscripten's shadow-stack helpers in a WebAssembly binary by what their code does.
 *
 * Why: when a C++ exception escapes from SEAL into JavaScript, the unwound C++ frames never run their
 * epilogues, so the shadow-stack pointer (a wasm global) is not restored. Each caught exception leaks
 * 16-48 bytes of the 64 KiB stack; after a few thousand rejected inputs the stack runs into static data
 * and the runtime corrupts itself ("table index is out of bounds"). Emscripten's answer (issue
 * emscripten-core/emscripten#21606) is `stackSave()` before the call and `stackRestore(sp)` in the catch
 * block, but node-seal 7 does not export those two helpers, and the export names are minified.
 *
 * The helpers have fixed one-instruction bodies (emscripten system/lib/compiler-rt/stack_ops.S):
 *   emscripten_stack_get_current: global.get $sp; end           -> 00 23 <g> 0b
 *   _emscripten_stack_restore:    local.get 0; global.set $sp; end -> 00 20 00 24 <g> 0b
 * (the leading 00 is "no local declarations"). We parse the export and code sections (WebAssembly
 * core spec §5.5) and pick the exported functions with exactly these bodies on the same global.
 */

/** Export names of the two helpers, or undefined when the binary does not have exactly one of each. */
export interface StackHelperNames {
  getCurrent: string
  restore: string
}

class Reader {
  pos = 0
  readonly bytes: Uint8Array
  constructor(bytes: Uint8Array) {
    this.bytes = bytes
  }
  byte(): number {
    if (this.pos >= this.bytes.length) throw new RangeError('truncated wasm binary')
    return this.bytes[this.pos++]!
  }
  /** Unsigned LEB128, at most 32 bits. */
  u32(): number {
    let result = 0
    let shift = 0
    for (;;) {
      const b = this.byte()
      result += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) return result
      shift += 7
      if (shift > 28) throw new RangeError('LEB128 too long')
    }
  }
  skip(n: number): void {
    if (this.pos + n > this.bytes.length) throw new RangeError('truncated wasm binary')
    this.pos += n
  }
  name(): string {
    const n = this.u32()
    const start = this.pos
    this.skip(n)
    return new TextDecoder().decode(this.bytes.subarray(start, start + n))
  }
  limits(): void {
    const flags = this.byte()
    this.u32()
    if (flags & 1) this.u32()
  }
}

/** Counts imported functions (they come first in the function index space). */
function countImportedFunctions(r: Reader, end: number): number {
  let funcs = 0
  const n = r.u32()
  for (let i = 0; i < n && r.pos < end; i++) {
    r.name()
    r.name()
    const kind = r.byte()
    if (kind === 0) {
      r.u32()
      funcs++
    } else if (kind === 1) {
      r.byte()
      r.limits()
    } else if (kind === 2) r.limits()
    else if (kind === 3) r.skip(2)
    else if (kind === 4) {
      r.byte()
      r.u32()
    } else throw new RangeError(`unknown import kind ${kind}`)
  }
  return funcs
}

function sameBytes(a: Uint8Array, b: readonly number[]): boolean {
  return a.length === b.length && b.every((v, i) => a[i] === v)
}

/**
 * Locates the shadow-stack get/restore helpers among the exports of an Emscripten wasm binary.
 *
 * @example
 * const names = findStackHelpers(wasmBytes) // { getCurrent: '$', restore: 'Z' } for node-seal 7.0.0
 */
export function findStackHelpers(bytes: Uint8Array): StackHelperNames | undefined {
  try {
    return scan(bytes)
  } catch {
    return undefined // not a binary we can read: refuse to guess
  }
}

function scan(bytes: Uint8Array): StackHelperNames | undefined {
  const r = new Reader(bytes)
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d)
    return
  r.pos = 8
  let importedFuncs = 0
  const exportedFuncs = new Map<number, string>()
  let bodies: Uint8Array[] = []
  while (r.pos < bytes.length) {
    const id = r.byte()
    const size = r.u32()
    const end = r.pos + size
    if (id === 2) importedFuncs = countImportedFunctions(r, end)
    else if (id === 7) {
      const n = r.u32()
      for (let i = 0; i < n; i++) {
        const name = r.name()
        const kind = r.byte()
        const index = r.u32()
        if (kind === 0) exportedFuncs.set(index, name)
      }
    } else if (id === 10) {
      const n = r.u32()
      bodies = []
      for (let i = 0; i < n; i++) {
        const len = r.u32()
        bodies.push(bytes.subarray(r.pos, r.pos + len))
        r.skip(len)
      }
    }
    r.pos = end
  }
  const getters: Array<[string, number]> = []
  const restorers: Array<[string, number]> = []
  for (const [index, name] of exportedFuncs) {
    const body = bodies[index - importedFuncs]
    if (body === undefined) continue
    // Global indices below 128 are one LEB128 byte; __stack_pointer is the first global in practice.
    if (body.length === 4 && sameBytes(body, [0x00, 0x23, body[2]!, 0x0b]) && body[2]! < 0x80) {
      getters.push([name, body[2]!])
    } else if (
      body.length === 6 &&
      sameBytes(body, [0x00, 0x20, 0x00, 0x24, body[4]!, 0x0b]) &&
      body[4]! < 0x80
    ) {
      restorers.push([name, body[4]!])
    }
  }
  // Exactly one (getter, restorer) pair on the same global, or we refuse to guess.
  const pairs = restorers.flatMap(([restore, g]) =>
    getters.filter(([, g2]) => g2 === g).map(([getCurrent]) => ({ getCurrent, restore }))
  )
  return pairs.length === 1 ? pairs[0] : undefined
}
