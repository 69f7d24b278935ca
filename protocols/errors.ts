import { CohortError } from '../crypto/cohort-error.ts'

/** A request did not complete before its deadline or abort signal. */
export class RequestTimeoutError extends CohortError {
  static override readonly name = 'RequestTimeoutError'
  constructor(message = 'the peer did not answer before the deadline') {
    super(message, 'COHORT_TIMEOUT')
  }
}

/** The peer could not be reached (not connected, dial failed, dropped by the network). */
export class PeerUnreachableError extends CohortError {
  static override readonly name = 'PeerUnreachableError'
  constructor(message: string) {
    super(message, 'COHORT_PEER_UNREACHABLE')
  }
}

/** A frame was larger than the protocol allows; it was not read into memory. */
export class MessageTooLargeError extends CohortError {
  static override readonly name = 'MessageTooLargeError'
  constructor(message: string) {
    super(message, 'COHORT_MESSAGE_TOO_LARGE')
  }
}

/** A message did not decode or did not match its schema. */
export class MalformedMessageError extends CohortError {
  static override readonly name = 'MalformedMessageError'
  constructor(message: string) {
    super(message, 'COHORT_MALFORMED_MESSAGE')
  }
}

/** The remote handler refused the request; `code` is the remote's stable error code. */
export class RemoteError extends CohortError {
  static override readonly name = 'RemoteError'
  readonly remoteCode: string
  constructor(message: string, remoteCode: string) {
    super(message, remoteCode.startsWith('COHORT_') ? remoteCode : 'COHORT_REMOTE_ERROR')
    this.remoteCode = remoteCode
  }
}

/** Nobody handles this protocol at the peer. */
export class ProtocolNotSupportedError extends CohortError {
  static override readonly name = 'ProtocolNotSupportedError'
  constructor(message: string) {
    super(message, 'COHORT_PROTOCOL_NOT_SUPPORTED')
  }
}
