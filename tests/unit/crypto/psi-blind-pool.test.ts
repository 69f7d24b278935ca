import { afterAll, describe, expect, it } from 'vitest'
import { blindPoints, hashAndBlind, hashIds, psiKeygen } from '../../../crypto/psi/blind.ts'
import { createBlindPool } from '../../../crypto/psi/blind-pool.ts'
import { hex, toHex, x25519Vectors } from '../../vectors/load.ts'

const salt = crypto.getRandomValues(new Uint8Array(32))
const ids = Array.from({ length: 500 }, (_, i) => `customer-${i}`)

describe('createBlindPool (worker threads running .ts under type stripping)', () => {
  const pool = createBlindPool({ size: 2, inlineBelow: 8 })
  afterAll(() => pool.close())

  it('hashAndBlind and blind across workers equal the single-thread results', async () => {
    const key = psiKeygen()
    expect(pool.size).toBe(2)
    const viaPool = await pool.hashAndBlind(ids, salt, key)
    expect(toHex(viaPool)).toBe(toHex(hashAndBlind(ids, salt, key)))
    const second = psiKeygen()
    expect(toHex(await pool.blind(second, viaPool))).toBe(toHex(blindPoints(second, viaPool)))
  })

  it('concurrent calls each get their own answer', async () => {
    const keys = [psiKeygen(), psiKeygen(), psiKeygen()]
    const points = hashIds(ids.slice(0, 101), salt)
    const results = await Promise.all(keys.map((k) => pool.blind(k, points)))
    results.forEach((r, i) => {
      expect(toHex(r)).toBe(toHex(blindPoints(keys[i]!, points)))
    })
  })

  it('small batches run inline, empty batches give empty output', async () => {
    const key = psiKeygen()
    expect(toHex(await pool.hashAndBlind(ids.slice(0, 3), salt, key))).toBe(
      toHex(hashAndBlind(ids.slice(0, 3), salt, key))
    )
    expect(await pool.blind(key, new Uint8Array(0))).toHaveLength(0)
  })

  it('a low-order point inside a worker slice rejects with LowOrderPointError', async () => {
    const points = hashIds(ids.slice(0, 50), salt)
    points.set(hex(x25519Vectors().lowOrder.points[2]!), 40 * 32)
    await expect(pool.blind(psiKeygen(), points)).rejects.toMatchObject({ code: 'COHORT_LOW_ORDER_POINT' })
    // the pool still works afterwards
    const key = psiKeygen()
    expect(toHex(await pool.blind(key, points.subarray(0, 20 * 32)))).toBe(
      toHex(blindPoints(key, points.subarray(0, 20 * 32)))
    )
  })

  it('argument errors are raised before any work is sent', async () => {
    await expect(pool.blind(new Uint8Array(3), new Uint8Array(64))).rejects.toMatchObject({
      code: 'COHORT_CRYPTO_ARGUMENT'
    })
    await expect(pool.blind(psiKeygen(), new Uint8Array(65))).rejects.toMatchObject({
      code: 'COHORT_CRYPTO_ARGUMENT'
    })
    await expect(pool.hashAndBlind(ids, new Uint8Array(5), psiKeygen())).rejects.toMatchObject({
      code: 'COHORT_CRYPTO_ARGUMENT'
    })
  })
})

describe('closing', () => {
  it('a closed pool refuses work; await using closes it', async () => {
    let escaped: ReturnType<typeof createBlindPool> | undefined
    {
      await using pool = createBlindPool({ size: 1, inlineBelow: 1 })
      escaped = pool
      expect(await pool.blind(psiKeygen(), hashIds(['a', 'b'], salt))).toHaveLength(64)
    }
    await expect(escaped.blind(psiKeygen(), hashIds(['a'], salt))).rejects.toMatchObject({
      name: 'BlindPoolClosedError',
      code: 'COHORT_BLIND_POOL_CLOSED'
    })
  })
})
