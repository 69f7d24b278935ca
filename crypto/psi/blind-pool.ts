/**
 * The v1 PSI blinding pool: ids hashed straight to a u-coordinate (./blind.ts `hashAndBlind`), spread
 * over worker threads. v1 hashing leaks one bit per id (crypto/psi/README.md); protocols use the v2
 * pool of ./psi-pool.ts. This is that same pool with v1 hashing, kept for the v1 API and its bench.
 */
import { createPsiPool } from './psi-pool.ts'
import type { PsiPool, PsiPoolInit } from './psi-pool.ts'

/**
 * Options of {@link createBlindPool}.
 * @example
 * createBlindPool({ size: 4, inlineBelow: 128 } satisfies BlindPoolInit)
 */
export type BlindPoolInit = Omit<PsiPoolInit, 'hashing'>

/**
 * A pool of v1 PSI blinding workers.
 * @example
 * const pool: BlindPool = createBlindPool()
 * await pool.close()
 */
export type BlindPool = PsiPool

/**
 * Starts a pool of v1 blinding workers.
 *
 * @example
 * await using pool = createBlindPool({ size: 4 })
 * const blinded = await pool.hashAndBlind(ids, salt, key)
 */
export function createBlindPool(init: BlindPoolInit = {}): BlindPool {
  return createPsiPool({ inlineBelow: 64, ...init, hashing: 'v1' })
}
