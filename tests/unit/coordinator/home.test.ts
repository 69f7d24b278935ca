import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadRunJob, startCoordinator } from '../../../coordinator/coordinator.ts'
import { COORDINATOR_FILES, initCoordinatorHome, openCoordinatorHome } from '../../../coordinator/home.ts'
import { hashToken } from '../../../platform/api/token.ts'
import { addMember } from '../../../platform/federation/manifest.ts'

describe('coordinator home', () => {
  const root = mkdtempSync(join(tmpdir(), 'cohort-coord-home-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('init writes a 0600 identity, a config with only the token hash, and a first audit entry', async () => {
    const r = await initCoordinatorHome(join(root, 'a'), { name: 'coord', apiPort: 0 })
    expect(statSync(join(r.dir, COORDINATOR_FILES.identity)).mode & 0o777).toBe(0o600)
    const text = readFileSync(r.configPath, 'utf8')
    expect(text).not.toContain(r.token)
    expect(JSON.parse(text)).toMatchObject({
      name: 'coord',
      api: { tokenSha256: hashToken(r.token), maxBodyBytes: 1024 * 1024 },
      jobs: { maxConcurrent: 1 }
    })
    const home = await openCoordinatorHome(r.dir)
    try {
      expect(home.identity.peerId).toBe(r.peerId)
      expect((await home.audit.read()).map((e) => e.kind)).toEqual(['coordinator-initialized'])
      expect((await home.audit.verify()).ok).toBe(true)
    } finally {
      await home.close()
    }
    await expect(initCoordinatorHome(r.dir, { name: 'again' })).rejects.toMatchObject({
      code: 'COHORT_COORDINATOR_HOME'
    })
  })

  it('a missing directory and a held lock are clear errors', async () => {
    await expect(openCoordinatorHome(join(root, 'nope'))).rejects.toMatchObject({
      code: 'COHORT_COORDINATOR_HOME',
      message: expect.stringContaining('cohort coordinator init')
    })
    const r = await initCoordinatorHome(join(root, 'b'), { name: 'coord' })
    const first = await openCoordinatorHome(r.dir)
    writeFileSync(join(r.dir, COORDINATOR_FILES.pid), '4242\n')
    try {
      await expect(openCoordinatorHome(r.dir)).rejects.toMatchObject({
        code: 'COHORT_COORDINATOR_LOCKED',
        message: expect.stringContaining('(pid 4242)')
      })
    } finally {
      await first.close()
    }
  })

  it('start refuses a manifest without this coordinator, and releases the lock', async () => {
    const r = await initCoordinatorHome(join(root, 'c'), { name: 'coord' })
    const manifest = join(r.dir, 'federation.json')
    addMember(manifest, { org: 'coord', peerId: r.peerId, roles: ['node'] })
    await expect(startCoordinator(r.dir)).rejects.toMatchObject({
      code: 'COHORT_COORDINATOR_HOME',
      message: expect.stringContaining('--roles coordinator')
    })
    const reopened = await openCoordinatorHome(r.dir)
    await reopened.close()
  })

  it('starts and stops with audit entries and its pid file', async () => {
    const r = await initCoordinatorHome(join(root, 'd'), { name: 'coord' })
    addMember(join(r.dir, 'federation.json'), { org: 'coord', peerId: r.peerId, roles: ['coordinator'] })
    const c = await startCoordinator(r.dir, {
      runJob: join(import.meta.dirname, '../../helpers/fake-run-job.ts')
    })
    expect(readFileSync(join(r.dir, COORDINATOR_FILES.pid), 'utf8').trim()).toBe(String(process.pid))
    expect(c.status()).toMatchObject({ name: 'coord', peerId: r.peerId, connected: 0, nodes: [] })
    expect(c.status().addrs[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+/)
    await c.stop()
    const home = await openCoordinatorHome(r.dir)
    try {
      expect((await home.audit.read()).map((e) => e.kind)).toEqual([
        'coordinator-initialized',
        'coordinator-started',
        'coordinator-stopped'
      ])
    } finally {
      await home.close()
    }
  })

  it('loadRunJob loads a module export, and refuses a module without one', async () => {
    expect(typeof (await loadRunJob(join(import.meta.dirname, '../../helpers/fake-run-job.ts')))).toBe(
      'function'
    )
    await expect(loadRunJob(join(import.meta.dirname, 'fixtures.ts'))).rejects.toMatchObject({
      code: 'COHORT_JOB_RUNNER_MISSING'
    })
  })
})
