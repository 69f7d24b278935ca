import { CohortError } from '../../crypto/cohort-error.ts'

/**
 * Errors the admin API raises itself. Each maps to an HTTP status through the single table in
 * `middleware/error-handler.ts`; clients match on `code`, never on the message.
 */

/** The request has no bearer token, or the token's SHA-256 does not match the node config. */
export class UnauthorizedError extends CohortError {
  static override readonly name = 'UnauthorizedError'
  constructor(message = 'a valid admin bearer token is required (Authorization: Bearer <token>)') {
    super(message, 'COHORT_UNAUTHORIZED')
  }
}

/** The request body is larger than `config.api.maxBodyBytes`. */
export class PayloadTooLargeError extends CohortError {
  static override readonly name = 'PayloadTooLargeError'
  readonly maxBytes: number
  constructor(maxBytes: number) {
    super(
      `the request body is larger than this node accepts (${maxBytes} bytes); raise api.maxBodyBytes in node.json if it must be bigger`,
      'COHORT_PAYLOAD_TOO_LARGE'
    )
    this.maxBytes = maxBytes
  }
}

/** The request's query, parameters or JSON body do not match the route's schema. */
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

/** No route matches the method and path. */
export class RouteNotFoundError extends CohortError {
  static override readonly name = 'RouteNotFoundError'
  constructor(method: string, path: string) {
    super(`no admin API route ${method} ${path}; see docs/admin-api.md`, 'COHORT_NOT_FOUND')
  }
}

/** The peer id is not a member of the federation manifest. */
export class PeerNotFoundError extends CohortError {
  static override readonly name = 'PeerNotFoundError'
  constructor(peerId: string) {
    super(`${peerId} is not a member of this node's federation manifest`, 'COHORT_PEER_NOT_FOUND')
  }
}

/** A member could not be reached (dial or ping failed or timed out). */
export class PeerUnreachableError extends CohortError {
  static override readonly name = 'PeerUnreachableError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'COHORT_PEER_UNREACHABLE', options)
  }
}

/** The route needs the libp2p host, but the API serves a node directory that is not running. */
export class NodeNotRunningError extends CohortError {
  static override readonly name = 'NodeNotRunningError'
  constructor(what: string) {
    super(`${what} needs a running node; start it with "cohort node start"`, 'COHORT_NODE_NOT_RUNNING')
  }
}

/** `serveAdminApi` was asked to listen on a non-loopback address without `allowRemote`. */
export class RemoteBindRefusedError extends CohortError {
  static override readonly name = 'RemoteBindRefusedError'
  constructor(host: string) {
    super(
      `refusing to serve the admin API on ${host}: it is not a loopback address and the API controls the node; ` +
        'keep the default 127.0.0.1 (reach it through an SSH tunnel or a TLS proxy) or pass allowRemote ' +
        '(--allow-remote) to expose it on purpose',
      'COHORT_API_REMOTE_REFUSED'
    )
  }
}

/** The admin API could not listen (address in use, permission denied, unknown host). */
export class ApiListenError extends CohortError {
  static override readonly name = 'ApiListenError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'COHORT_API_LISTEN', options)
  }
}
