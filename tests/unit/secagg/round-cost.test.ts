/**
 * The cheaper round (bench train, issue 5 acceptance 7): unmask requests carry only the consistency
 * signatures a participant needs, the aggregator's small-order check equals the Diffie-Hellman
 * probe it replaced, the cached identity signer signs the same bytes as libp2p, and 62-bit ring
 * arithmetic on 32-bit limbs equals the BigInt reference.
 */
import { randomBytes } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { beforeAll, describe, expect, it } from 'vitest'
import { x25519Keygen, x25519Objects, x25519PrivateKeyObject } from '../../../crypto/agreement.ts'
import { ringAddInPlace, ringSubInPlace } from '../../../crypto/ring.ts'
import { signWithIdentityKey } from '../../../crypto/sign-identity.ts'
import type { UnmaskRequest } from '../../../protocols/secagg/messages.ts'
import { holdersOf } from '../../../protocols/secagg/params.ts'
import { verifyPeerSignature } from '../../../protocols/secagg/signatures.ts'
import { isSmallOrderX25519 } from '../../../protocols/secagg/small-order.ts'
import type { DirectParty } from '../../../simulations/secagg-direct.ts'
import { makeParties, roundFixture, runUntil } from '../../helpers/secagg-fixture.ts'
import { x25519Vectors } from '../../vectors/load.ts'

let parties: DirectParty[]
beforeAll(async () => {
  parties = await makeParties(9)
})

describe('unmask signatures', () => {
  it('complete graph: each request carries exactly t signatures and the round completes', async () => {
    const f = await roundFixture({ n: 9, t: 6, parties })
    await runUntil(f, 'unmask')
    for (const req of f.requests.values()) {
      const r = req as UnmaskRequest
      expect(r.signatures.length).toBe(6)
      const signers = r.signatures.map((s) => s.peer)
      expect(new Set(signers).size).toBe(6)
      for (const s of signers) expect(f.agg.signatures.has(s)).toBe(true)
    }
    await f.deliverAll()
    expect(f.advance().kind).toBe('result')
  })

  it('sparse graph with a dropout: every named peer still has t signing holders in its request', async () => {
    const f = await roundFixture({ n: 9, k: 4, t: 3, parties })
    await runUntil(f, 'masked-input')
    const dropped = f.ids[4]!
    await f.deliverAll(new Set([dropped]))
    f.advance()
    await runUntil(f, 'unmask')
    let trimmed = false
    for (const [peer, req] of f.requests) {
      const r = req as UnmaskRequest
      const signers = new Set(r.signatures.map((s) => s.peer))
      for (const w of [...r.survivors, ...r.dropped]) {
        const count = holdersOf(f.agg.ctx, w).filter((h) => signers.has(h)).length
        expect(count, `${w} in the request to ${peer}`).toBeGreaterThanOrEqual(3)
      }
      if (signers.size < f.agg.signatures.size) trimmed = true
    }
    expect(trimmed).toBe(true)
    await f.deliverAll()
    const out = f.advance()
    expect(out.kind).toBe('result')
    if (out.kind === 'result') expect(out.result.dropped).toEqual([dropped])
  })
})

describe('isSmallOrderX25519', () => {
  const probe = x25519PrivateKeyObject(x25519Keygen().secretKey)
  const viaAgreement = (pk: Uint8Array) => {
    try {
      x25519Objects(probe, pk)
      return false
    } catch {
      return true
    }
  }
  const le = (u: bigint) => {
    const b = new Uint8Array(32)
    for (let i = 0; i < 32; i++) {
      b[i] = Number(u & 255n)
      u >>= 8n
    }
    return b
  }

  it('flags every low-order encoding of the RFC 7748 / libsodium list', () => {
    for (const h of x25519Vectors().lowOrder.points)
      expect(isSmallOrderX25519(Buffer.from(h, 'hex'))).toBe(true)
  })

  it('agrees with an X25519 agreement near 0, p and 2^255, with and without bit 255, and on random keys', () => {
    const p = 2n ** 255n - 19n
    const keys: Uint8Array[] = []
    for (let i = 0n; i < 24n; i++) for (const u of [i, p - i, p + i, 2n ** 255n - 1n - i]) keys.push(le(u))
    for (const k of [...keys]) keys.push(Uint8Array.from(k, (b, i) => (i === 31 ? b | 0x80 : b)))
    for (let i = 0; i < 300; i++) keys.push(new Uint8Array(randomBytes(32)))
    keys.push(x25519Keygen().publicKey)
    for (const k of keys) expect(isSmallOrderX25519(k), Buffer.from(k).toString('hex')).toBe(viaAgreement(k))
  })
})

describe('signWithIdentityKey', () => {
  it('returns the bytes libp2p signs, which verify against the peer id', async () => {
    const key = await generateKeyPair('Ed25519')
    const peer = peerIdFromPrivateKey(key).toString()
    for (const msg of [new Uint8Array(0), new Uint8Array(randomBytes(200))]) {
      const sig = await signWithIdentityKey(key, msg)
      expect(Buffer.from(sig).equals(Buffer.from(await key.sign(msg)))).toBe(true)
      expect(verifyPeerSignature(peer, msg, sig)).toBe(true)
    }
  })
})

describe('ring arithmetic for k > 32 (32-bit limbs)', () => {
  it('equals BigInt.asUintN on random and carry/borrow edge values', () => {
    for (const k of [33, 40, 52, 61, 62]) {
      const n = 512
      const a = new BigUint64Array(randomBytes(8 * n).buffer).map((x) => BigInt.asUintN(k, x))
      const b = new BigUint64Array(randomBytes(8 * n).buffer).map((x) => BigInt.asUintN(k, x))
      const top = 2n ** BigInt(k) - 1n
      const edges: Array<[bigint, bigint]> = [
        [0n, 0n],
        [0n, 1n],
        [top, 1n],
        [top, top],
        [0xffffffffn, 1n],
        [2n ** 32n, 1n],
        [1n, 2n ** 32n]
      ]
      edges.forEach(([x, y], i) => {
        a[i] = x
        b[i] = y
      })
      const sum = new BigUint64Array(a)
      ringAddInPlace(sum, b, k)
      const diff = new BigUint64Array(a)
      ringSubInPlace(diff, b, k)
      for (let i = 0; i < n; i++) {
        expect(sum[i], `k=${k} ${a[i]}+${b[i]}`).toBe(BigInt.asUintN(k, a[i]! + b[i]!))
        expect(diff[i], `k=${k} ${a[i]}-${b[i]}`).toBe(BigInt.asUintN(k, a[i]! - b[i]!))
      }
    }
  })
})
