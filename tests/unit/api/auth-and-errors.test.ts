import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STATUS_BY_CODE, statusForCode } from '../../../node/api/middleware/error-handler.ts'
import { apiFixture, errorOf } from './api-fixture.ts'
import type { ApiFixture } from './api-fixture.ts'

describe('admin API: health, bearer auth, error shape', () => {
  let f: ApiFixture

  beforeAll(async () => {
    f = await apiFixture()
  })
  afterAll(async () => {
    await f.close()
  })

  it('GET /health needs no token and names the node', async () => {
    const res = await f.app.request('/health')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ok: true, peerId: f.home.identity.peerId, name: 'bank-a' })
  })

  it('refuses /v1 without a token: 401 COHORT_UNAUTHORIZED with WWW-Authenticate', async () => {
    const res = await f.app.request('/v1/identity')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /)
    const err = await errorOf(res)
    expect(err.code).toBe('COHORT_UNAUTHORIZED')
    expect(typeof err.message).toBe('string')
  })

  const badHeaders: Array<[string, (token: string, hash: string) => string]> = [
    ['a wrong token', () => `Bearer ${'x'.repeat(43)}`],
    [
      'the token with its last character changed',
      (t) => `Bearer ${t.slice(0, -1)}${t.endsWith('A') ? 'B' : 'A'}`
    ],
    ['the right token under another scheme', (t) => `Basic ${t}`],
    ['the token hash instead of the token', (_t, hash) => `Bearer ${hash}`],
    ['an empty bearer', () => 'Bearer '],
    ['two tokens', (t) => `Bearer ${t} ${t}`]
  ]

  it.each(badHeaders)('refuses %s with 401 COHORT_UNAUTHORIZED', async (_label, header) => {
    const value = header(f.token, f.home.config.api.tokenSha256)
    const res = await f.app.request('/v1/identity', { headers: { Authorization: value } })
    expect(res.status).toBe(401)
    expect((await errorOf(res)).code).toBe('COHORT_UNAUTHORIZED')
  })

  it('accepts the right token (scheme is case-insensitive)', async () => {
    const res = await f.app.request('/v1/identity', { headers: { Authorization: `bearer ${f.token}` } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      peerId: f.home.identity.peerId,
      name: 'bank-a',
      running: false,
      addrs: []
    })
  })

  it('an unauthenticated write is refused before it changes anything', async () => {
    const before = (await f.home.audit.head())?.seq
    const res = await f.app.request('/v1/policy', {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(f.home.config.policy)
    })
    expect(res.status).toBe(401)
    expect((await f.home.audit.head())?.seq).toBe(before)
  })

  it('answers an unknown route with 404 COHORT_NOT_FOUND in the same error shape', async () => {
    const res = await f.app.request('/v1/nope', { headers: f.auth })
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ error: { code: 'COHORT_NOT_FOUND', message: expect.any(String) } })
  })

  it('an unknown route under /v1 without a token is 401, not 404 (routes are not probeable)', async () => {
    const res = await f.app.request('/v1/nope')
    expect(res.status).toBe(401)
  })
})

describe('admin API: unexpected errors', () => {
  it('are a logged 500 COHORT_INTERNAL whose message does not carry the cause', async () => {
    const f = await apiFixture()
    try {
      await f.home.close() // every store read now fails inside level
      const res = await f.app.request('/v1/policy', { headers: f.auth })
      expect(res.status).toBe(500)
      const err = await errorOf(res)
      expect(err.code).toBe('COHORT_INTERNAL')
      const ref = /ref ([0-9a-f-]{36})/.exec(err.message)?.[1]
      expect(ref).toBeDefined()
      // The client sees only the reference; the cause (level's "not open") is in the node's log.
      expect(err.message).toBe(`internal error (ref ${ref}); the node's log has the details`)
      expect(f.logs).toHaveLength(1)
      expect(f.logs[0]).toContain(ref)
      expect(f.logs[0]).toMatch(/not open/i)
      expect(f.logs[0]).toMatch(/GET \/v1\/policy/)
    } finally {
      await f.close()
    }
  })
})

describe('status table', () => {
  it('maps the documented codes', () => {
    expect(statusForCode('COHORT_CONFIG_INVALID')).toBe(400)
    expect(statusForCode('COHORT_REQUEST_INVALID')).toBe(400)
    expect(statusForCode('COHORT_UNAUTHORIZED')).toBe(401)
    expect(statusForCode('COHORT_DATASET_EXISTS')).toBe(409)
    expect(statusForCode('COHORT_DATASET_NOT_FOUND')).toBe(404)
    expect(statusForCode('COHORT_PAYLOAD_TOO_LARGE')).toBe(413)
    expect(statusForCode('COHORT_NODE_NOT_RUNNING')).toBe(503)
  })

  it('falls back on suffixes, lets the table win, and defaults to 500', () => {
    expect(statusForCode('COHORT_SOMETHING_INVALID')).toBe(400)
    expect(statusForCode('COHORT_JOB_NOT_FOUND')).toBe(404)
    expect(statusForCode('COHORT_JOB_EXISTS')).toBe(409)
    expect(statusForCode('COHORT_AUDIT_INVALID')).toBe(500)
    expect(statusForCode('COHORT_SOMETHING_ELSE')).toBe(500)
  })

  it('every table entry is a COHORT_ code with a 4xx/5xx status', () => {
    for (const [code, status] of Object.entries(STATUS_BY_CODE)) {
      expect(code).toMatch(/^COHORT_[A-Z_]+$/)
      expect(status).toBeGreaterThanOrEqual(400)
    }
  })
})
