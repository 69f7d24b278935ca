import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  bfvDecryptVector,
  bfvEncryptVector,
  getHeContext,
  publicKeyFingerprint
} from '../../../crypto/he/index.ts'
import { loadKeySets, saveKeySet, setCurrentKey } from '../../../node/he/keyring-files.ts'
import { createHeKeyring } from '../../../node/runners/he-agg-keyholder.ts'
import { simIdentity } from '../../../simulations/secagg-federation.ts'

const roots: string[] = []
const home = () => {
  const d = mkdtempSync(join(tmpdir(), 'cohort-he-keys-'))
  roots.push(d)
  return d
}
afterAll(() => {
  for (const d of roots) rmSync(d, { recursive: true, force: true })
})

const audit = { append: async () => ({}) as never }

describe('key-holder keys on disk (node/he/keyring-files.ts)', () => {
  it('a restarted keyring restores the same current key and decrypts what the old one encrypted', async () => {
    const dir = home()
    const id = await simIdentity()
    const ctx = await getHeContext('bfv-8192')
    const persist = (keyId: string, set: Parameters<typeof saveKeySet>[2]) =>
      saveKeySet(dir, keyId, set, { current: true })
    const first = await createHeKeyring(id, audit, { context: ctx, keyId: 'k1', persist })
    await first.rotate('k2')
    const pk = first.get('k2')!.publicKey
    const fp = publicKeyFingerprint(pk)
    using ct = bfvEncryptVector(pk, [1, -2, 3])
    first.dispose()

    const files = readdirSync(join(dir, 'he-keys')).filter((f) => f.endsWith('.seal'))
    expect(files.sort()).toEqual(['k1.seal', 'k2.seal'])
    for (const f of files) expect(statSync(join(dir, 'he-keys', f)).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir, 'he-keys')).mode & 0o777).toBe(0o700)

    const { sets, current } = loadKeySets(dir, ctx)
    expect(current).toBe('k2')
    using again = await createHeKeyring(id, audit, {
      context: ctx,
      restore: sets,
      restoreCurrent: current!,
      persist
    })
    expect(again.current().keyId).toBe('k2')
    expect(again.current().announcement.keyFingerprint).toBe(fp)
    expect([...again.keys.keys()].sort()).toEqual(['k1', 'k2'])
    expect(Array.from(bfvDecryptVector(again.get('k2')!.secretKey, ct))).toEqual([1, -2, 3])
  })

  it('refuses a corrupt file, a current id without a file, and a bad key id', async () => {
    const ctx = await getHeContext('bfv-8192')
    const dir = home()
    const id = await simIdentity()
    using ring = await createHeKeyring(id, audit, {
      context: ctx,
      keyId: 'good',
      persist: (k, s) => saveKeySet(dir, k, s, { current: true })
    })
    expect(ring.current().keyId).toBe('good')
    writeFileSync(join(dir, 'he-keys', 'evil.seal'), 'not msgpack at all')
    expect(() => loadKeySets(dir, ctx)).toThrow(expect.objectContaining({ code: 'COHORT_HE_KEY_STORE' }))
    rmSync(join(dir, 'he-keys', 'evil.seal'))
    setCurrentKey(dir, 'missing')
    expect(() => loadKeySets(dir, ctx)).toThrow(/names key missing, which has no key file/)
    expect(() => setCurrentKey(dir, '../escape')).toThrow(
      expect.objectContaining({ code: 'COHORT_HE_KEY_STORE' })
    )
  })

  it('an empty home has no keys (the first start generates one)', async () => {
    expect(loadKeySets(home(), await getHeContext('bfv-8192'))).toEqual({ sets: [] })
  })
})
