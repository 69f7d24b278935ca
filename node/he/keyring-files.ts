/**
 * On-disk key sets of a key-holder node: `<home>/he-keys/<keyId>.seal` (0600, directory 0700), one
 * msgpack record per key set with the SEAL secret and public keys, and `<home>/he-keys/current` naming
 * the key id new jobs use. A key-holder that restarts must decrypt sums for the key its jobs pinned,
 * so keys are written (temp file, fsync, rename) before the key is announced to anyone.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync
} from 'node:fs'
import { join } from 'node:path'
import { pack, unpack } from 'msgpackr'
import { z } from 'zod'
import { loadPublicKey, loadSecretKey, savePublicKey, saveSecretKey } from '../../crypto/he/index.ts'
import type { HeContext, HeKeySet } from '../../crypto/he/index.ts'
import { disposeAll } from '../../crypto/he/index.ts'
import { HeKeyStoreError } from './errors.ts'

/** Sub-directory of the node home holding the key sets. */
export const HE_KEYS_DIR = 'he-keys'

const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/
/** A stored secret + public key of N = 8192 is ~1 MB; anything much larger is not ours. */
const MAX_KEY_FILE_BYTES = 16 * 1024 * 1024

const KeyRecord = z.object({
  v: z.literal(1),
  keyId: z.string().regex(KEY_ID),
  preset: z.string(),
  createdAt: z.string(),
  secretKey: z.instanceof(Uint8Array),
  publicKey: z.instanceof(Uint8Array)
})

/** A key set read back from disk. */
export interface StoredKeySet {
  keyId: string
  createdAt: string
  set: HeKeySet
}

function writeAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`
  const fd = openSync(tmp, 'w', 0o600)
  try {
    writeSync(fd, bytes)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
}

function keysDir(home: string): string {
  const dir = join(home, HE_KEYS_DIR)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  return dir
}

/**
 * Writes a key set (and makes it current when `current` is set).
 * @throws HeKeyStoreError for a bad key id
 * @example
 * saveKeySet(home.dir, 'he-20261207', set, { current: true })
 */
export function saveKeySet(
  home: string,
  keyId: string,
  set: HeKeySet,
  opts: { current?: boolean } = {}
): void {
  if (!KEY_ID.test(keyId)) throw new HeKeyStoreError(`bad HE key id "${keyId}"`)
  const dir = keysDir(home)
  const record = {
    v: 1,
    keyId,
    preset: set.context.preset.id,
    createdAt: new Date().toISOString(),
    secretKey: saveSecretKey(set.secretKey),
    publicKey: savePublicKey(set.publicKey)
  }
  writeAtomic(join(dir, `${keyId}.seal`), pack(record))
  if (opts.current === true) writeAtomic(join(dir, 'current'), new TextEncoder().encode(`${keyId}\n`))
}

/** Marks `keyId` as the key new jobs use. */
export function setCurrentKey(home: string, keyId: string): void {
  if (!KEY_ID.test(keyId)) throw new HeKeyStoreError(`bad HE key id "${keyId}"`)
  writeAtomic(join(keysDir(home), 'current'), new TextEncoder().encode(`${keyId}\n`))
}

/**
 * Reads every stored key set for `context`'s preset, oldest first, and the current key id.
 * @throws HeKeyStoreError for an unreadable, oversized or foreign file, or a current id with no file
 * @example
 * const { sets, current } = loadKeySets(home.dir, ctx)
 */
export function loadKeySets(home: string, context: HeContext): { sets: StoredKeySet[]; current?: string } {
  const dir = join(home, HE_KEYS_DIR)
  if (!existsSync(dir)) return { sets: [] }
  const sets: StoredKeySet[] = []
  try {
    for (const name of readdirSync(dir)
      .filter((n) => n.endsWith('.seal'))
      .sort()) {
      const path = join(dir, name)
      if (statSync(path).size > MAX_KEY_FILE_BYTES)
        throw new HeKeyStoreError(`${path} is too large for an HE key set`)
      const parsed = KeyRecord.safeParse(unpack(readFileSync(path)))
      if (!parsed.success) throw new HeKeyStoreError(`${path} is not a Cohort HE key set`)
      const r = parsed.data
      if (r.preset !== context.preset.id)
        throw new HeKeyStoreError(
          `${path} holds a ${r.preset} key; this key-holder runs ${context.preset.id}`
        )
      if (`${r.keyId}.seal` !== name) throw new HeKeyStoreError(`${path} names key ${r.keyId}`)
      const secretKey = loadSecretKey(context, r.secretKey)
      let publicKey: ReturnType<typeof loadPublicKey>
      try {
        publicKey = loadPublicKey(context, r.publicKey)
      } catch (err) {
        secretKey.dispose()
        throw err
      }
      const dispose = () => disposeAll([publicKey, secretKey])
      sets.push({
        keyId: r.keyId,
        createdAt: r.createdAt,
        set: { context, secretKey, publicKey, dispose, [Symbol.dispose]: dispose }
      })
    }
  } catch (err) {
    disposeAll(sets.map((s) => s.set))
    if (err instanceof HeKeyStoreError) throw err
    throw new HeKeyStoreError(`cannot read HE keys in ${dir}: ${(err as Error).message}`)
  }
  sets.sort((a, b) => a.createdAt.localeCompare(b.createdAt))
  const currentPath = join(dir, 'current')
  if (!existsSync(currentPath)) return { sets }
  const current = readFileSync(currentPath, 'utf8').trim()
  if (!sets.some((s) => s.keyId === current)) {
    disposeAll(sets.map((s) => s.set))
    throw new HeKeyStoreError(`${currentPath} names key ${current}, which has no key file`)
  }
  return { sets, current }
}
