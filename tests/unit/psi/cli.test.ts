/** `cohort psi run` as a function: partition files, CSV files, size-only parties, usage errors. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { psiRun, readCsvColumn } from '../../../cli/commands/psi.ts'

const dir = mkdtempSync(join(tmpdir(), 'cohort-psi-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `c${from + i}`)

describe('cohort psi run', () => {
  it('runs over a partition file and writes the aligned indexes', async () => {
    const partition = join(dir, 'partition.json')
    writeFileSync(partition, JSON.stringify({ a: ids(0, 60), b: ids(20, 90), c: [...ids(40, 70), 'C45 '] }))
    const out = join(dir, 'index.json')
    const r = await psiRun({ partition, out, sizeOnly: 'c', batch: '16', workers: '1' })
    // c40..c59 are common to all; "C45 " normalises to c45, a duplicate dropped by c.
    expect(r.intersectionSize).toBe(20)
    expect(r.parties).toEqual([
      { name: 'a', role: 'leader', learned: 'intersection', ids: 60, setSize: 60, indexRows: 20 },
      { name: 'b', role: 'party', learned: 'intersection', ids: 70, setSize: 70, indexRows: 20 },
      { name: 'c', role: 'shuffler', learned: 'size', ids: 31, setSize: 30, indexRows: 0 }
    ])
    const index = JSON.parse(readFileSync(out, 'utf8')) as Record<string, number[]>
    expect(Object.keys(index).sort()).toEqual(['a', 'b'])
    expect(index.a!.map((row) => ids(0, 60)[row])).toEqual(index.b!.map((row) => ids(20, 90)[row]))
  })

  it('reads one CSV per party by id column', async () => {
    const write = (name: string, list: string[]) => {
      const path = join(dir, `${name}.csv`)
      writeFileSync(path, `x,uid\n${list.map((id, i) => `${i},${id}`).join('\n')}\n`)
      return `${name}=${path}`
    }
    expect(
      await readCsvColumn(join(dir, 'a.csv').replace('a.csv', 'missing.csv'), 'uid').catch((e: Error) => e)
    ).toBeInstanceOf(Error)
    const r = await psiRun({
      party: [write('a', ids(0, 10)), write('b', ids(5, 30))],
      idColumn: 'uid',
      workers: '1'
    })
    expect(r.intersectionSize).toBe(5)
  })

  it('refuses bad usage with COHORT_USAGE', async () => {
    await expect(psiRun({})).rejects.toMatchObject({ code: 'COHORT_USAGE' })
    const one = join(dir, 'one.json')
    writeFileSync(one, JSON.stringify({ a: ['x'] }))
    await expect(psiRun({ partition: one })).rejects.toMatchObject({ code: 'COHORT_USAGE' })
    const two = join(dir, 'two.json')
    writeFileSync(two, JSON.stringify({ a: ['x'], b: ['x'] }))
    await expect(psiRun({ partition: two, sizeOnly: 'zed' })).rejects.toMatchObject({ code: 'COHORT_USAGE' })
  })
})
