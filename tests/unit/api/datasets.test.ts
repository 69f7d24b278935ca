import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiFixture, errorOf } from './api-fixture.ts'
import type { ApiFixture } from './api-fixture.ts'

const SPEC = {
  columns: [
    { name: 'uid', type: 'id' },
    { name: 'age', type: 'number' },
    { name: 'plan', type: 'category', levels: ['basic', 'plus'] },
    { name: 'bad', type: 'target', levels: ['no', 'yes'], positive: 'yes' }
  ]
}

const CSV = [
  'uid,age,plan,bad',
  'u00001,34,basic,no',
  'u00002,51,plus,yes',
  'u00003,,basic,no',
  'u00004,29,plus,no',
  ''
].join('\n')

// The vendored copy when the repo has one, else the shared read-only datasets next to the repo.
/** The vendored copy: it is part of the repository, so this test never depends on ../shared. */
const CREDIT_DIR = resolve(import.meta.dirname, '../../../datasets/credit_data')

interface Issue {
  line: number
  column: string | null
  reason: string
}

describe('admin API: datasets', () => {
  let f: ApiFixture
  let specPath: string
  const post = (
    name: string,
    body: string | Uint8Array,
    query = `spec=${encodeURIComponent(specPath)}`,
    type = 'text/csv'
  ) =>
    f.app.request(`/v1/datasets/${name}?${query}`, {
      method: 'POST',
      headers: { ...f.auth, 'Content-Type': type },
      body
    })
  const get = (path: string) => f.app.request(path, { headers: f.auth })
  const head = async () => (await f.home.audit.head())!.seq

  beforeAll(async () => {
    f = await apiFixture()
    specPath = join(f.root, 'spec.json')
    writeFileSync(specPath, JSON.stringify(SPEC))
  })
  afterAll(async () => {
    await f.close()
  })

  it('starts with no datasets', async () => {
    expect(await (await get('/v1/datasets')).json()).toEqual({ datasets: [] })
  })

  it('imports a CSV body with a spec on the node host: 201, dataset-imported + api-write', async () => {
    const before = await head()
    const res = await post('tiny', CSV)
    expect(res.status).toBe(201)
    const body = (await res.json()) as {
      dataset: { name: string; rows: number; source: { bytes: number; file: null } }
      replaced: null
    }
    expect(body.replaced).toBeNull()
    expect(body.dataset).toMatchObject({ name: 'tiny', rows: 4, source: { bytes: CSV.length, file: null } })

    const entries = await f.home.audit.read({ gte: before + 1 })
    expect(entries.map((e) => [e.kind, e.actor])).toEqual([
      ['dataset-imported', 'admin-api'],
      ['api-write', 'admin-api']
    ])
    expect(entries[0]!.body).toMatchObject({ name: 'tiny', rows: 4 })
    expect(entries[1]!.body).toEqual({ method: 'POST', path: '/v1/datasets/tiny' })
  })

  it('lists and describes the imported dataset', async () => {
    const list = (await (await get('/v1/datasets')).json()) as {
      datasets: Array<{ name: string; rows: number; features: number }>
    }
    expect(list.datasets).toEqual([expect.objectContaining({ name: 'tiny', rows: 4, features: 3 })])

    const res = await get('/v1/datasets/tiny')
    expect(res.status).toBe(200)
    const d = (await res.json()) as {
      name: string
      rows: number
      id: string
      target: unknown
      columns: Array<{ name: string }>
    }
    expect(d).toMatchObject({ name: 'tiny', rows: 4, id: 'uid', target: { column: 'bad', positive: 'yes' } })
    expect(d.columns.map((c) => c.name)).toEqual(['uid', 'age', 'plan', 'bad'])
  })

  it('refuses to overwrite without replace=1 (409 COHORT_DATASET_EXISTS), replaces with it (200)', async () => {
    const before = await head()
    const refused = await post('tiny', CSV)
    expect(refused.status).toBe(409)
    expect((await errorOf(refused)).code).toBe('COHORT_DATASET_EXISTS')
    expect(await head()).toBe(before)

    const more = `${CSV}u00005,40,plus,yes\n`
    const res = await post('tiny', more, `spec=${encodeURIComponent(specPath)}&replace=1`)
    expect(res.status).toBe(200)
    const body = (await res.json()) as { dataset: { rows: number }; replaced: { rows: number } }
    expect(body.dataset.rows).toBe(5)
    expect(body.replaced.rows).toBe(4)
    const kinds = (await f.home.audit.read({ gte: before + 1 })).map((e) => e.kind)
    expect(kinds).toEqual(['dataset-replaced', 'api-write'])
  })

  it('an invalid CSV is 400 COHORT_DATASET_INVALID with the report in details, and nothing is stored', async () => {
    const before = await head()
    const bad = [
      'uid,age,plan,bad',
      'u1,34,basic,no',
      'u2,abc,plus,yes',
      'u3,40,gold,no',
      'u1,50,plus,no',
      ''
    ].join('\n')
    const res = await post('broken', bad)
    expect(res.status).toBe(400)
    const err = await errorOf(res)
    expect(err.code).toBe('COHORT_DATASET_INVALID')
    const report = err.details as { issues: Issue[]; total: number }
    expect(report.total).toBe(3)
    expect(report.issues.map((i) => [i.line, i.column])).toEqual([
      [3, 'age'],
      [4, 'plan'],
      [5, 'uid']
    ])
    expect((await get('/v1/datasets/broken')).status).toBe(404)
    expect(await head()).toBe(before)
  })

  it('describing an unknown dataset is 404 COHORT_DATASET_NOT_FOUND', async () => {
    const res = await get('/v1/datasets/nope')
    expect(res.status).toBe(404)
    expect((await errorOf(res)).code).toBe('COHORT_DATASET_NOT_FOUND')
  })

  it('a bad dataset name is 400 COHORT_DATASET_NAME_INVALID', async () => {
    const res = await post('.hidden', CSV)
    expect(res.status).toBe(400)
    expect((await errorOf(res)).code).toBe('COHORT_DATASET_NAME_INVALID')
  })

  it.each([
    ['no spec', ''],
    ['a relative spec path', 'spec=spec.json'],
    ['a spec that is not .json/.yaml', 'spec=/etc/passwd'],
    ['a bad replace flag', 'spec=/x/spec.json&replace=yes']
  ])('%s is 400 COHORT_REQUEST_INVALID', async (_l, query) => {
    const res = await post('tiny2', CSV, query)
    expect(res.status).toBe(400)
    expect((await errorOf(res)).code).toBe('COHORT_REQUEST_INVALID')
  })

  it('a spec that does not parse is 400 COHORT_DATASET_SPEC_INVALID, without quoting the file', async () => {
    const path = join(f.root, 'secret.json')
    writeFileSync(path, 'SECRET-VALUE-123 not json')
    const res = await post('tiny2', CSV, `spec=${encodeURIComponent(path)}`)
    expect(res.status).toBe(400)
    const err = await errorOf(res)
    expect(err.code).toBe('COHORT_DATASET_SPEC_INVALID')
    expect(err.message).not.toContain('SECRET')
  })

  it('a missing spec file is 400 COHORT_DATASET_SPEC_INVALID', async () => {
    const res = await post('tiny2', CSV, `spec=${encodeURIComponent(join(f.root, 'missing.json'))}`)
    expect(res.status).toBe(400)
    expect((await errorOf(res)).code).toBe('COHORT_DATASET_SPEC_INVALID')
  })

  it('a body that is not text/csv is 415 COHORT_UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await post('tiny2', CSV, undefined, 'application/json')
    expect(res.status).toBe(415)
    expect((await errorOf(res)).code).toBe('COHORT_UNSUPPORTED_MEDIA_TYPE')
  })

  it('imports the full credit_data (4454 rows) with its spec.json', async () => {
    const dir = CREDIT_DIR
    const res = await post(
      'credit',
      readFileSync(join(dir, 'data.csv')),
      `spec=${encodeURIComponent(join(dir, 'spec.json'))}`
    )
    expect(res.status).toBe(201)
    expect(((await res.json()) as { dataset: { rows: number } }).dataset.rows).toBe(4454)
    const d = (await (await get('/v1/datasets/credit')).json()) as {
      rows: number
      features: number
      split: { train: number; test: number }
    }
    expect(d.rows).toBe(4454)
    expect(d.features).toBe(26)
    // test = row_index % 5 == 0 over rows 0..4453
    expect(d.split).toMatchObject({ test: 891, train: 3563 })
  })
})

describe('admin API: dataset upload over the body limit', () => {
  let f: ApiFixture
  let specPath: string
  beforeAll(async () => {
    f = await apiFixture({ maxBodyBytes: 1024 })
    specPath = join(f.root, 'spec.json')
    writeFileSync(specPath, JSON.stringify(SPEC))
  })
  afterAll(async () => {
    await f.close()
  })

  it('a streamed CSV is cut off at the limit: 413 COHORT_PAYLOAD_TOO_LARGE and nothing stored', async () => {
    const before = (await f.home.audit.head())!.seq
    const lines = ['uid,age,plan,bad']
    for (let i = 0; i < 200; i++) lines.push(`u${String(i).padStart(5, '0')},${20 + (i % 50)},basic,no`)
    const bytes = new TextEncoder().encode(`${lines.join('\n')}\n`)
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 256) controller.enqueue(bytes.subarray(i, i + 256))
        controller.close()
      }
    })
    const res = await f.app.request(`/v1/datasets/big?spec=${encodeURIComponent(specPath)}`, {
      method: 'POST',
      headers: { ...f.auth, 'Content-Type': 'text/csv' },
      body,
      duplex: 'half'
    } as RequestInit)
    expect(res.status).toBe(413)
    expect((await errorOf(res)).code).toBe('COHORT_PAYLOAD_TOO_LARGE')
    expect(await (await f.app.request('/v1/datasets', { headers: f.auth })).json()).toEqual({ datasets: [] })
    expect((await f.home.audit.head())!.seq).toBe(before)
  })
})
