/**
 * `cohort sim run | sweep | synth` as a user runs them: exit codes, the one-line errors, the summary,
 * and the files of the output contract (design.md: `<dir>/report.json`, `<dir>/report.html`).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.ts'

const tmp = () => mkdtempSync(join(tmpdir(), 'cohort-sim-cli-'))
const oneLine = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('cohort:'))

describe('cohort sim run', () => {
  it('runs a shipped scenario and writes report.json, report.html and (--screenshot) report.png', async () => {
    const out = join(tmp(), 'credit')
    const r = await runCli(
      [
        'sim',
        'run',
        'configs/scenarios/credit-natural.yaml',
        '--out',
        out,
        '--set',
        'model.rounds=2',
        '--screenshot'
      ],
      { timeoutMs: 120_000 }
    )
    expect(r.stderr).not.toMatch(/^cohort:/m)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/credit-horizontal: completed 2\/2 rounds/)
    expect(r.stdout).toMatch(/test auc 0\.\d{4}\s+centralized 0\.\d{4}/)
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'))
    expect(report).toMatchObject({
      scenario: { name: 'credit-horizontal', seed: 1 },
      job: { status: 'completed' }
    })
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<canvas')
    expect(existsSync(join(out, 'report.png'))).toBe(true)
  })

  it("--seed overrides the scenario's seed", async () => {
    const out = join(tmp(), 'seeded')
    const r = await runCli([
      'sim',
      'run',
      'configs/scenarios/credit-natural.yaml',
      '--out',
      out,
      '--set',
      'model.rounds=1',
      '--seed',
      '42',
      '--json'
    ])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', rounds: 1 })
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).scenario.seed).toBe(42)
  })

  it('says in one line what is wrong with a scenario', async () => {
    const dir = tmp()
    const bad = join(dir, 'bad.yaml')
    writeFileSync(
      bad,
      'name: x\ndataset: { synthetic: { rows: 500 } }\npartition: { kind: iid, parties: 3 }\nmodel: { kind: logreg }\nfaults: [{ dropout: { party: nobody, round: 1 } }]\n'
    )
    let r = await runCli(['sim', 'run', bad, '--out', join(dir, 'o')])
    expect(r.code).toBe(1)
    expect(oneLine(r.stderr)).toEqual([expect.stringMatching(/party "nobody".*\[COHORT_SIM_CONFIG\]$/)])
    r = await runCli(['sim', 'run', join(dir, 'missing.yaml'), '--out', join(dir, 'o')])
    expect(r.code).toBe(1)
    expect(oneLine(r.stderr)).toEqual([expect.stringMatching(/\[COHORT_CONFIG_INVALID\]$/)])
    r = await runCli(['sim', 'run', bad, '--out', join(dir, 'o'), '--set', 'nonsense'])
    expect(r.code).toBe(2)
  })

  it('writes the report of a failed job and exits non-zero', async () => {
    const out = join(tmp(), 'declined')
    // Every lender's ε cap (0.1) is below the job's ε: all decline the offer.
    const r = await runCli([
      'sim',
      'run',
      'configs/scenarios/credit-dp-sweep.yaml',
      '--out',
      out,
      '--set',
      'model.rounds=1',
      '--set',
      'policy.epsilonCap=0.1'
    ])
    expect(r.code).toBe(1)
    expect(oneLine(r.stderr)).toEqual([expect.stringMatching(/\[COHORT_SIM_JOB_FAILED\]$/)])
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'))
    expect(report.job.status).toBe('failed')
    expect(report.job.declined.map((d: { code: string }) => d.code)).toEqual([
      'COHORT_POLICY_EPSILON_CAP',
      'COHORT_POLICY_EPSILON_CAP',
      'COHORT_POLICY_EPSILON_CAP'
    ])
  })
})

describe('cohort sim synth and sweep', () => {
  it('writes a synthetic dataset whose scenario runs, and sweeps it', async () => {
    const dir = join(tmp(), 'synth')
    let r = await runCli(['sim', 'synth', '--out', dir, '--rows', '3000', '--parties', '3', '--seed', '2'])
    expect(r.code).toBe(0)
    for (const f of [
      'data.csv',
      'spec.json',
      'truth.json',
      'scenario.yaml',
      'partitions/horizontal_iid.json',
      'partitions/horizontal_dirichlet.json'
    ])
      expect(existsSync(join(dir, f)), f).toBe(true)
    expect(readFileSync(join(dir, 'data.csv'), 'utf8').trim().split('\n')).toHaveLength(3001)
    r = await runCli([
      'sim',
      'sweep',
      join(dir, 'scenario.yaml'),
      '--param',
      'model.learningRate=0.05,0.3',
      '--set',
      'model.rounds=2',
      '--out',
      join(dir, 'sweep'),
      '--json'
    ])
    expect(r.code).toBe(0)
    const sweep = JSON.parse(r.stdout)
    expect(sweep.points.map((p: { label: string; status: string }) => [p.label, p.status])).toEqual([
      ['model.learningRate=0.05', 'completed'],
      ['model.learningRate=0.3', 'completed']
    ])
    expect(existsSync(join(dir, 'sweep', 'sweep.html'))).toBe(true)
    r = await runCli(['sim', 'synth', '--out', dir, '--rows', '5'])
    expect(r.code).toBe(2)
    expect(oneLine(r.stderr)).toEqual([expect.stringMatching(/--rows must be an integer/)])
  })
})
