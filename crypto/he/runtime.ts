/**
 * The one node-seal (Microsoft SEAL 4.1 compiled to WebAssembly) runtime of this process, and the
 * guard every SEAL call goes through.
 *
 * Loading: `await SEAL()` from `node-seal/throws` (the build that refuses transparent ciphertexts).
 * While it instantiates we watch `WebAssembly.instantiate` for the duration of that one call (and put
 * it back in `finally`) to keep a reference to SEAL's wasm instance. We need two things node-seal 7
 * does not export:
 * - the linear memory, so tests and benches can watch the WASM heap size ({@link sealHeapBytes});
 * - the shadow-stack helpers, so {@link guard} can restore the stack pointer after a C++ exception
 *   (see `_wasm.ts`: without this, a few thousand rejected inputs corrupt the runtime).
 * The instance is identified without guessing: we raise one harmless C++ exception and keep the
 * candidate whose exported exception tag matches it. Any doubt fails closed with HeRuntimeError.
 */
import SEAL from 'node-seal/throws'
import type { MainModule } from 'node-seal/throws'
import { findStackHelpers } from './_wasm.ts'
import { HeRuntimeError, HeSealError } from './errors.ts'

/** The node-seal v7 module: SEAL's raw Emscripten bindings (`seal.Ciphertext`, `seal.Evaluator`, ...). */
export type Seal = MainModule

interface WasmException {
  is(tag: object): boolean
  message?: unknown
}
interface WasmInstance {
  exports: Record<string, unknown>
}
interface WasmNamespace {
  instantiate(source: unknown, imports?: unknown): Promise<unknown>
  Memory: abstract new (...args: never[]) => { readonly buffer: ArrayBuffer }
  Tag: abstract new (...args: never[]) => object
  Exception: abstract new (...args: never[]) => WasmException
}
// @types/node does not declare the WebAssembly namespace (it comes with lib.dom); type what we use.
const wasm = (globalThis as unknown as { WebAssembly: WasmNamespace }).WebAssembly

/** A loaded SEAL runtime with the helpers {@link guard} needs. Internal to crypto/he. */
export interface SealRuntime {
  readonly seal: Seal
  readonly memory: { readonly buffer: ArrayBuffer }
  readonly tag: object
  readonly stackGet: () => number
  readonly stackRestore: (sp: number) => void
  /** Frees a caught C++ exception object (Emscripten's decrementExceptionRefcount). */
  readonly releaseException: (err: unknown) => void
}

let loading: Promise<SealRuntime> | undefined
let loaded: SealRuntime | undefined

function asBytes(source: unknown): Uint8Array | undefined {
  if (source instanceof Uint8Array) return source
  if (source instanceof ArrayBuffer) return new Uint8Array(source)
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength)
  return undefined
}

interface Candidate {
  instance: WasmInstance
  stackGet?: () => number
  stackRestore?: (sp: number) => void
  sp?: number
}

function describeCandidate(bytes: Uint8Array, instance: WasmInstance): Candidate {
  const names = findStackHelpers(bytes)
  if (names === undefined) return { instance }
  const get = instance.exports[names.getCurrent]
  const restore = instance.exports[names.restore]
  if (typeof get !== 'function' || typeof restore !== 'function') return { instance }
  const stackGet = get as () => number
  return { instance, stackGet, stackRestore: restore as (sp: number) => void, sp: stackGet() }
}

function bind(seal: Seal, seen: ReadonlyArray<{ bytes: Uint8Array; instance: WasmInstance }>): SealRuntime {
  const candidates = seen.map(({ bytes, instance }) => describeCandidate(bytes, instance))
  // A harmless C++ exception (Modulus value 1 is invalid): its tag tells us which instance is SEAL.
  let probe: unknown
  try {
    new seal.Modulus(1n).delete()
  } catch (err) {
    probe = err
  }
  if (!(probe instanceof wasm.Exception))
    throw new HeRuntimeError('node-seal did not raise a C++ exception as expected')
  const exception = probe
  const mine = candidates.find((c) =>
    Object.values(c.instance.exports).some((v) => v instanceof wasm.Tag && exception.is(v))
  )
  if (mine?.stackGet === undefined || mine.stackRestore === undefined || mine.sp === undefined) {
    throw new HeRuntimeError('unsupported node-seal build: cannot find its wasm instance and stack helpers')
  }
  const release = (seal as unknown as { decrementExceptionRefcount?: (e: unknown) => void })
    .decrementExceptionRefcount
  if (typeof release !== 'function')
    throw new HeRuntimeError('node-seal does not export decrementExceptionRefcount')
  mine.stackRestore(mine.sp)
  release(exception)
  const memory = Object.values(mine.instance.exports).find((v) => v instanceof wasm.Memory)
  const tag = Object.values(mine.instance.exports).find((v) => v instanceof wasm.Tag && exception.is(v))
  if (memory === undefined || tag === undefined)
    throw new HeRuntimeError('node-seal exports no memory or tag')
  return {
    seal,
    memory: memory as { readonly buffer: ArrayBuffer },
    tag: tag as object,
    stackGet: mine.stackGet,
    stackRestore: mine.stackRestore,
    releaseException: release
  }
}

async function load(): Promise<SealRuntime> {
  const seen: Array<{ bytes: Uint8Array; instance: WasmInstance }> = []
  const original = wasm.instantiate
  wasm.instantiate = function instantiateAndWatch(source: unknown, imports?: unknown): Promise<unknown> {
    const result = original.call(wasm, source, imports)
    const bytes = asBytes(source)
    if (bytes !== undefined) {
      result.then(
        (r) => {
          const instance = (r as { instance?: WasmInstance }).instance
          if (instance !== undefined) seen.push({ bytes, instance })
        },
        () => {}
      )
    }
    return result
  }
  let seal: Seal
  try {
    seal = await SEAL()
  } catch (cause) {
    throw new HeRuntimeError('could not load the node-seal WebAssembly runtime', { cause })
  } finally {
    wasm.instantiate = original
  }
  return bind(seal, seen)
}

/**
 * The process-wide SEAL runtime, loaded on first use (about 50 ms) and shared by every context.
 *
 * @throws HeRuntimeError when node-seal cannot be loaded or is a build we cannot drive safely
 * @example
 * const { seal } = await getSealRuntime()
 */
export async function getSealRuntime(): Promise<SealRuntime> {
  if (loaded !== undefined) return loaded
  loading ??= load().then(
    (rt) => {
      loaded = rt
      return rt
    },
    (err: unknown) => {
      loading = undefined // allow a retry
      throw err
    }
  )
  return loading
}

/**
 * The process-wide node-seal module (raw SEAL bindings), loaded once.
 *
 * @example
 * const seal = await getSeal()
 * using parms = new seal.EncryptionParameters(seal.SchemeType.bfv)
 */
export async function getSeal(): Promise<Seal> {
  return (await getSealRuntime()).seal
}

/**
 * Current size of SEAL's WebAssembly linear memory in bytes (0 before the runtime is loaded). Wasm
 * memory only grows, so a value that stays flat across many encrypt/free cycles means nothing leaks.
 *
 * @example
 * const before = sealHeapBytes(); runManyCycles(); expect(sealHeapBytes()).toBe(before)
 */
export function sealHeapBytes(): number {
  return loaded === undefined ? 0 : loaded.memory.buffer.byteLength
}

function messageOf(err: WasmException): string {
  const m = err.message
  if (Array.isArray(m)) return m.filter((s) => typeof s === 'string' && s.length > 0).join(': ')
  return typeof m === 'string' ? m : 'unknown C++ exception'
}

/**
 * Runs `fn` (which calls into SEAL). If SEAL throws a C++ exception, the shadow-stack pointer is put
 * back, the exception object is freed, and a CohortError is thrown instead: `translate(message)` when
 * given, HeSealError otherwise. Other errors pass through unchanged (after the stack is restored).
 *
 * @example
 * const ct = guard(rt, () => { const c = new rt.seal.Ciphertext(); c.loadFromArray(native, bytes); return c })
 */
export function guard<T>(rt: SealRuntime, fn: () => T, translate?: (message: string) => Error): T {
  const sp = rt.stackGet()
  try {
    return fn()
  } catch (err) {
    rt.stackRestore(sp)
    if (err instanceof wasm.Exception && err.is(rt.tag)) {
      const message = messageOf(err)
      rt.releaseException(err)
      throw translate === undefined ? new HeSealError(message) : translate(message)
    }
    throw err
  }
}
