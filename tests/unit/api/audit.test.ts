import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEntryView } from '../../../node/api/routes/audit.ts'
import { parseAuditExport, verifyAuditExport } from '../../../platform/audit/export.ts'
import { apiFixture, errorOf } from './api-fixture.ts'
import type { ApiFixture } from './api-fixture.ts'

interface Page {
  entries: AuditEntryView[]
  next: number | null
}

describe('admin API: audit', () => {
  let f: ApiFixture
  const get = (path: string) => f.app.request(path, { headers: f.auth })

  beforeAll(async () => {
    f = await apiFixture()
    // node-initialized (seq 0) plus five more entries.
    for (let i = 0; i < 5; i++)
      await f.home.audit.append('test-event', { i, note: `entry ${i}` }, { actor: 'cli' })
  })
  afterAll(async () => {
    await f.close()
  })

  it('lists decoded entries from the start', async () => {
    const res = await get('/v1/audit')
    expect(res.status).toBe(200)
    const page = (await res.json()) as Page
    expect(page.next).toBeNull()
    expect(page.entries.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5])
    expect(page.entries[0]).toMatchObject({
      kind: 'node-initialized',
      actor: 'cli',
      body: { name: 'bank-a', peerId: f.home.identity.peerId }
    })
    expect(page.entries[3]).toMatchObject({
      kind: 'test-event',
      actor: 'cli',
      round: null,
      body: { i: 2, note: 'entry 2' }
    })
    expect(page.entries[3]!.prev).toBe(page.entries[2]!.hash)
    expect(new Date(page.entries[3]!.time).getTime()).toBe(page.entries[3]!.ts)
  })

  it('pages with from and limit, and next points at the following page', async () => {
    const first = (await (await get('/v1/audit?from=1&limit=2')).json()) as Page
    expect(first.entries.map((e) => e.seq)).toEqual([1, 2])
    expect(first.next).toBe(3)
    const last = (await (await get('/v1/audit?from=4&limit=2')).json()) as Page
    expect(last.entries.map((e) => e.seq)).toEqual([4, 5])
    expect(last.next).toBeNull()
    const past = (await (await get('/v1/audit?from=100')).json()) as Page
    expect(past).toEqual({ entries: [], next: null })
  })

  it.each(['limit=0', 'limit=1001', 'from=-1', 'from=abc', 'limit=2.5'])(
    'refuses ?%s with 400 COHORT_REQUEST_INVALID',
    async (q) => {
      const res = await get(`/v1/audit?${q}`)
      expect(res.status).toBe(400)
      expect((await errorOf(res)).code).toBe('COHORT_REQUEST_INVALID')
    }
  )

  it('reading is not a write: GETs add no audit entries', async () => {
    const head = (await f.home.audit.head())!.seq
    await get('/v1/audit')
    await get('/v1/audit/verify')
    await get('/v1/audit/export')
    expect((await f.home.audit.head())!.seq).toBe(head)
  })

  it('verify reports the intact chain', async () => {
    const res = await get('/v1/audit/verify')
    expect(res.status).toBe(200)
    const head = (await f.home.audit.head())!
    expect(await res.json()).toEqual({
      ok: true,
      entries: head.seq + 1,
      head: { seq: head.seq, hash: head.hash }
    })
  })

  it('verify reports a tampered entry with its seq', async () => {
    const g = await apiFixture()
    try {
      await g.home.audit.append('test-event', { amount: 1 })
      const key = '0000000000000001'
      const value = await g.home.store.audit.get(key)
      const bad = new Uint8Array(value!)
      bad[10] = bad[10]! ^ 1
      await g.home.store.audit.put(key, bad)
      const res = await g.app.request('/v1/audit/verify', { headers: g.auth })
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ ok: false, firstBad: { seq: 1 } })
    } finally {
      await g.close()
    }
  })

  it('export downloads the signed export, which verifies offline against the node peer id', async () => {
    const res = await get('/v1/audit/export')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="cohort-audit-.+\.json"$/)
    const text = await res.text()
    const exp = parseAuditExport(text)
    expect(exp.peerId).toBe(f.home.identity.peerId)
    const head = (await f.home.audit.head())!
    expect(exp.entries).toHaveLength(head.seq + 1)
    expect(await verifyAuditExport(exp, f.home.identity.peerId)).toMatchObject({
      ok: true,
      entries: head.seq + 1
    })

    // One changed byte of the downloaded text no longer verifies.
    const tampered = text.replace(
      exp.exportSig,
      Buffer.from(Buffer.from(exp.exportSig, 'base64').map((b, i) => (i === 0 ? b ^ 1 : b))).toString(
        'base64'
      )
    )
    expect((await verifyAuditExport(parseAuditExport(tampered))).ok).toBe(false)
  })
})
