import { Packr } from 'msgpackr'
import { isCohortError } from '../../crypto/cohort-error.ts'
import { MalformedMessageError, RemoteError } from '../errors.ts'

/**
 * A reply frame: status byte 0 followed by the handler's bytes, or status 1 followed by msgpack
 * [code, message] of the refusal. Errors travel as data so a peer never learns our stack traces.
 */
const packr = new Packr({ useRecords: false })
const OK = 0
const ERR = 1

export function okReply(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 1)
  out[0] = OK
  out.set(body, 1)
  return out
}

export function errorReply(err: unknown): Uint8Array {
  const code = isCohortError(err) ? err.code : 'COHORT_INTERNAL'
  const message = isCohortError(err) ? err.message : 'the peer failed to handle the request'
  const body = packr.pack([code, message])
  const out = new Uint8Array(body.length + 1)
  out[0] = ERR
  out.set(body, 1)
  return out
}

/** Returns the body of an OK reply or throws the remote's error as a RemoteError. */
export function openReply(frame: Uint8Array): Uint8Array {
  if (frame.length === 0) throw new MalformedMessageError('empty reply frame')
  // A plain view, not a Buffer subclass, so callers see the same type on every transport.
  if (frame[0] === OK) return new Uint8Array(frame.buffer, frame.byteOffset + 1, frame.byteLength - 1)
  if (frame[0] !== ERR) throw new MalformedMessageError('reply frame has an unknown status byte')
  let decoded: unknown
  try {
    decoded = packr.unpack(frame.subarray(1))
  } catch {
    throw new MalformedMessageError('error reply does not decode')
  }
  if (!Array.isArray(decoded) || typeof decoded[0] !== 'string' || typeof decoded[1] !== 'string') {
    throw new MalformedMessageError('error reply has the wrong shape')
  }
  throw new RemoteError(decoded[1].slice(0, 500), decoded[0].slice(0, 64))
}
