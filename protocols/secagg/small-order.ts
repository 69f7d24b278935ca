/**
 * Is an X25519 public key one of the small-order points, the keys whose agreement is all zero
 * whatever the secret (RFC 7748 §6.1)? The aggregator refuses such keys in advertised bundles before
 * relaying them. Equivalent to running an agreement against a throwaway key and checking for zero
 * (X25519 clamps scalars to multiples of the cofactor 8), without the two Diffie-Hellman operations
 * per bundle: X25519 ignores bit 255 and reduces u mod p, and the u of every point of order 1, 2, 4
 * or 8 on Curve25519 or its twist is one of 0, 1, p − 1 and the two order-8 coordinates below (the
 * same set as libsodium's blocklist, tests/vectors/rfc7748-x25519.json).
 */
const P = 2n ** 255n - 19n
const SMALL_ORDER = new Set([
  0n,
  1n,
  P - 1n,
  // The two points of order 8.
  0x00b8495f16056286fdb1329ceb8d09da6ac49ff1fae35616aeb8413b7c7aebe0n,
  0x57119fd0dd4e22d8868e1c58c45c44045bef839c55b1d0b1248c50a3bc959c5fn
])

/**
 * True when `publicKey` (32 bytes, little-endian u) is a small-order X25519 point in any encoding.
 *
 * @example
 * isSmallOrderX25519(new Uint8Array(32)) // true
 */
export function isSmallOrderX25519(publicKey: Uint8Array): boolean {
  let u = 0n
  for (let i = 31; i >= 0; i--) u = (u << 8n) | BigInt(i === 31 ? publicKey[i]! & 0x7f : publicKey[i]!)
  if (u >= P) u -= P
  return SMALL_ORDER.has(u)
}
