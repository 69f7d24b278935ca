/** What a PSI session at one party takes and returns (node/runners/psi-session.ts). */
import type { PsiPool } from '../../crypto/psi/psi-pool.ts'
import type { PsiLocalParams } from '../../protocols/psi/party-state.ts'
import type { PsiReveal } from '../../protocols/psi/plan.ts'
import type { Transport } from '../../protocols/transport.ts'
import type { AuditLog } from '../../platform/audit/audit-log.ts'
import type { NodeStore } from '../../platform/storage/db.ts'

/**
 * A finished session as this party sees it.
 * @example
 * const { index, intersectionSize }: PsiPartyResult = await psi.lead(options)
 */
export interface PsiPartyResult {
  sessionId: string
  jobId: string
  role: 'leader' | 'shuffler' | 'party'
  learned: PsiReveal
  parties: string[]
  setSizes: number[]
  intersectionSize: number
  /** Rows of this party's dataset in the common order (only when it learns the intersection). */
  index?: Uint32Array
  dataset: string | null
}

/**
 * What the session needs from the runner.
 * @example
 * new PsiSession({ transport, pool, audit, requestTimeoutMs, ttlMs, onEnd } satisfies SessionContext, input)
 */
export interface SessionContext {
  transport: Transport
  pool: PsiPool
  audit: Pick<AuditLog, 'append'>
  store?: NodeStore
  requestTimeoutMs: number
  ttlMs: number
  onEnd: (sessionId: string) => void
}

/**
 * The party's own input: ids in dataset row order and its job settings.
 * @example
 * new PsiSession(ctx, { local, ids, dataset: 'credit_data' } satisfies SessionInput)
 */
export interface SessionInput {
  local: Omit<PsiLocalParams, 'setSize'>
  ids: readonly string[]
  dataset: string | null
}
