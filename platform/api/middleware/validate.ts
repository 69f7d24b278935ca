import type { Env, MiddlewareHandler } from 'hono'
import type { z } from 'zod'
import { describeIssues } from '../../../configs/load.ts'
import { isCohortError } from '../../../crypto/cohort-error.ts'
import { RequestInvalidError, UnsupportedMediaTypeError } from '../errors.ts'

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i

/** One zod issue as the API reports it in `error.details.issues`. */
export interface RequestIssue {
  path: string
  message: string
}

function check<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value)
  if (r.success) return r.data
  const issues: RequestIssue[] = r.error.issues.map((i) => ({
    path: i.path.map(String).join('.'),
    message: i.message
  }))
  throw new RequestInvalidError(`${what} is invalid: ${describeIssues(r.error)}`, { issues })
}

/**
 * Validates a JSON body with a zod schema; the handler reads the parsed value with
 * `c.req.valid('json')`. Unlike hono's `validator('json')` it refuses a body of another media type
 * (415) instead of validating `{}`, keeps a `COHORT_*` error from the body stream (e.g. 413) rather
 * than calling it malformed JSON, and reports zod issues in `error.details.issues` (400).
 *
 * @example
 * app.put('/', jsonBody(NodePolicy), (c) => c.json(c.req.valid('json')))
 */
export function jsonBody<S extends z.ZodType>(
  schema: S
): MiddlewareHandler<Env, string, { in: { json: z.input<S> }; out: { json: z.output<S> } }> {
  return async function jsonBody(c, next) {
    const media = (c.req.header('Content-Type') ?? '').split(';')[0]!.trim()
    if (!JSON_MEDIA_TYPE.test(media)) {
      throw new UnsupportedMediaTypeError(
        `this route takes a JSON body (Content-Type: application/json), not ${media === '' ? 'no Content-Type' : media}`
      )
    }
    let value: unknown
    try {
      value = await c.req.json()
    } catch (err) {
      if (isCohortError(err)) throw err
      throw new RequestInvalidError('the request body is not valid JSON')
    }
    c.req.addValidatedData('json', check(schema, value, 'the request body') as object)
    await next()
  }
}

/**
 * Validates the query string (one value per key) with a zod schema, for `c.req.valid('query')`.
 * Query values are strings: use `z.coerce` or `z.enum` in the schema.
 *
 * @example
 * app.get('/', queryParams(z.object({ limit: z.coerce.number().int().default(100) })), (c) => ...)
 */
export function queryParams<S extends z.ZodType>(
  schema: S
): MiddlewareHandler<Env, string, { in: { query: Record<string, string> }; out: { query: z.output<S> } }> {
  return async function queryParams(c, next) {
    c.req.addValidatedData('query', check(schema, c.req.query(), 'the query string') as object)
    await next()
  }
}

/**
 * Validates path parameters with a zod schema, for `c.req.valid('param')`.
 *
 * @example
 * app.post('/:peerId/ping', pathParams(z.object({ peerId: PeerIdString })), (c) => ...)
 */
export function pathParams<S extends z.ZodType>(
  schema: S
): MiddlewareHandler<Env, string, { in: { param: Record<string, string> }; out: { param: z.output<S> } }> {
  return async function pathParams(c, next) {
    c.req.addValidatedData('param', check(schema, c.req.param(), 'the path') as object)
    await next()
  }
}
