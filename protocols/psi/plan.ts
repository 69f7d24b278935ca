/**
 * The plan of a PSI session: who takes part, in which order, what each party learns, and the
 * commitments every party checks before it releases anything. The scheme (README.md) is a
 * multi-party ECDH-PSI with a designated leader, parties[0]:
 *
 * - every party i hashes its (normalised, deduplicated, secretly permuted) ids onto the curve and
 *   blinds them with a fresh key k_i; the set then travels a chain of hops, each applying its own
 *   key, so that it reaches the leader blinded by ALL n keys;
 * - the chain of party i >= 1 is i, i+1, ..., n-1, 1, ..., i-1 and then the leader (who applies k_0
 *   last and keeps the result); the leader's own chain is 0, 1, ..., n-1 and then back to the leader,
 *   where the last hop (the "shuffler", party n-1) permutes the fully blinded set before sending it,
 *   so the leader cannot relate it to its own rows;
 * - the leader intersects the n fully blinded sets, orders the intersection by the blinded values,
 *   and tells each party that may learn it the positions of the intersection in that party's own
 *   (secretly permuted) set; its own positions it maps back through the shuffler.
 */
import { hashCanonical } from '../../crypto/hash.ts'
import { PSI_SALT_BYTES } from '../../crypto/psi/blind.ts'
import { PSI_V2_LABEL } from '../../crypto/psi/hash-to-curve.ts'
import { PsiPolicyError } from './errors.ts'
import { MAX_PSI_BATCH_POINTS, MAX_PSI_PARTIES } from './limits.ts'

/**
 * What a party learns: the intersection itself (its rows, aligned) or only its size.
 * @example
 * const reveal: PsiReveal[] = ['intersection', 'intersection', 'size']
 */
export type PsiReveal = 'intersection' | 'size'
/**
 * How ids are normalised before hashing (all parties must agree; it is part of the plan).
 * @example
 * normaliseId(id, 'nfkc-casefold-trim' satisfies PsiNormalisation)
 */
export type PsiNormalisation = 'nfkc-casefold-trim' | 'exact'
/**
 * The hashing suite; v2 = RFC 9380 hash-to-curve (crypto/psi/hash-to-curve.ts).
 * @example
 * const suite: PsiSuite = PSI_V2_LABEL
 */
export type PsiSuite = typeof PSI_V2_LABEL

/**
 * Everything the parties agree on in `open`.
 * @example
 * assertPlanShape(plan satisfies PsiPlan)
 */
export interface PsiPlan {
  sessionId: string
  jobId: string
  /** Peer ids; parties[0] is the leader. */
  parties: readonly string[]
  /** What each party (same index) learns. */
  reveal: readonly PsiReveal[]
  /** hashCanonical('cohort/psi/salt/v1', [sessionId, jobId, salt]). */
  saltCommitment: Uint8Array
  suite: PsiSuite
  normalisation: PsiNormalisation
  /** Points per batch. */
  batchPoints: number
}

/**
 * The commitment to a session's salt that `open` carries: every party recomputes it from its own
 * salt and refuses on a mismatch (COHORT_PSI_SALT_MISMATCH). Binding sessionId and jobId stops a
 * commitment from one session being replayed into another.
 *
 * @example
 * const c = psiSaltCommitment(sessionId, jobId, salt)
 */
export function psiSaltCommitment(sessionId: string, jobId: string, salt: Uint8Array): Uint8Array {
  if (!(salt instanceof Uint8Array) || salt.length !== PSI_SALT_BYTES) {
    throw new PsiPolicyError(`a PSI salt must be ${PSI_SALT_BYTES} bytes`)
  }
  return hashCanonical('cohort/psi/salt/v1', [sessionId, jobId, salt])
}

/**
 * The key-applying hops of `owner`'s chain, in order (the owner first). The set ends at the leader
 * (index 0): for owner >= 1 the leader is the last hop; for the leader's own chain the last hop is
 * the shuffler (n-1), who sends the permuted result back to the leader.
 *
 * @example
 * chainRoute(3, 0) // [0, 1, 2]
 * chainRoute(3, 2) // [2, 1, 0]
 * chainRoute(4, 2) // [2, 3, 1, 0]
 */
export function chainRoute(n: number, owner: number): number[] {
  if (owner === 0) return Array.from({ length: n }, (_, i) => i)
  const route: number[] = []
  for (let i = owner; i < n; i++) route.push(i)
  for (let i = 1; i < owner; i++) route.push(i)
  route.push(0)
  return route
}

/**
 * Where a batch of `chain` goes after party `at` applied its key: the next hop, or the leader when
 * `at` is the shuffler of the leader's chain; undefined when `at` is the final holder (the leader on
 * chains >= 1).
 *
 * @example
 * nextHop(3, 0, 2) // 0 (the shuffler sends the leader's own chain home)
 * nextHop(3, 1, 0) // undefined (the leader keeps chain 1)
 */
export function nextHop(n: number, chain: number, at: number): number | undefined {
  const route = chainRoute(n, chain)
  const i = route.indexOf(at)
  if (i < 0) return undefined
  if (i + 1 < route.length) return route[i + 1]
  return chain === 0 ? 0 : undefined
}

/**
 * The party expected to send batches of `chain` to `at`: the previous hop on the route, or the
 * shuffler for the leader's own chain arriving home.
 *
 * @example
 * previousHop(3, 1, 2) // 1
 * previousHop(3, 0, 0) // 2 (the shuffler)
 */
export function previousHop(n: number, chain: number, at: number): number | undefined {
  const route = chainRoute(n, chain)
  if (chain === 0 && at === 0) return n - 1
  const i = route.indexOf(at)
  return i > 0 ? route[i - 1] : undefined
}

/**
 * The chains that reach party `at` (as a hop or as the final holder).
 *
 * @example
 * incomingChains(3, 0) // [0, 1, 2]
 */
export function incomingChains(n: number, at: number): number[] {
  const out: number[] = []
  for (let c = 0; c < n; c++) if (previousHop(n, c, at) !== undefined) out.push(c)
  return out
}

/**
 * Structural checks of a plan (independent of who checks it).
 *
 * @throws PsiPolicyError
 * @example
 * assertPlanShape(plan)
 */
export function assertPlanShape(plan: PsiPlan): void {
  const n = plan.parties.length
  if (n < 2 || n > MAX_PSI_PARTIES)
    throw new PsiPolicyError(`a PSI session needs 2..${MAX_PSI_PARTIES} parties`)
  if (new Set(plan.parties).size !== n) throw new PsiPolicyError('a PSI plan lists a party twice')
  if (plan.reveal.length !== n) throw new PsiPolicyError('a PSI plan needs one reveal mode per party')
  if (plan.suite !== PSI_V2_LABEL) throw new PsiPolicyError(`unsupported PSI suite ${String(plan.suite)}`)
  if (plan.normalisation !== 'nfkc-casefold-trim' && plan.normalisation !== 'exact') {
    throw new PsiPolicyError(`unknown id normalisation ${String(plan.normalisation)}`)
  }
  if (
    !Number.isInteger(plan.batchPoints) ||
    plan.batchPoints < 1 ||
    plan.batchPoints > MAX_PSI_BATCH_POINTS
  ) {
    throw new PsiPolicyError(`batchPoints must be in [1, ${MAX_PSI_BATCH_POINTS}]`)
  }
}

/**
 * Normalises one id: `nfkc-casefold-trim` = Unicode NFKC, trimmed, lower-cased (so " U00042" and
 * "u00042" match); `exact` = as given.
 *
 * @example
 * normaliseId(' U00042 ', 'nfkc-casefold-trim') // 'u00042'
 */
export function normaliseId(id: string, scheme: PsiNormalisation): string {
  if (scheme === 'exact') return id
  return id.normalize('NFKC').trim().toLowerCase()
}

/**
 * Number of points in batch `seq` of a chain of `total` points (the last batch may be short).
 *
 * @example
 * batchCount(70_000, 32_768, 2) // 4464
 */
export function batchCount(total: number, batchPoints: number, seq: number): number {
  return Math.max(0, Math.min(batchPoints, total - seq * batchPoints))
}
