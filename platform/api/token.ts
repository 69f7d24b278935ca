import { createHash, randomBytes } from 'node:crypto'

/**
 * A new bearer token: 32 random bytes, base64url (43 characters).
 *
 * @example
 * const token = newToken() // shown once; store only hashToken(token)
 */
export function newToken(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * Hex SHA-256 of a bearer token, as configs store it and `bearerAuth` checks it.
 *
 * @example
 * hashToken('abc') // 'ba7816bf...'
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}
