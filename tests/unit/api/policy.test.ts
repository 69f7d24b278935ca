import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readPolicy } from '../../../node/policy/policy-store.ts'
import { apiFixture, errorOf } from './api-fixture.ts'
import type { ApiFixture } from './api-fixture.ts'

const NEXT_POLICY = {
  federations: ['credit-2025'],
  epsilonCap: 3,
  delta: 1e-6,
  minNoiseMultiplier: 0.8,
  minParticipants: 4,
  allowPlaintext: false,
  datasets: {}
}

describe('admin API: policy', () => {
  let f: ApiFixture
  const put = (body: unknown, headers: Record<string, string> = {}) =>
    f.app.request('/v1/policy', {
      method: 'PUT',
      headers: { ...f.auth, 'Content-Type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body)
    })

  beforeAll(async () => {
    f = await apiFixture()
  })
  afterAll(async () => {
    await f.close()
  })

  it('GET returns the config policy before any change', async () => {
    const res = await f.app.request('/v1/policy', { headers: f.auth })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ policy: f.home.config.policy })
  })

  it('PUT stores the policy and logs policy-changed and api-write by admin-api', async () => {
    const before = (await f.home.audit.head())!.seq
    const res = await put(NEXT_POLICY)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ policy: NEXT_POLICY })
    expect(await readPolicy(f.home.store, f.home.config.policy)).toEqual(NEXT_POLICY)

    const entries = await f.home.audit.read({ gte: before + 1 })
    expect(entries.map((e) => [e.kind, e.actor])).toEqual([
      ['policy-changed', 'admin-api'],
      ['api-write', 'admin-api']
    ])
    expect(entries[0]!.body).toEqual({ before: f.home.config.policy, after: NEXT_POLICY })
    expect(entries[1]!.body).toEqual({ method: 'PUT', path: '/v1/policy' })
    expect((await f.home.audit.verify()).ok).toBe(true)

    const again = await f.app.request('/v1/policy', { headers: f.auth })
    expect(await again.json()).toEqual({ policy: NEXT_POLICY })
  })

  it('the next change records the stored policy as "before"', async () => {
    const before = (await f.home.audit.head())!.seq
    const next = { ...NEXT_POLICY, epsilonCap: 2 }
    expect((await put(next)).status).toBe(200)
    const [changed] = await f.home.audit.read({ gte: before + 1 })
    expect(changed!.body).toEqual({ before: NEXT_POLICY, after: next })
  })

  const invalid: Array<[string, unknown, string]> = [
    ['a missing field', { ...NEXT_POLICY, minParticipants: undefined }, 'minParticipants'],
    ['an unknown field (a typo)', { ...NEXT_POLICY, epsilonCAP: 9 }, 'epsilonCAP'],
    ['a value out of range', { ...NEXT_POLICY, minParticipants: 1 }, 'minParticipants'],
    ['a value of the wrong type', { ...NEXT_POLICY, epsilonCap: '3' }, 'epsilonCap'],
    ['an array', [NEXT_POLICY], '']
  ]

  it.each(invalid)(
    'PUT with %s is 400 COHORT_REQUEST_INVALID naming the field, and changes nothing',
    async (_l, body, field) => {
      const head = (await f.home.audit.head())!.seq
      const stored = await readPolicy(f.home.store, f.home.config.policy)
      const res = await put(body)
      expect(res.status).toBe(400)
      const err = await errorOf(res)
      expect(err.code).toBe('COHORT_REQUEST_INVALID')
      const paths = (err.details as { issues: Array<{ path: string }> }).issues.map((i) => i.path)
      expect(paths).toContain(field)
      expect((await f.home.audit.head())!.seq).toBe(head)
      expect(await readPolicy(f.home.store, f.home.config.policy)).toEqual(stored)
    }
  )

  it('PUT with malformed JSON is 400 COHORT_REQUEST_INVALID', async () => {
    const res = await put('{"epsilonCap": ')
    expect(res.status).toBe(400)
    expect((await errorOf(res)).code).toBe('COHORT_REQUEST_INVALID')
  })

  it('PUT with another media type is 415 COHORT_UNSUPPORTED_MEDIA_TYPE (not a policy of defaults)', async () => {
    const head = (await f.home.audit.head())!.seq
    const res = await put(NEXT_POLICY, { 'Content-Type': 'text/plain' })
    expect(res.status).toBe(415)
    expect((await errorOf(res)).code).toBe('COHORT_UNSUPPORTED_MEDIA_TYPE')
    expect((await f.home.audit.head())!.seq).toBe(head)
  })
})

describe('admin API: body limit', () => {
  let f: ApiFixture
  beforeAll(async () => {
    f = await apiFixture({ maxBodyBytes: 256 })
  })
  afterAll(async () => {
    await f.close()
  })

  const bigPolicy = { ...NEXT_POLICY, federations: Array.from({ length: 40 }, (_, i) => `federation-${i}`) }

  it('refuses a declared Content-Length over the limit with 413 COHORT_PAYLOAD_TOO_LARGE', async () => {
    const body = JSON.stringify(bigPolicy)
    expect(body.length).toBeGreaterThan(256)
    const res = await f.app.request('/v1/policy', {
      method: 'PUT',
      headers: { ...f.auth, 'Content-Type': 'application/json', 'Content-Length': String(body.length) },
      body
    })
    expect(res.status).toBe(413)
    expect((await errorOf(res)).code).toBe('COHORT_PAYLOAD_TOO_LARGE')
  })

  it('refuses a streamed body (no Content-Length) once it crosses the limit, and changes nothing', async () => {
    const head = (await f.home.audit.head())!.seq
    const bytes = new TextEncoder().encode(JSON.stringify(bigPolicy))
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 64) controller.enqueue(bytes.subarray(i, i + 64))
        controller.close()
      }
    })
    const res = await f.app.request('/v1/policy', {
      method: 'PUT',
      headers: { ...f.auth, 'Content-Type': 'application/json' },
      body,
      duplex: 'half'
    } as RequestInit)
    expect(res.status).toBe(413)
    expect((await errorOf(res)).code).toBe('COHORT_PAYLOAD_TOO_LARGE')
    expect((await f.home.audit.head())!.seq).toBe(head)
  })

  it('accepts a body under the limit', async () => {
    const res = await f.app.request('/v1/policy', {
      method: 'PUT',
      headers: { ...f.auth, 'Content-Type': 'application/json' },
      body: JSON.stringify(NEXT_POLICY)
    })
    expect(res.status).toBe(200)
  })
})
