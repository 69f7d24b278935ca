import type { MiddlewareHandler } from 'hono'
import { PayloadTooLargeError } from '../errors.ts'

/** Options of {@link bodyLimit}. */
export interface BodyLimitOptions {
  /** Largest request body in bytes (`config.api.maxBodyBytes`). */
  maxBytes: number
}

/**
 * Caps a body stream: passes chunks through until more than `maxBytes` have gone by, then errors
 * the stream with `PayloadTooLargeError`, which reaches whoever reads it (`c.req.json()`, a CSV
 * importer) and from there the error handler (413).
 *
 * @example
 * const capped = limitStream(request.body!, 1024)
 */
export function limitStream(body: ReadableStream<Uint8Array>, maxBytes: number): ReadableStream<Uint8Array> {
  let seen = 0
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength
        if (seen > maxBytes) controller.error(new PayloadTooLargeError(maxBytes))
        else controller.enqueue(chunk)
      }
    })
  )
}

/**
 * Limits request bodies to `maxBytes` (413 `COHORT_PAYLOAD_TOO_LARGE`) without buffering them.
 * A declared `Content-Length` over the limit is refused before anything is read; otherwise the
 * body is replaced by a counting stream ({@link limitStream}), so a chunked or lying upload fails
 * as soon as it crosses the limit. Hono's own `bodyLimit` copies chunked bodies into memory to
 * count them; a dataset upload must stay a stream, hence this version.
 *
 * @example
 * app.use('/v1/*', bodyLimit({ maxBytes: home.config.api.maxBodyBytes }))
 */
export function bodyLimit(options: BodyLimitOptions): MiddlewareHandler {
  const { maxBytes } = options
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new TypeError(`bodyLimit: maxBytes must be a non-negative integer, got ${maxBytes}`)
  }
  return async function bodyLimit(c, next) {
    const raw = c.req.raw
    if (raw.body === null) return next()
    const declared = raw.headers.get('content-length')
    if (declared !== null && Number(declared) > maxBytes) throw new PayloadTooLargeError(maxBytes)
    c.req.raw = new Request(raw, { body: limitStream(raw.body, maxBytes), duplex: 'half' } as RequestInit)
    await next()
  }
}
