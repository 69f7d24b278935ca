import { CohortError } from '../../crypto/cohort-error.ts'

/**
 * Errors the admin API raises itself. Each maps to an HTTP status through the single table in
 * `platform/api/middleware/error-handler.ts`; clients match on `code`, never on the message. The
 * errors every Cohort API shares live in `platform/api/errors.ts` and are re-exported here.
 */
export {
  ApiListenError,
  PayloadTooLargeError,
  RemoteBindRefusedError,
  RequestInvalidError,
  RouteNotFoundError,
  UnauthorizedError,
  UnsupportedMediaTypeError
} from '../../platform/api/errors.ts'

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
