import { CohortError } from '../../crypto/cohort-error.ts'

/**
 * Errors an HTTP API raises itself (the node's admin API and the coordinator's API share them).
 * Each maps to an HTTP status through the single table in `middleware/error-handler.ts`; clients
 * match on `code`, never on the message.
 */

/** The request has no bearer token, or the token's SHA-256 does not match the config. */
export class UnauthorizedError extends CohortError {
  static override readonly name = 'UnauthorizedError'
  constructor(message = 'a valid bearer token is required (Authorization: Bearer <token>)') {
    super(message, 'COHORT_UNAUTHORIZED')
  }
}

/** The request body is larger than `api.maxBodyBytes`. */
export class PayloadTooLargeError extends CohortError {
  static override readonly name = 'PayloadTooLargeError'
  readonly maxBytes: number
  constructor(maxBytes: number) {
    super(
      `the request body is larger than this server accepts (${maxBytes} bytes); raise api.maxBodyBytes in its config file if it must be bigger`,
      'COHORT_PAYLOAD_TOO_LARGE'
    )
    this.maxBytes = maxBytes
  }
}

/** The request's query, parameters or body do not match the route's schema. */
export class RequestInvalidError extends CohortError {
  static override readonly name = 'RequestInvalidError'
  readonly details: unknown
  constructor(message: string, details?: unknown) {
    super(message, 'COHORT_REQUEST_INVALID')
    this.details = details
  }
}

/** The request body has a media type the route does not take. */
export class UnsupportedMediaTypeError extends CohortError {
  static override readonly name = 'UnsupportedMediaTypeError'
  constructor(message: string) {
    super(message, 'COHORT_UNSUPPORTED_MEDIA_TYPE')
  }
}

/** No route matches the method and path; `docs` names the page that lists the routes. */
export class RouteNotFoundError extends CohortError {
  static override readonly name = 'RouteNotFoundError'
  constructor(method: string, path: string, docs = 'docs/admin-api.md') {
    super(`no API route ${method} ${path}; see ${docs}`, 'COHORT_NOT_FOUND')
  }
}

/** `serveApi` was asked to listen on a non-loopback address without `allowRemote`. */
export class RemoteBindRefusedError extends CohortError {
  static override readonly name = 'RemoteBindRefusedError'
  constructor(host: string) {
    super(
      `refusing to serve the API on ${host}: it is not a loopback address and the API controls this process; ` +
        'keep the default 127.0.0.1 (reach it through an SSH tunnel or a TLS proxy) or pass allowRemote ' +
        '(--allow-remote) to expose it on purpose',
      'COHORT_API_REMOTE_REFUSED'
    )
  }
}

/** The API could not listen (address in use, permission denied, unknown host). */
export class ApiListenError extends CohortError {
  static override readonly name = 'ApiListenError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'COHORT_API_LISTEN', options)
  }
}
