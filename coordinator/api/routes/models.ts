import { Hono } from 'hono'
import { z } from 'zod'
import { pathParams, queryParams } from '../../../platform/api/middleware/validate.ts'
import { ModelNotFoundError } from '../../errors.ts'
import { JOB_ID_PATTERN } from '../../store/job-store.ts'
import type { CoordinatorApiContext } from '../context.ts'

const ListQuery = z.object({ job: z.string().regex(JOB_ID_PATTERN, 'not a job id').optional() })
const ModelParam = z.object({ jobId: z.string().regex(JOB_ID_PATTERN, 'not a job id') })
const VersionQuery = z.object({ version: z.coerce.number().int().min(1).optional() })

/**
 * `GET /?job=` model summaries (no parameters), newest first; `GET /:jobId?version=` one model
 * with its parameters (the latest version unless `version` is given).
 *
 * @example
 * app.route('/v1/models', modelsRoutes(ctx))
 */
export function modelsRoutes(ctx: CoordinatorApiContext): Hono {
  const { store } = ctx.jobs
  return new Hono()
    .get('/', queryParams(ListQuery), async (c) => {
      const { job } = c.req.valid('query')
      return c.json({ models: await store.listModels(job === undefined ? {} : { jobId: job }) })
    })
    .get('/:jobId', pathParams(ModelParam), queryParams(VersionQuery), async (c) => {
      const { jobId } = c.req.valid('param')
      const { version } = c.req.valid('query')
      const model = await store.getModel(jobId, version)
      if (model === undefined) throw new ModelNotFoundError(jobId, version)
      return c.json({ model })
    })
}
