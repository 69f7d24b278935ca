import { spawn } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openNodeStore } from '../../platform/storage/db.ts'
import { CLI, NODE, REPO, exited, runCli, startCli } from '../helpers/cli.ts'

async function writeSyntheticCsv(path: string, rows: number): Promise<void> {
  const w = createWriteStream(path)
  w.write('uid,age,income,segment\n')
  for (let i = 0; i < rows; i++) {
    const line = `u${String(i).padStart(7, '0')},${20 + (i % 50)},${(1000 + ((i * 7919) % 9000)) / 10},${['a', 'b', 'c'][i % 3]}\n`
    if (!w.write(line)) await once(w, 'drain')
  }
  w.end()
  await once(w, 'finish')
}

describe('kill -9 during an import', () => {
  const root = mkdtempSync(join(tmpdir(), 'cohort-crash-'))
  const dir = join(root, 'bank')
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('leaves no partial dataset; after restart the audit log verifies and the identity is unchanged', async () => {
    const init = await runCli(['node', 'init', '--dir', dir, '--name', 'bank', '--json'])
    const { peerId } = JSON.parse(init.stdout) as { peerId: string }
    await runCli([
      'federation',
      'add-member',
      '--file',
      join(dir, 'federation.json'),
      '--org',
      'bank',
      '--peer-id',
      peerId
    ])
    const csv = join(root, 'big.csv')
    await writeSyntheticCsv(csv, 600_000)
    const spec = join(root, 'spec.json')
    writeFileSync(
      spec,
      JSON.stringify({
        columns: [
          { name: 'uid', type: 'id' },
          { name: 'age', type: 'number' },
          { name: 'income', type: 'number' },
          { name: 'segment', type: 'category', levels: ['a', 'b', 'c'] }
        ]
      })
    )

    const child = spawn(
      NODE,
      [CLI, 'data', 'import', '--dir', dir, '--name', 'big', '--csv', csv, '--spec', spec],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] }
    )
    let err = ''
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        err += d
        if (/rows read/.test(err)) resolve()
      })
      child.on('exit', () => reject(new Error(`import finished before it could be killed:\n${err}`)))
    })
    child.kill('SIGKILL')
    await exited(child)

    // Nothing is visible, though chunks of the interrupted generation may still be on disk.
    const store = await openNodeStore(dir)
    expect(await store.datasets.keys().all()).toEqual([])
    const leftover = (await store.rows.keys().all()).length
    await store.close()

    // Restart the node: it reclaims the orphaned chunks and audit-logs doing so.
    const { child: node } = await startCli(['node', 'start', '--dir', dir], /admin API on/)
    node.kill('SIGTERM')
    expect(await exited(node)).toBe(0)

    const after = await openNodeStore(dir)
    expect(await after.datasets.keys().all()).toEqual([])
    expect(await after.rows.keys().all()).toEqual([])
    await after.close()

    const list = await runCli(['data', 'list', '--dir', dir])
    expect(list.code).toBe(0)
    expect((await runCli(['audit', 'verify', '--dir', dir])).code).toBe(0)
    const entries = JSON.parse((await runCli(['audit', 'list', '--dir', dir, '--json'])).stdout) as Array<{
      kind: string
    }>
    expect(entries.map((e) => e.kind)).not.toContain('dataset-imported')
    if (leftover > 0) expect(entries.map((e) => e.kind)).toContain('orphan-rows-removed')
    const info = JSON.parse((await runCli(['node', 'info', '--dir', dir])).stdout) as { peerId: string }
    expect(info.peerId).toBe(peerId)

    // And the same import, uninterrupted, then succeeds.
    const again = await runCli(
      ['data', 'import', '--dir', dir, '--name', 'big', '--csv', csv, '--spec', spec],
      { timeoutMs: 120_000 }
    )
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ rows: 600_000 })
  }, 240_000)
})
