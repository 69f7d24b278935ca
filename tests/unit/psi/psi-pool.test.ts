/** The PSI v2 worker pool computes exactly what the inline functions compute. */
import { afterAll, describe, expect, it } from 'vitest'
import { blindPoints, psiKeygen } from '../../../crypto/psi/blind.ts'
import { hashIdsToCurve } from '../../../crypto/psi/hash-to-curve.ts'
import { createPsiPool } from '../../../crypto/psi/psi-pool.ts'

const pool = createPsiPool({ size: 2, inlineBelow: 4 })
afterAll(() => pool.close())

describe('PSI v2 pool', () => {
  const salt = crypto.getRandomValues(new Uint8Array(32))
  const ids = Array.from({ length: 101 }, (_, i) => `id-${i}`)

  it('hashAndBlind and blind across workers equal the inline result, in order', async () => {
    const key = psiKeygen()
    const inline = blindPoints(key, hashIdsToCurve(ids, salt))
    const pooled = await pool.hashAndBlind(ids, salt, key)
    expect(Buffer.from(pooled).equals(Buffer.from(inline))).toBe(true)
    const key2 = psiKeygen()
    expect(Buffer.from(await pool.blind(key2, pooled)).equals(Buffer.from(blindPoints(key2, inline)))).toBe(
      true
    )
  })

  it('reports a low-order point as LowOrderPointError and stays usable', async () => {
    const points = new Uint8Array(32 * 8) // all-zero u: low order
    await expect(pool.blind(psiKeygen(), points)).rejects.toMatchObject({ code: 'COHORT_LOW_ORDER_POINT' })
    expect((await pool.hashAndBlind(ids.slice(0, 10), salt, psiKeygen())).length).toBe(320)
  })
})
