import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gaussianEvent, selfComposedEvent } from '../../../crypto/dp/events.ts'
import { budgetCapFor } from '../../../node/jobs/dataset-policy.ts'
import { createLedger } from '../../../node/ledger/ledger.ts'
import { readPolicy } from '../../../node/policy/policy-store.ts'
import { apiFixture } from './api-fixture.ts'
import type { ApiFixture } from './api-fixture.ts'

describe('admin API: budget', () => {
  let f: ApiFixture
  beforeAll(async () => {
    f = await apiFixture()
  })
  afterAll(async () => {
    await f.close()
  })

  it('needs the token', async () => {
    expect((await f.app.request('/v1/budget')).status).toBe(401)
  })

  it('lists every scope with its cap, spent epsilon and exhaustion', async () => {
    let res = await f.app.request('/v1/budget', { headers: f.auth })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ scopes: [] })

    const policy = await readPolicy(f.home.store, f.home.config.policy)
    const ledger = createLedger(
      f.home.store,
      f.home.audit,
      budgetCapFor(() => policy)
    )
    await ledger.commit(
      await ledger.reserve(
        { dataset: 'credit', purpose: 'training' },
        'job/r1',
        selfComposedEvent(gaussianEvent(20), 2)
      )
    )

    res = await f.app.request('/v1/budget', { headers: f.auth })
    const body = (await res.json()) as {
      scopes: Array<{
        scope: { dataset: string }
        spent: { epsilon: number }
        cap: { epsilon: number }
        exhausted: boolean
      }>
    }
    expect(body.scopes).toHaveLength(1)
    expect(body.scopes[0]!.scope.dataset).toBe('credit')
    expect(body.scopes[0]!.spent.epsilon).toBeGreaterThan(0)
    expect(body.scopes[0]!.spent.epsilon).toBeLessThanOrEqual(body.scopes[0]!.cap.epsilon)
    expect(body.scopes[0]!.exhausted).toBe(false)
  })
})
