import { Packr } from 'msgpackr'
import type { z } from 'zod'
import { MalformedMessageError, MessageTooLargeError } from '../errors.ts'

// The codecs' options: no records or extensions, so a peer can only send plain msgpack values.
const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true, bundleStrings: false })

/**
 * Decodes one msgpack frame and validates it with `schema`, refusing frames over `maxBytes` before
 * unpacking. Errors name `what` and the first schema issue's path.
 *
 * @throws MessageTooLargeError, MalformedMessageError
 * @example
 * const req = decodeFrame(body, PsiRequestSchema, { maxBytes: MAX_PSI_FRAME_BYTES, what: 'PSI request' })
 */
export function decodeFrame<S extends z.ZodType>(
  bytes: Uint8Array,
  schema: S,
  opts: { maxBytes: number; what: string }
): z.infer<S> {
  const { maxBytes, what } = opts
  if (!(bytes instanceof Uint8Array)) throw new MalformedMessageError(`${what} must be bytes`)
  if (bytes.length > maxBytes) {
    throw new MessageTooLargeError(`${what} of ${bytes.length} bytes exceeds the ${maxBytes}-byte limit`)
  }
  let raw: unknown
  try {
    raw = packr.unpack(bytes)
  } catch {
    throw new MalformedMessageError(`${what} does not decode as msgpack`)
  }
  const parsed = schema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue?.path.length ? issue.path.join('.') : 'message'
    throw new MalformedMessageError(
      `${what} does not match its schema at ${where}: ${issue?.message ?? 'invalid'}`
    )
  }
  return parsed.data
}
