import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { writeCsv } from '../../../bench/import.ts'
import { chunkKey, gcOrphanRows, holdGeneration, readRows } from '../../../node/data/dataset-store.ts'
import { importDataset } from '../../../node/data/import.ts'
import { loadDatasetSpec } from '../../../node/data/spec.ts'
import { openNodeStore } from '../../../platform/storage/db.ts'
import { memoryNode } from '../../helpers/memory-node.ts'

const credit = loadDatasetSpec('datasets/credit_data/spec.json')
const GOOD = 'tests/fixtures/data/good-40.csv'

describe('gcOrphanRows', () => {
  it('deletes chunks no manifest points at and keeps the committed generation', async () => {
    const { store, audit } = await memoryNode()
    const { manifest } = await importDataset(
      { store, audit },
      { name: 'credit', schema: credit, csv: GOOD, chunkRows: 16 }
    )
    const committed = await store.rows.keys().all()
    expect(committed).toHaveLength(3)
    // What a crash leaves: chunks of a generation whose manifest never committed, for a new name
    // and for an existing one, plus a malformed key.
    const junk = new Uint8Array([1, 2, 3])
    await store.rows.batch([
      { type: 'put', key: chunkKey('ghost', 'dead0001', 0), value: junk },
      { type: 'put', key: chunkKey('ghost', 'dead0001', 1), value: junk },
      { type: 'put', key: chunkKey('credit', 'dead0002', 0), value: junk },
      { type: 'put', key: 'garbage-key', value: junk }
    ])
    expect(await gcOrphanRows(store)).toEqual({ generations: 3, chunks: 4 })
    expect(await store.rows.keys().all()).toEqual(committed)
    let rows = 0
    for await (const c of readRows(store, 'credit')) rows += c.length
    expect(rows).toBe(manifest.rows)
    expect(await gcOrphanRows(store)).toEqual({ generations: 0, chunks: 0 })
  })

  it('leaves alone a generation an import in this process still holds', async () => {
    const { store } = await memoryNode()
    const release = holdGeneration(store, 'busy', 'cafe0001')
    await store.rows.put(chunkKey('busy', 'cafe0001', 0), new Uint8Array(1))
    expect(await gcOrphanRows(store)).toEqual({ generations: 0, chunks: 0 })
    release()
    expect(await gcOrphanRows(store)).toEqual({ generations: 1, chunks: 1 })
  })

  it('runs at the start of every import', async () => {
    const { store, audit } = await memoryNode()
    await store.rows.put(chunkKey('ghost', 'dead0001', 0), new Uint8Array(1))
    await importDataset({ store, audit }, { name: 'credit', schema: credit, csv: GOOD })
    expect((await store.rows.keys().all()).some((k) => k.startsWith('ghost!'))).toBe(false)
  })
})

describe('crash safety on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cohort-gc-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('kill -9 mid-import leaves no dataset, and GC removes its chunks', async () => {
    const csv = join(dir, 'data.csv')
    writeCsv(csv, 250_000)
    const db = join(dir, 'node')
    // The bench's import child, killed as soon as it reports progress (chunks are on disk by then).
    const child = spawn(process.execPath, ['bench/import.ts', '--child', csv, db, '1024', '1'], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        if (d.toString().includes('rows')) {
          child.kill('SIGKILL')
          resolve()
        }
      })
      child.on('exit', () => reject(new Error('the import finished before it could be killed')))
    })
    await new Promise((r) => child.once('exit', r))

    const store = await openNodeStore(db)
    try {
      expect(await store.datasets.keys().all()).toEqual([])
      const left = await store.rows.keys().all()
      expect(left.length).toBeGreaterThan(0)
      const gc = await gcOrphanRows(store)
      expect(gc).toEqual({ generations: 1, chunks: left.length })
      expect(await store.rows.keys().all()).toEqual([])
    } finally {
      await store.close()
    }
  })
})
