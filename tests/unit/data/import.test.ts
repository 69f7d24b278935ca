import { describe, expect, it } from 'vitest'
import { describeDataset, listDatasets, readRecords, readRows } from '../../../node/data/dataset-store.ts'
import { checkReference, fitPreprocessing } from '../../../node/data/fit-preprocess.ts'
import { importDataset } from '../../../node/data/import.ts'
import { encodeFeatures, referenceStats } from '../../../node/data/preprocess.ts'
import { loadDatasetSpec, parseDatasetSpec } from '../../../node/data/spec.ts'
import { memoryNode } from '../../helpers/memory-node.ts'

const DATASETS = [
  ['credit_data', 4454, 26],
  ['wa_churn', 7043, 40],
  ['lending_club', 9857, 119]
] as const

const csvOf = (name: string) => `datasets/${name}/data.csv`
const specOf = (name: string) => loadDatasetSpec(`datasets/${name}/spec.json`)

async function* bytesOf(text: string): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode(text)
}

describe('acceptance: the shared datasets import and reproduce their spec', () => {
  it.each(DATASETS)(
    '%s: %d rows; standardized rows 0 and 1 match spec.json to 1e-9',
    async (name, rows, features) => {
      const { store, audit } = await memoryNode()
      const schema = specOf(name)
      const { manifest, replaced } = await importDataset({ store, audit }, { name, schema, csv: csvOf(name) })
      expect(replaced).toBeNull()
      expect(manifest.rows).toBe(rows)

      // With the spec's own statistics...
      const ref = await checkReference(store, name)
      expect(ref.maxRowDiff).toBeLessThanOrEqual(1e-9)
      expect(ref.ok).toBe(true)
      // ...and with statistics fitted on the imported training split (median/mode, mean/std).
      const fitted = await fitPreprocessing(store, name)
      const want = referenceStats(schema)
      expect(fitted.impute).toEqual(want.impute)
      for (let j = 0; j < features; j++) {
        expect(Math.abs(fitted.mean[j]! - want.mean[j]!)).toBeLessThanOrEqual(
          1e-9 * Math.max(1, Math.abs(want.mean[j]!))
        )
        expect(Math.abs(fitted.std[j]! - want.std[j]!)).toBeLessThanOrEqual(1e-9 * Math.max(1, want.std[j]!))
      }
      const again = await checkReference(store, name, fitted)
      expect(again.maxRowDiff).toBeLessThanOrEqual(1e-9)
      expect(again.ok).toBe(true)
      expect(await audit.verify()).toMatchObject({ ok: true, entries: 1 })
    }
  )

  it('credit_data: describe gives the row count, split sizes and column statistics', async () => {
    const { store, audit } = await memoryNode()
    await importDataset(
      { store, audit },
      { name: 'credit', schema: specOf('credit_data'), csv: csvOf('credit_data') }
    )
    const d = await describeDataset(store, 'credit')
    expect(d).toMatchObject({ rows: 4454, features: 26, id: 'uid', split: { train: 3563, test: 891 } })
    const col = (n: string) => d.columns.find((c) => c.name === n)!
    // n_missing from spec.json / source.json
    expect(col('Income')).toMatchObject({ kind: 'number', count: 4454 - 381, missing: 381 })
    expect(col('Home')).toMatchObject({ kind: 'category', missing: 6 })
    expect(col('Status')).toMatchObject({ kind: 'category', levels: { bad: 1254, good: 3200 } })
    const age = col('Age') as { mean: number; std: number; min: number; max: number }
    // Independent two-pass computation over the records read back.
    const ages: number[] = []
    for await (const r of readRecords(store, 'credit', { columns: ['Age'] })) ages.push(r.Age as number)
    const mean = ages.reduce((a, b) => a + b, 0) / ages.length
    const std = Math.sqrt(ages.reduce((a, b) => a + (b - mean) ** 2, 0) / ages.length)
    expect(age.mean).toBeCloseTo(mean, 10)
    expect(age.std).toBeCloseTo(std, 10)
    expect([age.min, age.max]).toEqual([Math.min(...ages), Math.max(...ages)])
  })

  it('reads back exactly the CSV rows, in order, across chunk boundaries', async () => {
    const { store, audit } = await memoryNode()
    const schema = specOf('credit_data')
    await importDataset(
      { store, audit },
      { name: 'credit', schema, csv: csvOf('credit_data'), chunkRows: 1000 }
    )
    const numeric = new Set(schema.columns.filter((c) => c.kind === 'number').map((c) => c.name))
    const { readFileSync } = await import('node:fs')
    const lines = readFileSync(csvOf('credit_data'), 'utf8').trim().split('\n')
    const header = lines[0]!.split(',')
    let i = 1
    for await (const rec of readRecords(store, 'credit')) {
      const fields = lines[i++]!.split(',')
      header.forEach((h, j) => {
        const v = fields[j]!
        expect(rec[h]).toEqual(v === '' ? null : numeric.has(h) ? Number(v) : v)
      })
    }
    expect(i).toBe(lines.length)
    const starts: number[] = []
    for await (const chunk of readRows(store, 'credit', { columns: ['uid'] })) starts.push(chunk.start)
    expect(starts).toEqual([0, 1000, 2000, 3000, 4000])
  })

  it('encodeFeatures: one-hot, ordinal, imputation, labels and the test mask on a small minimal-spec dataset', async () => {
    const { store, audit } = await memoryNode()
    const schema = parseDatasetSpec({
      columns: [
        { name: 'row', type: 'index' },
        { name: 'uid', type: 'id' },
        { name: 'x', type: 'number' },
        { name: 'c', type: 'category', levels: ['a', 'b'] },
        { name: 'o', type: 'ordinal', levels: ['lo', 'mid', 'hi'] },
        { name: 'y', type: 'target', levels: ['no', 'yes'], positive: 'yes' }
      ],
      split: { modulus: 2, test: 0 }
    })
    const csv = 'uid,row,x,c,o,y\nu0,0,1.5,a,hi,yes\nu1,1,,b,,no\nu2,2,-2,,lo,no\n'
    await importDataset({ store, audit }, { name: 'tiny', schema, csv: bytesOf(csv) })
    const chunks = []
    for await (const c of readRows(store, 'tiny')) chunks.push(c)
    const stats = { impute: { x: 10, c: 'b', o: 'mid' } }
    const raw = encodeFeatures(schema, chunks[0]!, stats)
    expect(raw.features).toBe(4)
    expect([...raw.x]).toEqual([1.5, 1, 0, 2, 10, 0, 1, 1, -2, 0, 1, 0])
    expect([...raw.y!]).toEqual([1, 0, 0])
    expect([...raw.test!]).toEqual([1, 0, 1])
    expect(raw.ids).toEqual(['u0', 'u1', 'u2'])
    const z = encodeFeatures(schema, chunks[0]!, { ...stats, mean: [1, 0, 0, 0], std: [2, 1, 0, 1] })
    // (x - mean) / std, with a std below 1e-12 counting as 1
    expect([...z.x.subarray(0, 4)]).toEqual([0.25, 1, 0, 2])
  })
})

describe('replace and audit', () => {
  it('refuses to re-import a name without replace, replaces with it, and audit-logs both', async () => {
    const { store, audit } = await memoryNode()
    const schema = specOf('credit_data')
    const first = await importDataset(
      { store, audit },
      { name: 'credit', schema, csv: csvOf('credit_data'), actor: 'cli' }
    )
    await expect(
      importDataset({ store, audit }, { name: 'credit', schema, csv: csvOf('credit_data') })
    ).rejects.toMatchObject({
      code: 'COHORT_DATASET_EXISTS'
    })
    const second = await importDataset(
      { store, audit },
      { name: 'credit', schema, csv: 'tests/fixtures/data/good-40.csv', replace: true, actor: 'cli' }
    )
    expect(second.replaced).toEqual({ generation: first.manifest.generation, rows: 4454 })
    expect(second.manifest.rows).toBe(40)
    expect(await listDatasets(store)).toEqual([expect.objectContaining({ name: 'credit', rows: 40 })])

    const entries = await audit.read()
    expect(entries.map((e) => [e.kind, e.actor])).toEqual([
      ['dataset-imported', 'cli'],
      ['dataset-replaced', 'cli']
    ])
    expect(entries[1]!.body).toMatchObject({
      name: 'credit',
      rows: 40,
      generation: second.manifest.generation,
      sha256: second.manifest.source.sha256,
      replaced: { generation: first.manifest.generation, rows: 4454 }
    })
    expect(await audit.verify()).toMatchObject({ ok: true, entries: 2 })
    // The old generation's chunks are gone; only the new one's remain.
    const keys = await store.rows.keys().all()
    expect(keys.length).toBe(1)
    expect(keys.every((k) => k.startsWith(`credit!${second.manifest.generation}!`))).toBe(true)
  })

  it('refuses a second concurrent import of one name (COHORT_DATASET_BUSY)', async () => {
    const { store, audit } = await memoryNode()
    const schema = specOf('credit_data')
    const a = importDataset({ store, audit }, { name: 'credit', schema, csv: csvOf('credit_data') })
    await expect(
      importDataset({ store, audit }, { name: 'credit', schema, csv: csvOf('credit_data') })
    ).rejects.toMatchObject({
      code: 'COHORT_DATASET_BUSY'
    })
    expect((await a).manifest.rows).toBe(4454)
  })

  it('rejects a dataset name that is not a safe key (COHORT_DATASET_NAME_INVALID)', async () => {
    const { store, audit } = await memoryNode()
    for (const name of ['', 'a!b', '../x', '.hidden', 'x'.repeat(65)]) {
      await expect(
        importDataset({ store, audit }, { name, schema: specOf('credit_data'), csv: csvOf('credit_data') })
      ).rejects.toMatchObject({ code: 'COHORT_DATASET_NAME_INVALID' })
    }
  })

  it('describe/readRows of an unknown dataset is COHORT_DATASET_NOT_FOUND', async () => {
    const { store } = await memoryNode()
    await expect(describeDataset(store, 'nope')).rejects.toMatchObject({ code: 'COHORT_DATASET_NOT_FOUND' })
    await expect(readRows(store, 'nope').next()).rejects.toMatchObject({ code: 'COHORT_DATASET_NOT_FOUND' })
  })
})
