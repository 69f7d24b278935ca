import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { register } from '../../../cli/commands/data.ts'
import { initNodeHome, openNodeHome } from '../../../node/home.ts'

class Exit extends Error {
  readonly status: number
  constructor(status: number) {
    super(`exit ${status}`)
    this.status = status
  }
}

/** Runs `cohort data ...` in-process; returns stdout, stderr and the exit status. */
async function cohort(...args: string[]): Promise<{ out: string; err: string; status: number }> {
  let out = ''
  let err = ''
  const w1 = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s)
    return true
  })
  const w2 = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s)
    return true
  })
  const ex = vi.spyOn(process, 'exit').mockImplementation((code) => {
    throw new Exit(Number(code ?? 0))
  })
  let status = 0
  try {
    const program = new Command('cohort').exitOverride()
    register(program)
    await program.parseAsync(['data', ...args], { from: 'user' })
  } catch (e) {
    if (!(e instanceof Exit)) throw e
    status = e.status
  } finally {
    w1.mockRestore()
    w2.mockRestore()
    ex.mockRestore()
  }
  return { out, err, status }
}

describe('cohort data', () => {
  const root = mkdtempSync(join(tmpdir(), 'cohort-cli-data-'))
  const dir = join(root, 'acme')
  const spec = 'datasets/credit_data/spec.json'
  beforeAll(async () => {
    await initNodeHome(dir, { name: 'acme' })
  })
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('import prints a JSON summary; list and describe show the dataset', async () => {
    const r = await cohort(
      'import',
      '--dir',
      dir,
      '--name',
      'credit',
      '--csv',
      'datasets/credit_data/data.csv',
      '--spec',
      spec
    )
    expect(r.status).toBe(0)
    expect(JSON.parse(r.out)).toMatchObject({ name: 'credit', rows: 4454, replaced: null })

    const list = await cohort('list', '--dir', dir)
    expect(JSON.parse(list.out)).toEqual([
      expect.objectContaining({ name: 'credit', rows: 4454, features: 26 })
    ])
    const d = await cohort('describe', '--dir', dir, '--name', 'credit')
    expect(JSON.parse(d.out)).toMatchObject({ rows: 4454, split: { train: 3563, test: 891 } })
  })

  it('re-import without --replace fails with COHORT_DATASET_EXISTS; with it, it is audit-logged', async () => {
    const args = [
      'import',
      '--dir',
      dir,
      '--name',
      'credit',
      '--csv',
      'tests/fixtures/data/good-40.csv',
      '--spec',
      spec
    ]
    const refused = await cohort(...args)
    expect(refused.status).toBe(1)
    expect(refused.err).toContain('[COHORT_DATASET_EXISTS]')
    const ok = await cohort(...args, '--replace')
    expect(ok.status).toBe(0)
    expect(JSON.parse(ok.out)).toMatchObject({ rows: 40, replaced: { rows: 4454 } })
    const home = await openNodeHome(dir)
    try {
      const kinds = (await home.audit.read()).map((e) => [e.kind, e.actor])
      expect(kinds.slice(-2)).toEqual([
        ['dataset-imported', 'cli'],
        ['dataset-replaced', 'cli']
      ])
      expect(await home.audit.verify()).toMatchObject({ ok: true })
    } finally {
      await home.close()
    }
  })

  it('a bad CSV prints the report on stderr and exits non-zero', async () => {
    const r = await cohort(
      'import',
      '--dir',
      dir,
      '--name',
      'bad',
      '--csv',
      'tests/fixtures/data/bad-number.csv',
      '--spec',
      spec
    )
    expect(r.status).toBe(1)
    const lines = r.err.trim().split('\n')
    expect(lines[0]).toBe('line 12, column Age: value "12abc": not a number')
    expect(lines[1]).toBe('1 error in total')
    expect(lines[2]).toMatch(/^cohort: .*nothing was imported \[COHORT_DATASET_INVALID\]$/)
    const list = await cohort('list', '--dir', dir)
    expect(JSON.parse(list.out).map((d: { name: string }) => d.name)).toEqual(['credit'])
  })

  it('describe of an unknown dataset exits non-zero with COHORT_DATASET_NOT_FOUND', async () => {
    const r = await cohort('describe', '--dir', dir, '--name', 'nope')
    expect(r.status).toBe(1)
    expect(r.err).toContain('[COHORT_DATASET_NOT_FOUND]')
  })
})
