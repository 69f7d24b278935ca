import { Hono } from 'hono'
import { auditWrites } from '../../platform/api/middleware/audit-writes.ts'
import { bearerAuth } from '../../platform/api/middleware/bearer-auth.ts'
import { bodyLimit } from '../../platform/api/middleware/body-limit.ts'
import { errorHandler, notFoundHandler } from '../../platform/api/middleware/error-handler.ts'
import { auditRoutes } from '../../platform/api/routes/audit.ts'
import { CoordinatorNotRunningError } from '../errors.ts'
import { API_ACTOR } from './context.ts'
import type { CoordinatorApiContext } from './context.ts'
import { jobsRoutes } from './routes/jobs.ts'
import { modelsRoutes } from './routes/models.ts'

const stderrLog = (line: string): void => {
  process.stderr.write(`${line}\n`)
}

/** The coordinator's own codes and statuses (the shared table covers the rest). */
export const COORDINATOR_STATUS_BY_CODE = {
  COHORT_JOB_FINISHED: 409,
  COHORT_ROUND_EXISTS: 409,
  COHORT_COORDINATOR_NOT_RUNNING: 503
} as const

/**
 * The coordinator's API (docs/coordinator.md): jobs, rounds, models, status and the audit log.
 * `GET /health` is open; everything under `/v1` needs the bearer token (the one printed by
 * `cohort coordinator init`, or the local session token in `api.json`), bodies are capped at
 * `config.api.maxBodyBytes`, and every successful write is audit-logged as `api-write` by
 * `coordinator-api`. Errors are `{ error: { code, message, details? } }`, as on the node.
 *
 * @example
 * const app = createCoordinatorApp({ home: c.home, jobs: c.jobs, status: () => c.status() })
 * const res = await app.request('/v1/jobs', { headers: { Authorization: `Bearer ${token}` } })
 */
export function createCoordinatorApp(ctx: CoordinatorApiContext): Hono {
  const { home } = ctx
  const app = new Hono()
  app.onError(
    errorHandler({
      log: ctx.log ?? stderrLog,
      role: 'coordinator',
      realm: 'cohort-coordinator',
      statusByCode: COORDINATOR_STATUS_BY_CODE
    })
  )
  app.notFound(notFoundHandler({ docs: 'docs/coordinator.md' }))

  app.get('/health', (c) =>
    c.json({ ok: true, role: 'coordinator', peerId: home.identity.peerId, name: home.config.name })
  )

  const hashes = [home.config.api.tokenSha256]
  if (ctx.sessionTokenSha256 !== undefined) hashes.push(ctx.sessionTokenSha256)
  app.use('/v1/*', bearerAuth({ tokenSha256: hashes }))
  app.use('/v1/*', bodyLimit({ maxBytes: home.config.api.maxBodyBytes }))
  app.use('/v1/*', auditWrites({ audit: home.audit, actor: API_ACTOR }))

  app.get('/v1/status', (c) => {
    if (ctx.status === undefined) throw new CoordinatorNotRunningError('the fleet status')
    return c.json(ctx.status())
  })
  app.route('/v1/jobs', jobsRoutes(ctx))
  app.route('/v1/models', modelsRoutes(ctx))
  app.route('/v1/audit', auditRoutes({ audit: home.audit, store: home.store, identity: home.identity }))
  return app
}
