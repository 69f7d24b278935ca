import { chacha20poly1305, xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { describe, expect, it } from 'vitest'
import {
  AEAD_OVERHEAD_BYTES,
  aeadOpen,
  aeadSeal,
  openShare,
  sealShare,
  shareAad,
  shareKeyFromSecret
} from '../../../crypto/aead.ts'
import type { AadContext } from '../../../crypto/aead.ts'
import { x25519Keygen, x25519SharedSecret } from '../../../crypto/agreement.ts'
import { aeadVectors, hex, toHex } from '../../vectors/load.ts'

const decryptionFailed = expect.objectContaining({
  name: 'DecryptionError',
  code: 'COHORT_DECRYPTION_FAILED'
})

describe('published AEAD vectors', () => {
  for (const c of aeadVectors().cases) {
    it(`${c.name}: noble ${c.algorithm} encrypts to the published ciphertext and tag`, () => {
      const aead = c.algorithm === 'chacha20poly1305' ? chacha20poly1305 : xchacha20poly1305
      const sealed = aead(hex(c.key), hex(c.nonce), hex(c.aad)).encrypt(hex(c.plaintext))
      expect(toHex(sealed)).toBe(c.ciphertext + c.tag)
    })
  }

  it('aeadOpen reads nonce || ciphertext || tag (the XChaCha draft vector)', () => {
    const c = aeadVectors().cases.find((v) => v.algorithm === 'xchacha20poly1305')!
    const wire = hex(c.nonce + c.ciphertext + c.tag)
    expect(toHex(aeadOpen(hex(c.key), wire, hex(c.aad)))).toBe(c.plaintext)
    wire[30]! ^= 0x80
    expect(() => aeadOpen(hex(c.key), wire, hex(c.aad))).toThrow(decryptionFailed)
  })
})

describe('sealShare / openShare', () => {
  const ctx: AadContext = { jobId: 'job-1', round: 4, phase: 'share-keys', src: 'peerA', dst: 'peerB' }
  const key = crypto.getRandomValues(new Uint8Array(32))
  const plaintext = new TextEncoder().encode('two shamir shares')

  it('round-trips and adds 40 bytes', () => {
    const sealed = sealShare(key, plaintext, ctx)
    expect(sealed).toHaveLength(plaintext.length + AEAD_OVERHEAD_BYTES)
    expect(new TextDecoder().decode(openShare(key, sealed, ctx))).toBe('two shamir shares')
  })

  it('uses a fresh nonce per message', () => {
    expect(toHex(sealShare(key, plaintext, ctx))).not.toBe(toHex(sealShare(key, plaintext, ctx)))
  })

  it.each([
    ['jobId', { jobId: 'job-2' }],
    ['round', { round: 5 }],
    ['phase', { phase: 'unmask' }],
    ['src', { src: 'peerC' }],
    ['dst', { dst: 'peerC' }],
    ['src/dst swapped (reflection)', { src: 'peerB', dst: 'peerA' }]
  ])('fails when %s differs', (_, change) => {
    const sealed = sealShare(key, plaintext, ctx)
    expect(() => openShare(key, sealed, { ...ctx, ...change })).toThrow(decryptionFailed)
  })

  it('fails on any flipped bit, truncation, or the wrong key', () => {
    const sealed = sealShare(key, plaintext, ctx)
    for (let i = 0; i < sealed.length; i++) {
      const bad = sealed.slice()
      bad[i]! ^= 1
      expect(() => openShare(key, bad, ctx)).toThrow(decryptionFailed)
    }
    expect(() => openShare(key, sealed.subarray(0, sealed.length - 1), ctx)).toThrow(decryptionFailed)
    expect(() => openShare(key, sealed.subarray(0, 10), ctx)).toThrow(decryptionFailed)
    expect(() => openShare(crypto.getRandomValues(new Uint8Array(32)), sealed, ctx)).toThrow(decryptionFailed)
  })

  it('AAD is the canonical encoding of the fixed-order context', () => {
    const aad = shareAad(ctx)
    expect(new TextDecoder().decode(aad.subarray(0, 24))).toBe('cohort/aead/share-aad/v1')
    // the property order of the object does not matter; the array order is fixed
    const reordered = { dst: 'peerB', src: 'peerA', phase: 'share-keys', round: 4, jobId: 'job-1' }
    expect(toHex(shareAad(reordered))).toBe(toHex(aad))
    expect(() => shareAad({ ...ctx, round: 1.5 })).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
    expect(() => shareAad({ ...ctx, src: '' })).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
  })

  it('two parties derive the same share key from X25519', () => {
    const a = x25519Keygen()
    const b = x25519Keygen()
    const ka = shareKeyFromSecret(x25519SharedSecret(a.secretKey, b.publicKey))
    const kb = shareKeyFromSecret(x25519SharedSecret(b.secretKey, a.publicKey))
    expect(toHex(ka)).toBe(toHex(kb))
    const sealed = sealShare(ka, plaintext, ctx)
    expect(toHex(openShare(kb, sealed, ctx))).toBe(toHex(plaintext))
  })

  it('checks the key length', () => {
    expect(() => aeadSeal(new Uint8Array(16), plaintext, new Uint8Array(0))).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
  })
})
