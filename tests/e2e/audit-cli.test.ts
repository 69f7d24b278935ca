import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openNodeStore } from '../../platform/storage/db.ts'
import { runCli } from '../helpers/cli.ts'

describe('cohort node init / federation / audit (CLI)', () => {
  const root = mkdtempSync(join(tmpdir(), 'cohort-cli-'))
  const dir = join(root, 'bank')
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('init creates a node whose key is private and whose token is only stored hashed', async () => {
    const r = await runCli(['node', 'init', '--dir', dir, '--name', 'bank', '--json'])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as { peerId: string; token: string }
    expect(out.peerId).toMatch(/^12D3KooW/)
    const { statSync } = await import('node:fs')
    expect(statSync(join(dir, 'identity.key')).mode & 0o777).toBe(0o600)
    const config = readFileSync(join(dir, 'node.json'), 'utf8')
    expect(config).not.toContain(out.token)
    const again = await runCli(['node', 'init', '--dir', dir, '--name', 'bank'])
    expect(again.code).not.toBe(0)
    expect(again.stderr.trim().split('\n')).toHaveLength(1)
    const fed = await runCli([
      'federation',
      'add-member',
      '--file',
      join(dir, 'federation.json'),
      '--org',
      'bank',
      '--peer-id',
      out.peerId,
      '--roles',
      'node,regulator'
    ])
    expect(fed.code).toBe(0)
    const bad = await runCli([
      'federation',
      'add-member',
      '--file',
      join(dir, 'federation.json'),
      '--org',
      'x',
      '--peer-id',
      out.peerId
    ])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/duplicate peer id/)
  })

  it('audit verify passes, then names the entry whose stored byte was changed', async () => {
    const ok = await runCli(['audit', 'verify', '--dir', dir])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/OK, 1 entries/)

    const exportPath = join(root, 'audit.json')
    expect((await runCli(['audit', 'export', '--dir', dir, '--out', exportPath])).code).toBe(0)
    expect((await runCli(['audit', 'verify', '--export', exportPath])).code).toBe(0)
    const text = readFileSync(exportPath, 'utf8')
    const i = text.indexOf('"entries"') + 20
    writeFileSync(exportPath, text.slice(0, i) + (text[i] === 'A' ? 'B' : 'A') + text.slice(i + 1))
    const badExport = await runCli(['audit', 'verify', '--export', exportPath])
    expect(badExport.code).toBe(1)

    const store = await openNodeStore(dir)
    const [key, value] = (await store.audit.iterator().all())[0]!
    const changed = new Uint8Array(value)
    changed[5] = changed[5]! ^ 0xff
    await store.audit.put(key, changed)
    await store.close()
    const bad = await runCli(['audit', 'verify', '--dir', dir])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/INVALID at entry 0/)
  })
})
