import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'

/**
 * One tfjs backend per process, chosen once:
 * 1. `tensorflow` (native libtensorflow) when `@tensorflow/tfjs-node` happens to be installed — it is
 *    not a dependency (it does not build here) and is never required;
 * 2. `wasm` (XNNPACK, SIMD; single-threaded under Node): the default. `setWasmPaths` gets the
 *    package's `dist/` directory as a *file path* (Node's fetch cannot load file:// URLs, and the
 *    backend reads the .wasm with fs when given a path);
 * 3. `cpu` (plain JS) if wasm fails, with a note on stderr.
 * Measured on this machine (Node 24.21, 2 cores): wasm with SIMD initialises in ~20 ms.
 */

/**
 * What {@link initTf} settled on.
 * @example
 * const { backend } = await initTf() // 'wasm'
 */
export interface TfBackendInfo {
  backend: string
  /** Why a preferred backend was skipped, if one was. */
  note?: string
}

let ready: Promise<TfBackendInfo> | undefined

/**
 * Options of {@link initTf}.
 * @example
 * await initTf({ prefer: 'cpu' })
 */
export interface InitTfOptions {
  /** Force a backend (tests use 'cpu' to cross-check). @default native if installed, else 'wasm' */
  prefer?: 'tensorflow' | 'wasm' | 'cpu'
  /** Where a fallback note goes. @default console.error */
  log?: (line: string) => void
}

/**
 * Sets the tfjs backend up once per process; later calls return the same promise.
 *
 * @example
 * await initTf()
 * tf.tidy(() => tf.ones([2]).sum())
 */
export function initTf(options: InitTfOptions = {}): Promise<TfBackendInfo> {
  ready ??= choose(options)
  return ready
}

async function choose(options: InitTfOptions): Promise<TfBackendInfo> {
  const log = options.log ?? ((line: string) => console.error(line))
  const prefer = options.prefer
  if (prefer === undefined || prefer === 'tensorflow') {
    if (await tryNative()) return { backend: tf.getBackend() }
    if (prefer === 'tensorflow') log('cohort: @tensorflow/tfjs-node is not installed; using the wasm backend')
  }
  if (prefer !== 'cpu') {
    try {
      const require = createRequire(import.meta.url)
      const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')
      setWasmPaths(`${dist}/`)
      if (await tf.setBackend('wasm')) {
        await tf.ready()
        return { backend: 'wasm' }
      }
      throw new Error('setBackend returned false')
    } catch (err) {
      const note = `cohort: the tfjs wasm backend failed (${(err as Error).message}); training on the slower cpu backend`
      log(note)
      await tf.setBackend('cpu')
      await tf.ready()
      return { backend: 'cpu', note }
    }
  }
  await tf.setBackend('cpu')
  await tf.ready()
  return { backend: 'cpu' }
}

async function tryNative(): Promise<boolean> {
  // A computed specifier: the package is optional and must not be resolved at type-check time.
  const name = ['@tensorflow', 'tfjs-node'].join('/')
  try {
    import.meta.resolve(name)
  } catch {
    return false
  }
  try {
    await import(name)
    return await tf.setBackend('tensorflow')
  } catch {
    return false
  }
}

export { tf }
