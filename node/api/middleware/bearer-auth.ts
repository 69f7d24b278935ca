import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { UnauthorizedError } from '../errors.ts'

/** Options of {@link bearerAuth}. */
export interface BearerAuthOptions {
  /** Hex SHA-256 of the one admin token (`config.api.tokenSha256`); the token itself is never stored. */
  tokenSha256: string
}

const BEARER = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i

/**
 * Requires `Authorization: Bearer <token>` whose SHA-256 equals the configured hash. Both sides are
 * 32-byte digests, compared with `timingSafeEqual`, so the comparison time says nothing about how
 * much of the token was right (and hashing first makes the lengths equal whatever was sent).
 * Fails with `UnauthorizedError` (`COHORT_UNAUTHORIZED`, 401).
 *
 * @example
 * app.use('/v1/*', bearerAuth({ tokenSha256: home.config.api.tokenSha256 }))
 */
export function bearerAuth(options: BearerAuthOptions): MiddlewareHandler {
  if (!/^[0-9a-f]{64}$/.test(options.tokenSha256)) {
    throw new TypeError('bearerAuth: tokenSha256 must be 64 lowercase hex characters')
  }
  const expected = Buffer.from(options.tokenSha256, 'hex')
  return async function bearerAuth(c, next) {
    const header = c.req.header('Authorization')
    if (header === undefined) throw new UnauthorizedError()
    const match = BEARER.exec(header)
    if (match === null) throw new UnauthorizedError('the Authorization header must be "Bearer <token>"')
    const presented = createHash('sha256').update(match[1]).digest()
    if (!timingSafeEqual(presented, expected))
      throw new UnauthorizedError('the admin bearer token is not valid')
    await next()
  }
}
