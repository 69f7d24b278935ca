import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { featureLayout } from '../../../node/data/schema.ts'
import { loadDatasetSpec, parseDatasetSpec } from '../../../node/data/spec.ts'

const DATASETS = ['credit_data', 'wa_churn', 'lending_club'] as const
const FEATURES = { credit_data: 26, wa_churn: 40, lending_club: 119 }

describe('full spec.json', () => {
  it.each(DATASETS)('%s normalises with its feature layout, target, id, index and split', (name) => {
    const schema = loadDatasetSpec(`datasets/${name}/spec.json`)
    expect(schema.format).toBe('spec-json')
    expect(schema.id).toBe('uid')
    expect(schema.index).toBe('row_index')
    expect(schema.split).toEqual({ column: 'row_index', modulus: 5, testRemainder: 0 })
    expect(featureLayout(schema)).toHaveLength(FEATURES[name])
    expect(schema.reference?.features?.map((f) => f.name)).toEqual(featureLayout(schema).map((f) => f.name))
    expect(schema.reference?.verification?.zRow0).toHaveLength(FEATURES[name])
    const target = schema.columns.find((c) => c.name === schema.target?.column)
    expect(target).toMatchObject({ kind: 'category', role: 'target' })
  })

  it('credit_data: imputation values, levels and encodings come through', () => {
    const schema = loadDatasetSpec('datasets/credit_data/spec.json')
    expect(schema.target).toEqual({ column: 'Status', positive: 'bad' })
    expect(schema.columns.find((c) => c.name === 'Home')).toEqual({
      name: 'Home',
      kind: 'category',
      role: 'feature',
      levels: ['ignore', 'other', 'owner', 'parents', 'priv', 'rent'],
      encoding: 'onehot',
      impute: 'owner'
    })
    expect(schema.columns.find((c) => c.name === 'Income')).toMatchObject({ kind: 'number', impute: 125 })
    expect(
      featureLayout(schema)
        .slice(0, 3)
        .map((f) => f.name)
    ).toEqual(['Seniority', 'Home=ignore', 'Home=other'])
  })

  it('rejects a features list that does not match the columns', () => {
    const spec = {
      csv: { id_column: 'uid' },
      target: { column: 'y', positive_label: 'a', levels: ['a', 'b'] },
      columns: [{ name: 'x', encoding: 'numeric' }],
      features: [{ name: 'not-x', mean: 0, std: 1 }]
    }
    expect(() => parseDatasetSpec(spec)).toThrow(
      expect.objectContaining({ code: 'COHORT_DATASET_SPEC_INVALID' })
    )
  })

  it('rejects a split rule it cannot read', () => {
    const spec = {
      csv: { id_column: 'uid', index_column: 'i' },
      target: { column: 'y', positive_label: 'a', levels: ['a', 'b'] },
      split: { rule: 'random 80/20' },
      columns: [{ name: 'x', encoding: 'numeric' }]
    }
    expect(() => parseDatasetSpec(spec)).toThrow(/split rule/)
  })
})

describe('minimal spec', () => {
  it('normalises columns, shorthands and the split', () => {
    const schema = parseDatasetSpec({
      id: 'uid',
      index: 'row',
      columns: [
        { name: 'age', type: 'number', impute: 30 },
        { name: 'home', type: 'category', levels: ['own', 'rent'] },
        { name: 'grade', type: 'ordinal', levels: ['A', 'B', 'C'], impute: 'B' },
        { name: 'note', type: 'ignore' }
      ],
      target: { column: 'status', levels: ['bad', 'good'], positive: 'bad' },
      split: { modulus: 4, test: 1 }
    })
    expect(schema).toMatchObject({
      format: 'minimal',
      id: 'uid',
      index: 'row',
      ignored: ['note'],
      target: { column: 'status', positive: 'bad' },
      split: { column: 'row', modulus: 4, testRemainder: 1 }
    })
    expect(schema.columns.map((c) => [c.name, c.kind, c.role])).toEqual([
      ['row', 'number', 'index'],
      ['uid', 'id', 'id'],
      ['age', 'number', 'feature'],
      ['home', 'category', 'feature'],
      ['grade', 'category', 'feature'],
      ['status', 'category', 'target']
    ])
    expect(featureLayout(schema).map((f) => f.name)).toEqual(['age', 'home=own', 'home=rent', 'grade'])
  })

  it('a numeric target needs no levels', () => {
    const schema = parseDatasetSpec({
      columns: [
        { name: 'uid', type: 'id' },
        { name: 'x', type: 'number' },
        { name: 'y', type: 'target' }
      ]
    })
    expect(schema.columns.at(-1)).toEqual({ name: 'y', kind: 'number', role: 'target' })
    expect(schema.target).toEqual({ column: 'y' })
  })

  it('reads YAML files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cohort-spec-'))
    const path = join(dir, 'spec.yaml')
    try {
      writeFileSync(path, 'id: uid\ncolumns:\n  - { name: age, type: number }\n')
      expect(loadDatasetSpec(path).columns.map((c) => c.name)).toEqual(['uid', 'age'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it.each([
    ['no id', { columns: [{ name: 'x', type: 'number' }] }],
    [
      'two ids',
      {
        columns: [
          { name: 'a', type: 'id' },
          { name: 'b', type: 'id' },
          { name: 'x', type: 'number' }
        ]
      }
    ],
    [
      'a duplicate column',
      {
        id: 'u',
        columns: [
          { name: 'x', type: 'number' },
          { name: 'x', type: 'number' }
        ]
      }
    ],
    ['a category without levels', { id: 'u', columns: [{ name: 'c', type: 'category' }] }],
    ['repeated levels', { id: 'u', columns: [{ name: 'c', type: 'category', levels: ['a', 'a'] }] }],
    ['an empty level', { id: 'u', columns: [{ name: 'c', type: 'category', levels: ['a', ''] }] }],
    ['a level with a comma', { id: 'u', columns: [{ name: 'c', type: 'category', levels: ['a,b'] }] }],
    [
      'an impute level not in levels',
      { id: 'u', columns: [{ name: 'c', type: 'category', levels: ['a'], impute: 'z' }] }
    ],
    ['a string impute for a number', { id: 'u', columns: [{ name: 'x', type: 'number', impute: 'a' }] }],
    ['an unknown type', { id: 'u', columns: [{ name: 'x', type: 'float' }] }],
    ['an unknown key', { id: 'u', columns: [{ name: 'x', type: 'number', unit: 'kg' }] }],
    [
      'a categorical target without positive',
      {
        id: 'u',
        columns: [
          { name: 'x', type: 'number' },
          { name: 'y', type: 'target', levels: ['a'] }
        ]
      }
    ],
    [
      'a positive not among the levels',
      {
        id: 'u',
        columns: [{ name: 'x', type: 'number' }],
        target: { column: 'y', levels: ['a'], positive: 'b' }
      }
    ],
    [
      'a target listed with another type',
      { id: 'u', columns: [{ name: 'y', type: 'number' }], target: { column: 'y' } }
    ],
    [
      'a split without an index column',
      { id: 'u', columns: [{ name: 'x', type: 'number' }], split: { modulus: 5, test: 0 } }
    ],
    ['no feature at all', { id: 'u', columns: [{ name: 'n', type: 'ignore' }] }]
  ])('rejects %s with COHORT_DATASET_SPEC_INVALID', (_label, spec) => {
    expect(() => parseDatasetSpec(spec)).toThrow(
      expect.objectContaining({ code: 'COHORT_DATASET_SPEC_INVALID' })
    )
  })

  it('an unreadable file is COHORT_DATASET_SPEC_INVALID', () => {
    expect(() => loadDatasetSpec('/nonexistent/spec.json')).toThrow(
      expect.objectContaining({ code: 'COHORT_DATASET_SPEC_INVALID' })
    )
  })
})
