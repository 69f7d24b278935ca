/**
 * Deterministic release of SEAL memory.
 *
 * SEAL objects live in the WebAssembly heap; the JS garbage collector never sees their size and never
 * frees them. Every SEAL object this module hands out is owned by exactly one wrapper that implements
 * `Disposable`, so callers write `using ct = ...` (Node 24 supports explicit resource management, also
 * under type stripping) or call `dispose()` in a `finally`. Inside the module every temporary SEAL
 * handle (plaintexts, parms ids, context data, encoders' outputs) is bound with `using` as well: embind
 * handles of node-seal 7 implement `[Symbol.dispose]` by calling `.delete()`.
 *
 * Invariants: `dispose()` is idempotent; using a disposed wrapper throws HeDisposedError instead of
 * touching freed memory; a wrapper never shares its handle with another wrapper.
 */
import type { HeContext } from './context.ts'
import { HeDisposedError } from './errors.ts'

/** What every embind handle offers. */
export interface SealHandle {
  delete(): void
  isDeleted(): boolean
}

/**
 * Base of every wrapper that owns one SEAL object belonging to an HeContext.
 *
 * @example
 * class HeThing extends SealOwned<Ciphertext> { readonly kind = 'thing' }
 * using thing = new HeThing(ctx, new ctx.seal.Ciphertext(), 'thing')
 */
export abstract class SealOwned<T extends SealHandle> implements Disposable {
  /** The context the object was created or loaded under. */
  readonly context: HeContext
  readonly #what: string
  #handle: T | undefined

  protected constructor(context: HeContext, handle: T, what: string) {
    this.context = context
    this.#handle = handle
    this.#what = what
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this.#handle === undefined
  }

  /**
   * The owned SEAL handle, for crypto/he internals. Never delete it or keep it beyond the wrapper.
   *
   * @throws HeDisposedError after dispose()
   */
  get handle(): T {
    if (this.#handle === undefined) throw new HeDisposedError(this.#what)
    return this.#handle
  }

  /** Frees dependent SEAL objects (encryptors, decryptors) before the handle itself. */
  protected releaseDependents(): void {}

  /** Frees the SEAL memory now. Safe to call twice. */
  dispose(): void {
    const h = this.#handle
    if (h === undefined) return
    this.#handle = undefined
    try {
      this.releaseDependents()
    } finally {
      if (!h.isDeleted()) h.delete()
    }
  }

  [Symbol.dispose](): void {
    this.dispose()
  }
}

/**
 * Disposes every item (skipping undefined), even if one of them throws; rethrows the first error.
 *
 * @example
 * disposeAll([keys.publicKey, keys.secretKey, vec])
 */
export function disposeAll(items: Iterable<Disposable | undefined>): void {
  let first: unknown
  let failed = false
  for (const item of items) {
    if (item === undefined) continue
    try {
      item[Symbol.dispose]()
    } catch (err) {
      if (!failed) first = err
      failed = true
    }
  }
  if (failed) throw first
}
