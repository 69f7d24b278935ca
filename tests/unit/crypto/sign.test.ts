import { generateKeyPair, generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import {
  assertSignedByPeer,
  ed25519KeyFromPeerId,
  ed25519Keygen,
  ed25519PublicKey,
  ed25519Sign,
  ed25519Verify,
  signCanonical,
  signWithIdentity,
  verifyCanonical,
  verifyWithPeerId
} from '../../../crypto/sign.ts'
import { ed25519Vectors, hex, toHex } from '../../vectors/load.ts'

const LABEL = 'cohort/test/keys/v1' as const

describe('Ed25519 raw path (RFC 8032 §7.1)', () => {
  for (const c of ed25519Vectors().cases) {
    it(`${c.name}: public key, signature, verification`, () => {
      const sk = hex(c.secretKey)
      expect(toHex(ed25519PublicKey(sk))).toBe(c.publicKey)
      expect(toHex(ed25519Sign(sk, hex(c.message)))).toBe(c.signature)
      expect(ed25519Verify(hex(c.publicKey), hex(c.message), hex(c.signature))).toBe(true)
    })

    it(`${c.name}: altered message or signature does not verify`, () => {
      const sig = hex(c.signature)
      sig[5]! ^= 1
      expect(ed25519Verify(hex(c.publicKey), hex(c.message), sig)).toBe(false)
      const msg = Uint8Array.from([...hex(c.message), 0])
      expect(ed25519Verify(hex(c.publicKey), msg, hex(c.signature))).toBe(false)
    })

    it(`${c.name}: the libp2p key from the same seed signs identically`, async () => {
      const key = await generateKeyPairFromSeed('Ed25519', hex(c.secretKey))
      expect(toHex(key.publicKey.raw)).toBe(c.publicKey)
      expect(toHex(await key.sign(hex(c.message)))).toBe(c.signature)
    })
  }

  it('strict verification rejects S + L (a malleated signature)', () => {
    const c = ed25519Vectors().cases[0]!
    const sig = hex(c.signature)
    const L = 2n ** 252n + 27742317777372353535851937790883648493n
    let s = 0n
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!)
    s += L
    for (let i = 32; i < 64; i++) {
      sig[i] = Number(s & 0xffn)
      s >>= 8n
    }
    expect(ed25519Verify(hex(c.publicKey), hex(c.message), sig)).toBe(false)
  })

  it('returns false for a wrong-length signature', () => {
    const { secretKey, publicKey } = ed25519Keygen()
    const sig = ed25519Sign(secretKey, Uint8Array.of(1))
    expect(ed25519Verify(publicKey, Uint8Array.of(1), sig.subarray(0, 63))).toBe(false)
  })

  it('signCanonical binds label and fields', () => {
    const { secretKey, publicKey } = ed25519Keygen()
    const fields = ['job', 3, Uint8Array.of(1, 2)]
    const sig = signCanonical(secretKey, LABEL, fields)
    expect(verifyCanonical(publicKey, LABEL, fields, sig)).toBe(true)
    expect(verifyCanonical(publicKey, 'cohort/test/other/v1', fields, sig)).toBe(false)
    expect(verifyCanonical(publicKey, LABEL, ['job', 4, Uint8Array.of(1, 2)], sig)).toBe(false)
  })
})

describe('Ed25519 identity path (libp2p keys, verification by peer id)', () => {
  it('signs with the identity key and verifies from the peer id string', async () => {
    const key = await generateKeyPair('Ed25519')
    const peerId = peerIdFromPrivateKey(key).toString()
    const fields = ['job-1', 7, Uint8Array.of(9, 9)]
    const sig = await signWithIdentity(key, LABEL, fields)
    expect(await verifyWithPeerId(peerId, LABEL, fields, sig)).toBe(true)
    await expect(assertSignedByPeer(peerId, LABEL, fields, sig)).resolves.toBeUndefined()
    // the raw path verifies the same signature with the key inlined in the peer id
    expect(verifyCanonical(ed25519KeyFromPeerId(peerId), LABEL, fields, sig)).toBe(true)
  })

  it('rejects another signer, other fields, another label', async () => {
    const key = await generateKeyPair('Ed25519')
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const peerId = peerIdFromPrivateKey(key).toString()
    const sig = await signWithIdentity(key, LABEL, ['a', 1])
    expect(await verifyWithPeerId(other, LABEL, ['a', 1], sig)).toBe(false)
    expect(await verifyWithPeerId(peerId, LABEL, ['a', 2], sig)).toBe(false)
    expect(await verifyWithPeerId(peerId, 'cohort/test/other/v1', ['a', 1], sig)).toBe(false)
    expect(await verifyWithPeerId(peerId, LABEL, ['a', 1], sig.subarray(1))).toBe(false)
    await expect(assertSignedByPeer(other, LABEL, ['a', 1], sig)).rejects.toMatchObject({
      name: 'VerificationError',
      code: 'COHORT_VERIFICATION_FAILED'
    })
  })

  it('refuses non-Ed25519 keys and malformed peer ids', async () => {
    const secp = await generateKeyPair('secp256k1')
    await expect(signWithIdentity(secp as never, LABEL, [])).rejects.toMatchObject({
      code: 'COHORT_CRYPTO_ARGUMENT'
    })
    const secpId = peerIdFromPrivateKey(secp).toString()
    await expect(verifyWithPeerId(secpId, LABEL, [], new Uint8Array(64))).rejects.toMatchObject({
      code: 'COHORT_CRYPTO_ARGUMENT'
    })
    expect(() => ed25519KeyFromPeerId('not-a-peer-id')).toThrow(
      expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' })
    )
  })
})
