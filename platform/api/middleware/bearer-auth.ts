import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { UnauthorizedError } from '../errors.ts'

/** Options of {@link bearerAuth}. */
export interface BearerAuthOptions {
  /**
   * Hex SHA-256 of the accepted token (`config.api.tokenSha256`; the token itself is never stored),
   * or several (e.g. the admin token and a per-start local session token).
   */
  tokenSha256: string | readonly string[]
}

const BEARER = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i

/**
 * Requires `Authorization: Bearer <token>` whose SHA-256 equals a configured hash. Both sides are
 * 32-byte digests, compared with `timingSafeEqual`, so the comparison time says nothing about how
 * much of the token was right (and hashing first makes the lengths equal whatever was sent).
 * Fails with `UnauthorizedError` (`COHORT_UNAUTHORIZED`, 401).
 *
 * @example
 * app.use('/v1/*', bearerAuth({ tokenSha256: home.config.api.tokenSha256 }))
 */
export function bearerAuth(options: BearerAuthOptions): MiddlewareHandler {
  const hashes = typeof options.tokenSha256 === 'string' ? [options.tokenSha256] : options.tokenSha256
  if (hashes.length === 0 || !hashes.every((h) => /^[0-9a-f]{64}$/.test(h))) {
    throw new TypeError('bearerAuth: tokenSha256 must be 64 lowercase hex characters')
  }
  const expected = hashes.map((h) => Buffer.from(h, 'hex'))
  return async function bearerAuth(c, next) {
    const header = c.req.header('Authorization')
    if (header === undefined) throw new UnauthorizedError()
    const match = BEARER.exec(header)
    if (match === null) throw new UnauthorizedError('the Authorization header must be "Bearer <token>"')
    const presented = createHash('sha256').update(match[1]).digest()
    // Compare against every accepted digest (no early exit), so timing does not say which matched.
    let ok = false
    for (const e of expected) ok = timingSafeEqual(presented, e) || ok
    if (!ok) throw new UnauthorizedError('the bearer token is not valid')
    await next()
  }
}
