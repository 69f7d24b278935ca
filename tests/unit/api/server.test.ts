import { describe, expect, it } from 'vitest'
import { isLoopbackHost, serveAdminApi } from '../../../node/api/server.ts'
import { apiFixture } from './api-fixture.ts'

describe('serveAdminApi', () => {
  it('binds 127.0.0.1 on a free port, serves the app over HTTP, refuses a taken port, and closes', async () => {
    const f = await apiFixture({ maxBodyBytes: 1024 })
    try {
      const server = await serveAdminApi(f.app, { port: 0 })
      try {
        expect(server.host).toBe('127.0.0.1')
        expect(server.port).toBeGreaterThan(0)
        expect(server.url).toBe(`http://127.0.0.1:${server.port}`)
        const health = await fetch(`${server.url}/health`)
        expect(await health.json()).toEqual({ ok: true, peerId: f.home.identity.peerId, name: 'bank-a' })
        const denied = await fetch(`${server.url}/v1/identity`)
        expect(denied.status).toBe(401)
        const ok = await fetch(`${server.url}/v1/identity`, { headers: f.auth })
        expect(ok.status).toBe(200)
        // A body over the socket reaches the route (here: a policy write), and an oversized one is 413.
        const policy = { ...f.home.config.policy, epsilonCap: 2 }
        const put = await fetch(`${server.url}/v1/policy`, {
          method: 'PUT',
          headers: { ...f.auth, 'Content-Type': 'application/json' },
          body: JSON.stringify(policy)
        })
        expect(await put.json()).toEqual({ policy })
        const big = await fetch(`${server.url}/v1/policy`, {
          method: 'PUT',
          headers: { ...f.auth, 'Content-Type': 'application/json' },
          body: 'x'.repeat(f.home.config.api.maxBodyBytes + 1)
        })
        expect(big.status).toBe(413)
        // The same port again is a clear listen error, not an unhandled 'error' event.
        await expect(serveAdminApi(f.app, { port: server.port })).rejects.toMatchObject({
          code: 'COHORT_API_LISTEN'
        })
      } finally {
        await server.close()
      }
      await expect(fetch(`${server.url}/health`)).rejects.toThrow()
    } finally {
      await f.close()
    }
  })

  it('refuses a non-loopback host without allowRemote, naming the flag', async () => {
    const f = await apiFixture()
    try {
      const err = await serveAdminApi(f.app, { host: '0.0.0.0', port: 0 }).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'COHORT_API_REMOTE_REFUSED' })
      expect((err as Error).message).toContain('allowRemote')
    } finally {
      await f.close()
    }
  })

  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.5', false],
    ['192.168.1.1', false],
    ['example.com', false],
    ['127.example.com', false]
  ])('isLoopbackHost(%s) is %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected)
  })
})
