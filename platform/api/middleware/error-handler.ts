import { randomUUID } from 'node:crypto'
import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { isCohortError } from '../../../crypto/cohort-error.ts'
import { RouteNotFoundError } from '../errors.ts'

/** The body of every error response: `{ error: { code, message, details? } }`. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown }
}

/**
 * The one table from error code to HTTP status. Codes not listed fall back on their suffix
 * (`_INVALID` 400, `_NOT_FOUND` 404, `_EXISTS` 409), then to 500. Entries here win over the suffix
 * rule: a corrupt audit log (`COHORT_AUDIT_INVALID`) is the node's problem, not a bad request.
 */
export const STATUS_BY_CODE: Readonly<Record<string, ContentfulStatusCode>> = {
  COHORT_REQUEST_INVALID: 400,
  COHORT_CONFIG_INVALID: 400,
  COHORT_DATASET_INVALID: 400,
  COHORT_DATASET_SPEC_INVALID: 400,
  COHORT_DATASET_NAME_INVALID: 400,
  COHORT_UNAUTHORIZED: 401,
  COHORT_NOT_FOUND: 404,
  COHORT_PEER_NOT_FOUND: 404,
  COHORT_DATASET_NOT_FOUND: 404,
  COHORT_DATASET_EXISTS: 409,
  COHORT_DATASET_BUSY: 409,
  COHORT_PAYLOAD_TOO_LARGE: 413,
  COHORT_UNSUPPORTED_MEDIA_TYPE: 415,
  COHORT_AUDIT_INVALID: 500,
  COHORT_DATASET_STORAGE: 500,
  COHORT_PEER_UNREACHABLE: 502,
  COHORT_NODE_NOT_RUNNING: 503
}

/** Code for an unexpected error; its message never carries the error's own text. */
export const INTERNAL_CODE = 'COHORT_INTERNAL'

/**
 * HTTP status for a `COHORT_*` code; `extra` (an API's own codes) wins over the shared table.
 *
 * @example
 * statusForCode('COHORT_DATASET_EXISTS') // 409
 * statusForCode('COHORT_SOMETHING_INVALID') // 400 (suffix rule)
 */
export function statusForCode(
  code: string,
  extra: Readonly<Record<string, ContentfulStatusCode>> = {}
): ContentfulStatusCode {
  const listed = extra[code] ?? STATUS_BY_CODE[code]
  if (listed !== undefined) return listed
  if (code.endsWith('_INVALID')) return 400
  if (code.endsWith('_NOT_FOUND')) return 404
  if (code.endsWith('_EXISTS')) return 409
  return 500
}

const CODE_BY_HTTP_STATUS: Readonly<Record<number, string>> = {
  400: 'COHORT_REQUEST_INVALID',
  401: 'COHORT_UNAUTHORIZED',
  404: 'COHORT_NOT_FOUND',
  413: 'COHORT_PAYLOAD_TOO_LARGE',
  415: 'COHORT_UNSUPPORTED_MEDIA_TYPE'
}

function respond(c: Context, status: ContentfulStatusCode, body: ApiErrorBody, realm: string): Response {
  if (status === 401) c.header('WWW-Authenticate', `Bearer realm="${realm}"`)
  return c.json(body, status)
}

/** Extra structured data an error carries for the client, e.g. a dataset validation report. */
function detailsOf(err: object): unknown {
  const e = err as { details?: unknown; report?: unknown }
  return e.details ?? e.report
}

/** Options of {@link errorHandler}. */
export interface ErrorHandlerOptions {
  /** Receives one line (with the stack) per 5xx. */
  log: (line: string) => void
  /**
   * Who serves the API, named in log lines and in the 500 message ("the node's log").
   * @default 'node'
   */
  role?: string
  /**
   * The `WWW-Authenticate` realm of 401 answers.
   * @default 'cohort-node-admin'
   */
  realm?: string
  /**
   * The API's own codes and statuses, consulted before {@link STATUS_BY_CODE}.
   * @default {}
   */
  statusByCode?: Readonly<Record<string, ContentfulStatusCode>>
}

/**
 * The app's `onError`: handlers throw, this formats. CohortErrors keep their code and message (both
 * are written for the caller) with the status from {@link STATUS_BY_CODE}; a hono `HTTPException`
 * gets a code from its status; anything else is a logged 500 whose message only gives a reference
 * to the log line, so internals (paths, library messages) do not leak.
 *
 * @example
 * app.onError(errorHandler({ log: (l) => process.stderr.write(`${l}\n`) }))
 */
export function errorHandler(options: ErrorHandlerOptions): ErrorHandler {
  const { log } = options
  const role = options.role ?? 'node'
  const realm = options.realm ?? 'cohort-node-admin'
  const extra = options.statusByCode ?? {}
  return function errorHandler(err, c) {
    if (isCohortError(err)) {
      const status = statusForCode(err.code, extra)
      if (status >= 500) log(`${role} api: ${c.req.method} ${c.req.path} failed: ${err.stack ?? err.message}`)
      const details = detailsOf(err)
      const body: ApiErrorBody = { error: { code: err.code, message: err.message } }
      if (details !== undefined) body.error.details = details
      return respond(c, status, body, realm)
    }
    if (err instanceof HTTPException && err.status < 500) {
      const status = err.status as ContentfulStatusCode
      const code = CODE_BY_HTTP_STATUS[status] ?? `COHORT_HTTP_${status}`
      return respond(
        c,
        status,
        { error: { code, message: err.message || `request failed with HTTP ${status}` } },
        realm
      )
    }
    const ref = randomUUID()
    log(
      `${role} api: ${c.req.method} ${c.req.path} failed unexpectedly (ref ${ref}): ${err.stack ?? String(err)}`
    )
    return respond(
      c,
      500,
      {
        error: {
          code: INTERNAL_CODE,
          message: `internal error (ref ${ref}); the ${role}'s log has the details`
        }
      },
      realm
    )
  }
}

/** Options of {@link notFoundHandler}. */
export interface NotFoundHandlerOptions {
  /**
   * The docs page that lists the routes, named in the message.
   * @default 'docs/admin-api.md'
   */
  docs?: string
}

/**
 * The app's `notFound`: the same error shape as every other failure.
 *
 * @example
 * app.notFound(notFoundHandler({ docs: 'docs/coordinator.md' }))
 */
export function notFoundHandler(options: NotFoundHandlerOptions = {}): NotFoundHandler {
  return function notFoundHandler(c) {
    const err = new RouteNotFoundError(c.req.method, c.req.path, options.docs)
    return c.json({ error: { code: err.code, message: err.message } } satisfies ApiErrorBody, 404)
  }
}
