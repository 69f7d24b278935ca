import type { Hono } from 'hono'
import { auditRoutes as sharedAuditRoutes } from '../../../platform/api/routes/audit.ts'
import type { AdminContext } from '../context.ts'

export { MAX_AUDIT_PAGE } from '../../../platform/api/routes/audit.ts'
export type { AuditEntryView } from '../../../platform/api/routes/audit.ts'

/**
 * The node's audit routes: the shared ones (`platform/api/routes/audit.ts`) over the node's log.
 * `GET /?from=&limit=` a page, `GET /verify`, `GET /export`.
 *
 * @example
 * app.route('/v1/audit', auditRoutes(ctx))
 */
export function auditRoutes(ctx: AdminContext): Hono {
  const { home } = ctx
  return sharedAuditRoutes({ audit: home.audit, store: home.store, identity: home.identity })
}
