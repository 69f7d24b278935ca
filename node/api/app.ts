import { Hono } from 'hono'
import { ADMIN_ACTOR } from './context.ts'
import type { AdminContext } from './context.ts'
import { auditWrites } from '../../platform/api/middleware/audit-writes.ts'
import { bearerAuth } from '../../platform/api/middleware/bearer-auth.ts'
import { bodyLimit } from '../../platform/api/middleware/body-limit.ts'
import { errorHandler, notFoundHandler } from '../../platform/api/middleware/error-handler.ts'
import { auditRoutes } from './routes/audit.ts'
import { datasetsRoutes } from './routes/datasets.ts'
import { budgetRoutes } from './routes/budget.ts'
import { identityRoutes } from './routes/identity.ts'
import { peersRoutes } from './routes/peers.ts'
import { policyRoutes } from './routes/policy.ts'

const stderrLog = (line: string): void => {
  process.stderr.write(`${line}\n`)
}

/**
 * The node's admin API (docs/admin-api.md). `GET /health` is open; everything under `/v1` needs
 * the admin bearer token, bodies are capped at `config.api.maxBodyBytes`, and every successful
 * write is audit-logged as `api-write` by `admin-api`. Errors are `{ error: { code, message,
 * details? } }` with statuses from one table (`platform/api/middleware/error-handler.ts`).
 *
 * The app only serves requests; `serveAdminApi` (server.ts) binds it to a socket, and tests call
 * `app.request(...)` directly.
 *
 * @example
 * const home = await openNodeHome(dir)
 * const app = createAdminApp({ home })
 * const res = await app.request('/v1/policy', { headers: { Authorization: `Bearer ${token}` } })
 */
export function createAdminApp(ctx: AdminContext): Hono {
  const { home } = ctx
  const app = new Hono()
  app.onError(errorHandler({ log: ctx.log ?? stderrLog }))
  app.notFound(notFoundHandler())

  app.get('/health', (c) => c.json({ ok: true, peerId: home.identity.peerId, name: home.config.name }))

  app.use('/v1/*', bearerAuth({ tokenSha256: home.config.api.tokenSha256 }))
  app.use('/v1/*', bodyLimit({ maxBytes: home.config.api.maxBodyBytes }))
  app.use('/v1/*', auditWrites({ audit: home.audit, actor: ADMIN_ACTOR }))

  app.route('/v1/identity', identityRoutes(ctx))
  app.route('/v1/peers', peersRoutes(ctx))
  app.route('/v1/datasets', datasetsRoutes(ctx))
  app.route('/v1/policy', policyRoutes(ctx))
  app.route('/v1/audit', auditRoutes(ctx))
  app.route('/v1/budget', budgetRoutes(ctx))
  return app
}
