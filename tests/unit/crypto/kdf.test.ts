import { createHmac } from 'node:crypto'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { describe, expect, it } from 'vitest'
import { aLabel, deriveKey, domainLabel, hkdfSha256 } from '../../../crypto/kdf.ts'
import { hex, hkdfVectors, toHex } from '../../vectors/load.ts'

describe('hkdfSha256 (RFC 5869 Appendix A)', () => {
  for (const c of hkdfVectors().cases) {
    it(`${c.name}: OKM matches`, () => {
      expect(toHex(hkdfSha256(hex(c.ikm), hex(c.salt), hex(c.info), c.length))).toBe(c.okm)
    })
    it(`${c.name}: PRK = HMAC-SHA256(salt, IKM) matches (§2.2, empty salt = 32 zero bytes)`, () => {
      const salt = c.salt === '' ? Buffer.alloc(32) : Buffer.from(c.salt, 'hex')
      expect(createHmac('sha256', salt).update(hex(c.ikm)).digest('hex')).toBe(c.prk)
    })
  }

  it('agrees with @noble/hashes hkdf on other inputs', () => {
    const ikm = Uint8Array.from({ length: 40 }, (_, i) => i * 7)
    const salt = Uint8Array.from({ length: 9 }, (_, i) => 255 - i)
    const info = new TextEncoder().encode('some info')
    expect(toHex(hkdfSha256(ikm, salt, info, 100))).toBe(toHex(hkdf(sha256, ikm, salt, info, 100)))
  })

  it('rejects lengths outside 1..255*32', () => {
    const z = new Uint8Array(0)
    expect(() => hkdfSha256(new Uint8Array(32), z, z, 0)).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
    expect(() => hkdfSha256(new Uint8Array(32), z, z, 8161)).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
  })
})

describe('domain labels', () => {
  it('builds cohort/<purpose>/v<n>', () => {
    expect(domainLabel('psi')).toBe('cohort/psi/v1')
    expect(domainLabel('secagg/share-key', 2)).toBe('cohort/secagg/share-key/v2')
  })

  it.each(['PSI', 'a b', 'x/', '/x', 'a--b', 'é', ''])('rejects purpose %j', (purpose) => {
    expect(() => domainLabel(purpose)).toThrow(expect.objectContaining({ name: 'CryptoArgumentError' }))
  })

  it.each(['cohort/psi/v1', 'cohort/a/b-c/v12'])('accepts label %s', (label) => {
    expect(() => aLabel(label)).not.toThrow()
  })

  it.each(['cohort/psi', 'cohort/psi/v0', 'other/psi/v1', 'cohort//v1', 'cohort/psi/v1/', 42])(
    'rejects label %j',
    (label) => {
      expect(() => aLabel(label)).toThrow(expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' }))
    }
  )
})

describe('deriveKey', () => {
  const ikm = Uint8Array.from({ length: 32 }, (_, i) => i)

  it('is HKDF with info = label || 0x00 || context', () => {
    const context = Uint8Array.of(1, 2, 3)
    const info = Buffer.concat([Buffer.from('cohort/test/v1'), Buffer.of(0), Buffer.from(context)])
    expect(toHex(deriveKey(ikm, 'cohort/test/v1', { context, length: 48 }))).toBe(
      toHex(hkdf(sha256, ikm, new Uint8Array(0), info, 48))
    )
  })

  it('separates labels, contexts and salts', () => {
    const base = toHex(deriveKey(ikm, 'cohort/a/v1'))
    expect(toHex(deriveKey(ikm, 'cohort/a/v1'))).toBe(base)
    expect(toHex(deriveKey(ikm, 'cohort/b/v1'))).not.toBe(base)
    expect(toHex(deriveKey(ikm, 'cohort/a/v2'))).not.toBe(base)
    expect(toHex(deriveKey(ikm, 'cohort/a/v1', { context: Uint8Array.of(0) }))).not.toBe(base)
    expect(toHex(deriveKey(ikm, 'cohort/a/v1', { salt: Uint8Array.of(1) }))).not.toBe(base)
    expect(deriveKey(ikm, 'cohort/a/v1')).toHaveLength(32)
  })

  it('refuses a malformed label', () => {
    expect(() => deriveKey(ikm, 'nope' as never)).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
  })
})
