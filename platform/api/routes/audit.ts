import { Hono } from 'hono'
import { z } from 'zod'
import type { AuditLog, AuditSigner } from '../../audit/audit-log.ts'
import { exportAudit } from '../../audit/export.ts'
import type { NodeStore } from '../../storage/db.ts'
import { queryParams } from '../middleware/validate.ts'

/** Largest page of `GET /v1/audit`. */
export const MAX_AUDIT_PAGE = 1000

const AuditQuery = z.object({
  /** First seq to return. */
  from: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(MAX_AUDIT_PAGE).default(100)
})

/** One entry of `GET /v1/audit`, body decoded. */
export interface AuditEntryView {
  seq: number
  ts: number
  /** `ts` as an ISO 8601 string, for people. */
  time: string
  kind: string
  actor: string
  round: number | null
  body: unknown
  prev: string
  hash: string
}

/** What the audit routes read: the log, its store (for exports) and the key that signs its head. */
export interface AuditRoutesContext {
  audit: AuditLog
  store: NodeStore
  identity: AuditSigner
}

/**
 * `GET /?from=&limit=` a page of decoded entries and the `next` seq to ask for (null at the end);
 * `GET /verify` checks hashes, links and the signed head; `GET /export` downloads the signed,
 * self-contained export that `cohort audit verify --export` checks offline. Shared by the node's
 * admin API and the coordinator's API.
 *
 * @example
 * app.route('/v1/audit', auditRoutes({ audit: home.audit, store: home.store, identity: home.identity }))
 */
export function auditRoutes(ctx: AuditRoutesContext): Hono {
  const { audit, store, identity } = ctx
  return new Hono()
    .get('/', queryParams(AuditQuery), async (c) => {
      const { from, limit } = c.req.valid('query')
      // One more than asked tells whether there is a next page without a second read.
      const read = await audit.read({ gte: from, limit: limit + 1 })
      const page = read.slice(0, limit)
      const entries: AuditEntryView[] = page.map((e) => ({
        seq: e.seq,
        ts: e.ts,
        time: new Date(e.ts).toISOString(),
        kind: e.kind,
        actor: e.actor,
        round: e.round,
        body: e.body,
        prev: e.prev,
        hash: e.hash
      }))
      const next = read.length > limit ? page[page.length - 1]!.seq + 1 : null
      return c.json({ entries, next })
    })
    .get('/verify', async (c) => c.json(await audit.verify()))
    .get('/export', async (c) => {
      const text = await exportAudit(store, identity)
      const stamp = new Date().toISOString().replace(/[:.]/g, '-')
      c.header('Content-Type', 'application/json; charset=utf-8')
      c.header('Content-Disposition', `attachment; filename="cohort-audit-${identity.peerId}-${stamp}.json"`)
      return c.body(text)
    })
}
