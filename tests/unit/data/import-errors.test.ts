import { describe, expect, it } from 'vitest'
import { listDatasets } from '../../../node/data/dataset-store.ts'
import { DatasetInvalidError, formatReport } from '../../../node/data/errors.ts'
import type { ValidationReport } from '../../../node/data/errors.ts'
import { importDataset } from '../../../node/data/import.ts'
import { loadDatasetSpec, parseDatasetSpec } from '../../../node/data/spec.ts'
import type { NodeStore } from '../../../platform/storage/db.ts'
import { memoryNode } from '../../helpers/memory-node.ts'

const credit = loadDatasetSpec('datasets/credit_data/spec.json')
const FIXTURES = 'tests/fixtures/data'

/** Everything a failed import must leave untouched. */
async function snapshot(store: NodeStore) {
  return {
    datasets: await listDatasets(store),
    rowKeys: await store.rows.keys().all(),
    manifests: await store.datasets.iterator().all(),
    audit: await store.audit.keys().all()
  }
}

/** A node that already holds one dataset, so "exactly as before" is not trivially empty. */
async function nodeWithCredit() {
  const node = await memoryNode()
  await importDataset(node, { name: 'base', schema: credit, csv: `${FIXTURES}/good-40.csv` })
  return node
}

async function failure(promise: Promise<unknown>): Promise<ValidationReport> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(DatasetInvalidError)
  expect((err as DatasetInvalidError).code).toBe('COHORT_DATASET_INVALID')
  return (err as DatasetInvalidError).report
}

async function* bytesOf(text: string): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode(text)
}

describe('acceptance: a bad CSV imports nothing and says where', () => {
  it.each([
    ['bad-number.csv', { line: 12, column: 'Age', value: '12abc', reason: 'not a number' }],
    [
      'missing-column.csv',
      {
        line: 20,
        column: 'Price',
        value: null,
        reason: 'missing field: the line has 15 fields, the header 16'
      }
    ],
    [
      'duplicate-uid.csv',
      { line: 25, column: 'uid', value: 'u00002', reason: 'duplicate id (first on line 4)' }
    ]
  ])('%s', async (file, issue) => {
    for (const replace of [false, true]) {
      const { store, audit } = await nodeWithCredit()
      const before = await snapshot(store)
      // As a new dataset, and as a replacement of the existing one.
      const name = replace ? 'base' : 'fresh'
      const report = await failure(
        importDataset({ store, audit }, { name, schema: credit, csv: `${FIXTURES}/${file}`, replace })
      )
      expect(report).toEqual({ issues: [issue], total: 1, limit: 20 })
      expect(await snapshot(store)).toEqual(before)
      expect(await audit.verify()).toMatchObject({ ok: true, entries: 1 })
    }
  })

  it('nothing is stored even when the bad line comes after several written chunks', async () => {
    const { store, audit } = await nodeWithCredit()
    const before = await snapshot(store)
    const report = await failure(
      importDataset(
        { store, audit },
        { name: 'fresh', schema: credit, csv: `${FIXTURES}/bad-number.csv`, chunkRows: 2, batchChunks: 1 }
      )
    )
    expect(report.total).toBe(1)
    expect(await snapshot(store)).toEqual(before)
  })

  it('formats the report as the CLI prints it', async () => {
    const { store, audit } = await memoryNode()
    const report = await failure(
      importDataset({ store, audit }, { name: 'x', schema: credit, csv: `${FIXTURES}/bad-number.csv` })
    )
    expect(formatReport(report)).toEqual([
      'line 12, column Age: value "12abc": not a number',
      '1 error in total'
    ])
  })
})

const tiny = parseDatasetSpec({
  columns: [
    { name: 'row', type: 'index' },
    { name: 'uid', type: 'id' },
    { name: 'x', type: 'number' },
    { name: 'c', type: 'category', levels: ['a', 'b'] },
    { name: 'y', type: 'target', levels: ['no', 'yes'], positive: 'yes' },
    { name: 'note', type: 'ignore' }
  ]
})
const HEADER = 'row,uid,x,c,y,note'

async function issuesOf(lines: string[]) {
  const { store, audit } = await memoryNode()
  const report = await failure(
    importDataset({ store, audit }, { name: 't', schema: tiny, csv: bytesOf(`${lines.join('\n')}\n`) })
  )
  expect(await store.rows.keys().all()).toEqual([])
  return report
}

describe('row validation', () => {
  it.each([
    ['NaN', 'x', 'not a number'],
    ['Infinity', 'x', 'not a number'],
    ['1e999', 'x', 'not finite (overflow)'],
    ['12abc', 'x', 'not a number'],
    ['0x1F', 'x', 'not a number'],
    [' 5', 'x', 'not a number']
  ])('rejects the number %s', async (value, column, reason) => {
    const report = await issuesOf([HEADER, `0,u0,${value},a,no,`])
    expect(report.issues).toEqual([{ line: 2, column, value, reason }])
  })

  it.each([
    ['0,u0,1,z,no,', { line: 2, column: 'c', value: 'z', reason: 'unknown level (expected one of: a, b)' }],
    ['0,u0,1,a,,', { line: 2, column: 'y', value: '', reason: 'missing target' }],
    ['0,,1,a,no,', { line: 2, column: 'uid', value: '', reason: 'empty id' }],
    [
      '-1,u0,1,a,no,',
      { line: 2, column: 'row', value: '-1', reason: 'row index must be a non-negative integer' }
    ],
    [
      '1.5,u0,1,a,no,',
      { line: 2, column: 'row', value: '1.5', reason: 'row index must be a non-negative integer' }
    ],
    [
      '0,u0,1,a,no,x,y',
      { line: 2, column: null, value: null, reason: 'too many fields: the line has 7, the header 6' }
    ],
    [
      '',
      { line: 2, column: 'uid', value: null, reason: 'missing field: the line has 1 fields, the header 6' }
    ],
    [
      '0,u0,"1",a,no,',
      {
        line: 2,
        column: 'x',
        value: '"1"',
        reason: 'contains a double quote (quoted fields are not supported)'
      }
    ],
    [
      '0,u0,1,a,no,"hi, there"',
      {
        line: 2,
        column: 'note',
        value: '"hi',
        reason: 'contains a double quote (quoted fields are not supported)'
      }
    ]
  ])('%s', async (line, issue) => {
    const report = await issuesOf([HEADER, line])
    expect(report.issues).toEqual([issue])
  })

  it('accepts missing features, ignored columns, CRLF and a BOM', async () => {
    const { store, audit } = await memoryNode()
    const csv = `\uFEFF${HEADER}\r\n0,u0,,,no,anything\r\n1,u1,2.5,b,yes,"quoted ignored?"\r\n`
    // A quote anywhere is refused, even in an ignored column: the format has no quoting.
    await failure(importDataset({ store, audit }, { name: 't', schema: tiny, csv: bytesOf(csv) }))
    const ok = csv.replace('"quoted ignored?"', 'free text')
    const { manifest } = await importDataset({ store, audit }, { name: 't', schema: tiny, csv: bytesOf(ok) })
    expect(manifest.rows).toBe(2)
    expect(manifest.summary.columns.find((c) => c.name === 'x')).toMatchObject({
      count: 1,
      missing: 1,
      mean: 2.5
    })
  })

  it('keeps the first 20 issues and counts them all', async () => {
    const lines = [HEADER]
    for (let i = 0; i < 50; i++) lines.push(`${i},u${i},oops,a,no,`)
    const report = await issuesOf(lines)
    expect(report.total).toBe(50)
    expect(report.issues).toHaveLength(20)
    expect(report.issues.map((i) => i.line)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2))
    expect(formatReport(report).at(-1)).toBe('50 errors in total (first 20 shown)')
  })

  it('reports several bad fields of one line, and duplicates across invalid lines', async () => {
    const report = await issuesOf([HEADER, '0,u0,x,q,no,', '1,u0,1,a,no,'])
    expect(report.issues.map((i) => [i.line, i.column])).toEqual([
      [2, 'x'],
      [2, 'c'],
      [3, 'uid']
    ])
  })

  it.each([
    [
      ['row,uid,x,c,y'],
      {
        line: 1,
        column: 'note',
        value: null,
        reason: 'column is declared in the spec but missing from the header'
      }
    ],
    [
      [`${HEADER},extra`],
      {
        line: 1,
        column: 'extra',
        value: 'extra',
        reason: 'column is not declared in the spec (declare it, with type "ignore" to skip it)'
      }
    ],
    [
      ['row,uid,x,c,y,note,x'],
      { line: 1, column: 'x', value: 'x', reason: 'column appears twice in the header' }
    ],
    [[''], { line: 1, column: null, value: null, reason: 'the header line is empty' }],
    [
      ['row,,uid,x,c,y,note'],
      { line: 1, column: null, value: '', reason: 'column 2 of the header has no name' }
    ],
    [[HEADER], { line: 2, column: null, value: null, reason: 'the file has a header but no data rows' }]
  ])('header problem %#', async (lines, issue) => {
    const report = await issuesOf(lines)
    expect(report.issues).toContainEqual(issue)
  })

  it('a CSV path that cannot be read is COHORT_DATASET_SOURCE, and nothing is stored', async () => {
    const { store, audit } = await memoryNode()
    for (const csv of ['tests/fixtures/data/no-such.csv', 'tests/fixtures/data']) {
      await expect(importDataset({ store, audit }, { name: 't', schema: tiny, csv })).rejects.toMatchObject({
        code: 'COHORT_DATASET_SOURCE'
      })
    }
    expect(await store.rows.keys().all()).toEqual([])
    expect(await listDatasets(store)).toEqual([])
  })

  it('an empty stream is an empty file', async () => {
    const { store, audit } = await memoryNode()
    async function* nothing(): AsyncGenerator<Uint8Array> {}
    const report = await failure(importDataset({ store, audit }, { name: 't', schema: tiny, csv: nothing() }))
    expect(report.issues).toEqual([
      { line: 1, column: null, value: null, reason: 'the file is empty: expected a header line' }
    ])
  })
})
