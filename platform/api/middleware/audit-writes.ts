import type { MiddlewareHandler } from 'hono'
import type { AuditLog } from '../../audit/audit-log.ts'

/** Options of {@link auditWrites}. */
export interface AuditWritesOptions {
  audit: AuditLog
  /** Recorded as the entries' actor. */
  actor: string
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * After every successful (2xx) write request, appends an `api-write` entry `{ method, path }` to
 * the audit log. This is in addition to the domain entry the route writes itself (e.g.
 * `policy-changed`), so the log also shows that the change came through the admin API. Failed
 * requests change nothing and are not logged here. If the entry cannot be written the request
 * fails: a write must not go unrecorded silently.
 *
 * @example
 * app.use('/v1/*', auditWrites({ audit: home.audit, actor: 'admin-api' }))
 */
export function auditWrites(options: AuditWritesOptions): MiddlewareHandler {
  const { audit, actor } = options
  return async function auditWrites(c, next) {
    await next()
    if (!WRITE_METHODS.has(c.req.method) || c.res.status < 200 || c.res.status > 299 || c.error !== undefined)
      return
    await audit.append('api-write', { method: c.req.method, path: c.req.path }, { actor })
  }
}
