/**
 * crypto/sign-identity.ts: the cached KeyObjects give exactly libp2p's signatures and the same
 * verdicts as libp2p's verify, including for wrong keys, payloads, signatures and peer ids.
 */
import { randomBytes } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { ed25519Keygen, ed25519Sign, verifyWithPeerId } from '../../../crypto/sign.ts'
import {
  ed25519PeerKey,
  signWithIdentityKey,
  verifyEd25519Raw,
  verifyPeerSignature
} from '../../../crypto/sign-identity.ts'

describe('identity signatures through cached KeyObjects', () => {
  it('sign equals libp2p; verify agrees with libp2p on good and altered inputs', async () => {
    const key = await generateKeyPair('Ed25519')
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const peer = peerIdFromPrivateKey(key).toString()
    for (let i = 0; i < 20; i++) {
      const msg = new Uint8Array(randomBytes(i * 13))
      const sig = await signWithIdentityKey(key, msg)
      expect(Buffer.from(sig).equals(Buffer.from(await key.sign(msg)))).toBe(true)
      const bad = sig.slice()
      bad[i % 64]! ^= 1 << (i % 8)
      const cases: Array<[string, Uint8Array, Uint8Array]> = [
        [peer, msg, sig],
        [peer, msg, bad],
        [other, msg, sig],
        [peer, new Uint8Array([...msg, 0]), sig],
        [peer, msg, sig.subarray(1)]
      ]
      for (const [p, m, s] of cases) {
        const libp2p = await Promise.resolve()
          .then(() => key.publicKey.verify(m, s))
          .catch(() => false)
        expect(verifyPeerSignature(p, m, s)).toBe(p === peer ? libp2p : false)
      }
      expect(verifyPeerSignature(peer, msg, sig)).toBe(true)
    }
  })

  it('a string that is not an Ed25519 peer id never verifies and keeps throwing where asked', async () => {
    const secp = peerIdFromPrivateKey(await generateKeyPair('secp256k1')).toString()
    for (const p of ['not-a-peer-id', secp, '']) {
      expect(verifyPeerSignature(p, new Uint8Array(1), new Uint8Array(64))).toBe(false)
      for (let i = 0; i < 2; i++) {
        expect(() => ed25519PeerKey(p)).toThrow(expect.objectContaining({ code: 'COHORT_CRYPTO_ARGUMENT' }))
        await expect(verifyWithPeerId(p, 'cohort/test/x/v1', [], new Uint8Array(64))).rejects.toMatchObject({
          code: 'COHORT_CRYPTO_ARGUMENT'
        })
      }
    }
  })

  it('verifyEd25519Raw checks raw keys (noble-made signatures) and refuses bad lengths', () => {
    const { secretKey, publicKey } = ed25519Keygen()
    const msg = new Uint8Array(randomBytes(50))
    const sig = ed25519Sign(secretKey, msg)
    expect(verifyEd25519Raw(publicKey, msg, sig)).toBe(true)
    expect(verifyEd25519Raw(publicKey, msg, sig)).toBe(true)
    expect(verifyEd25519Raw(publicKey, msg.subarray(1), sig)).toBe(false)
    expect(verifyEd25519Raw(ed25519Keygen().publicKey, msg, sig)).toBe(false)
    expect(verifyEd25519Raw(publicKey.subarray(1), msg, sig)).toBe(false)
    expect(verifyEd25519Raw(publicKey, msg, sig.subarray(1))).toBe(false)
  })
})
