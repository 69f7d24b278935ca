import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.ts'

describe('cohort demo (the README main command)', () => {
  const root = mkdtempSync(join(tmpdir(), 'cohort-demo-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('runs a coordinator and three lenders as processes, trains both models with DP, and every audit log verifies', async () => {
    const r = await runCli(['demo', '--dir', join(root, 'demo')], { timeoutMs: 240_000 })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const auc = Number(/risk model .*: 20 rounds, .*auc (\d\.\d+)/.exec(r.stdout)?.[1])
    expect(auc).toBeGreaterThan(0.78)
    expect(r.stdout).toMatch(/segmentation .*: 8 rounds, test inertia \d+/)
    const spent = [...r.stdout.matchAll(/spent epsilon (\d\.\d+) of 2\.5/g)].map((m) => Number(m[1]))
    expect(spent).toHaveLength(3)
    for (const e of spent) expect(e).toBeLessThanOrEqual(2.5)
    expect(r.stdout.match(/audit \d+ entries verified/g)).toHaveLength(3)
  }, 300_000)
})
