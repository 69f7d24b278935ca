import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { scenarioFrom } from '../../../configs/scenario.ts'
import { loadSimTable } from '../../../simulations/data/sim-table.ts'
import { resolvePartition } from '../../../simulations/partition/resolve-partition.ts'

const DATA = resolve(import.meta.dirname, '../../../datasets/credit_data')

const credit = (partition: unknown) =>
  scenarioFrom(
    {
      name: 't',
      dataset: { csv: 'data.csv', spec: 'spec.json' },
      partition,
      model: { kind: 'logreg' }
    },
    DATA
  )

describe("a scenario's dataset and partition", () => {
  it('reads the CSV and spec relative to the scenario, rows in file order', () => {
    const s = credit({ file: 'partitions/horizontal_natural.json' })
    const t = loadSimTable(s)
    expect(t.name).toBe('credit_data')
    expect(t.rows).toBe(4454)
    expect(t.lines[1]!.startsWith('1,u00001,')).toBe(true)
    expect(t.column('Job').slice(0, 2)).toEqual(['freelance', 'fixed'])
    expect(() => t.column('Nope')).toThrow(expect.objectContaining({ code: 'COHORT_SIM_CONFIG' }))
    const csv = new TextDecoder().decode(t.csvOf([0, 2]))
    expect(csv.split('\n')).toEqual([t.header, t.lines[0], t.lines[2], ''])
    expect(t.numericRanges().Age).toEqual([18, 68])
  })

  it('uses a partition file as is, or generates one from the data', () => {
    const natural = resolvePartition(
      credit({ file: 'partitions/horizontal_natural.json' }),
      loadSimTable(credit({ file: 'partitions/horizontal_natural.json' }))
    )
    expect(Object.keys(natural)).toEqual([
      'lender_fixed_employment',
      'lender_freelance',
      'lender_parttime_other'
    ])
    const byJob = credit({ kind: 'column', column: 'Job' })
    expect(Object.keys(resolvePartition(byJob, loadSimTable(byJob)))).toEqual([
      'Job=fixed',
      'Job=freelance',
      'Job=missing',
      'Job=others',
      'Job=partime'
    ])
    const skew = credit({ kind: 'dirichlet', parties: 4, alpha: 0.5 })
    const p = resolvePartition(skew, loadSimTable(skew))
    expect(Object.values(p).reduce((n, rows) => n + rows.length, 0)).toBe(4454)
  })

  it('refuses vertical partitions until the vertical runner exists', () => {
    for (const partition of [
      { file: 'partitions/vertical.json' },
      { file: 'partitions/vertical.json', overlap: 'partitions/vertical_overlap.json' },
      { kind: 'vertical', groups: { a: ['Age'], b: ['Income'] } }
    ]) {
      const s = credit(partition)
      expect(() => resolvePartition(s, loadSimTable(s))).toThrow(
        expect.objectContaining({ code: 'COHORT_UNSUPPORTED' })
      )
    }
  })

  it('generates synthetic data in place of a CSV', () => {
    const s = scenarioFrom(
      {
        name: 's',
        dataset: { synthetic: { rows: 500 } },
        partition: { kind: 'iid', parties: 5 },
        model: { kind: 'logreg' }
      },
      '/tmp'
    )
    const t = loadSimTable(s)
    expect(t.name).toBe('synthetic')
    expect(t.rows).toBe(500)
    expect(t.targetColumn()).toBe('default')
    expect(Object.keys(resolvePartition(s, t))).toHaveLength(5)
  })
})
