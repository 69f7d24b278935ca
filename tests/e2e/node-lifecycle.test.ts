import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { exited, runCli, startCli } from '../helpers/cli.ts'

describe('cohort node start (separate process)', () => {
  const root = mkdtempSync(join(tmpdir(), 'cohort-life-'))
  const dir = join(root, 'bank')
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('serves, refuses a second start on the same directory, and shuts down cleanly on SIGTERM', async () => {
    const init = await runCli(['node', 'init', '--dir', dir, '--name', 'bank', '--json'])
    expect(init.code).toBe(0)
    const { peerId, token } = JSON.parse(init.stdout) as { peerId: string; token: string }
    expect(
      (
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
      ).code
    ).toBe(0)

    const { child } = await startCli(['node', 'start', '--dir', dir], /admin API on/)
    try {
      const { url } = JSON.parse(readFileSync(join(dir, 'api.json'), 'utf8')) as { url: string }
      const health = (await (await fetch(`${url}/health`)).json()) as { peerId: string }
      expect(health.peerId).toBe(peerId)
      expect((await fetch(`${url}/v1/identity`)).status).toBe(401)
      expect(
        (await fetch(`${url}/v1/identity`, { headers: { authorization: `Bearer ${token}` } })).status
      ).toBe(200)

      const second = await runCli(['node', 'start', '--dir', dir])
      expect(second.code).toBe(1)
      expect(second.stderr).toMatch(/in use by another process \(pid \d+\).*COHORT_NODE_LOCKED/)
      expect(second.stderr.trim().split('\n')).toHaveLength(1)
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited(child)).toBe(0)

    const list = await runCli(['audit', 'list', '--dir', dir, '--json'])
    const kinds = (JSON.parse(list.stdout) as Array<{ kind: string }>).map((e) => e.kind)
    expect(kinds).toEqual(['node-initialized', 'node-started', 'node-stopped'])
    expect((await runCli(['audit', 'verify', '--dir', dir])).code).toBe(0)
  })

  it('a missing directory and bad usage are one clear line and a non-zero exit', async () => {
    const missing = await runCli(['node', 'start', '--dir', join(root, 'nope')])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/not a node directory.*COHORT_NODE_HOME/)
    const usage = await runCli(['audit', 'verify'])
    expect(usage.code).toBe(2)
    const unknown = await runCli(['frobnicate'])
    expect(unknown.code).toBe(2)
  })
})
