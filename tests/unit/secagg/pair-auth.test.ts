import { describe, expect, it } from 'vitest'
import {
  checkPairMac,
  createPairAuthSession,
  learnPeer,
  pairMacs,
  wipePairAuthSession
} from '../../../protocols/secagg/pair-auth.ts'

const payload = new TextEncoder().encode('job-1 round 3 survivors a b c')

/** u and v, each having authenticated the other's auth key. */
function pair() {
  const u = createPairAuthSession('peer-u')
  const v = createPairAuthSession('peer-v')
  learnPeer(u, 'peer-v', v.aPk)
  learnPeer(v, 'peer-u', u.aPk)
  return { u, v }
}

const macFor = (from: ReturnType<typeof createPairAuthSession>, to: string, data = payload) =>
  pairMacs(from, [to], data).find((m) => m.to === to)?.mac

describe('pair MACs between SecAgg runners', () => {
  it('verify at the addressee under the aPk it learned, and nowhere else', () => {
    const { u, v } = pair()
    const mac = macFor(u, 'peer-v')!
    expect(mac.length).toBe(32)
    expect(checkPairMac(v, 'peer-u', payload, mac)).toBe(true)
    expect(checkPairMac(v, 'peer-u', payload, mac, u.aPk)).toBe(true)
    // A third runner that learned u has a different pair key with it.
    const w = createPairAuthSession('peer-w')
    learnPeer(w, 'peer-u', u.aPk)
    expect(checkPairMac(w, 'peer-u', payload, mac)).toBe(false)
  })

  it('refuse a changed payload, a flipped bit, a wrong length, and a different named aPk', () => {
    const { u, v } = pair()
    const mac = macFor(u, 'peer-v')!
    const other = new TextEncoder().encode('job-1 round 3 survivors a b')
    expect(checkPairMac(v, 'peer-u', other, mac)).toBe(false)
    const flipped = mac.slice()
    flipped[31]! ^= 1
    expect(checkPairMac(v, 'peer-u', payload, flipped)).toBe(false)
    expect(checkPairMac(v, 'peer-u', payload, mac.subarray(0, 16))).toBe(false)
    expect(checkPairMac(v, 'peer-u', payload, undefined)).toBe(false)
    expect(checkPairMac(v, 'peer-u', payload, mac, createPairAuthSession('x').aPk)).toBe(false)
  })

  it('are directional: u’s MAC for v cannot be reflected to u as coming from v', () => {
    const { u } = pair()
    const mac = macFor(u, 'peer-v')!
    expect(checkPairMac(u, 'peer-v', payload, mac)).toBe(false)
    expect(checkPairMac(u, 'peer-u', payload, mac)).toBe(false)
  })

  it('bind the peer ids: a member copying v’s aPk gets another pair key', () => {
    const { u, v } = pair()
    learnPeer(u, 'peer-copier', v.aPk)
    const vMac = macFor(v, 'peer-u')!
    expect(checkPairMac(u, 'peer-v', payload, vMac)).toBe(true)
    expect(checkPairMac(u, 'peer-copier', payload, vMac)).toBe(false)
  })

  it('stop at a rotated key: the peer that restarted is unknown until its signature is checked again', () => {
    const { u, v } = pair()
    const v2 = createPairAuthSession('peer-v')
    // u still MACs under the old pair key; the new v has none with u.
    expect(checkPairMac(v2, 'peer-u', payload, macFor(u, 'peer-v'))).toBe(false)
    expect(pairMacs(v2, ['peer-u'], payload)).toEqual([])
    learnPeer(v2, 'peer-u', u.aPk)
    learnPeer(u, 'peer-v', v2.aPk)
    expect(checkPairMac(v2, 'peer-u', payload, macFor(u, 'peer-v'))).toBe(true)
    // The old v's MACs no longer count at u.
    expect(checkPairMac(u, 'peer-v', payload, macFor(v, 'peer-u'))).toBe(false)
  })

  it('never learn a low-order key, themselves, and forget everything when wiped', () => {
    const u = createPairAuthSession('peer-u')
    const lowOrder = new Uint8Array(32)
    lowOrder[0] = 1
    learnPeer(u, 'peer-bad', lowOrder)
    learnPeer(u, 'peer-u', u.aPk)
    expect(u.peers.size).toBe(0)
    const { u: a } = pair()
    expect(pairMacs(a, ['peer-v', 'peer-unknown', 'peer-u'], payload).map((m) => m.to)).toEqual(['peer-v'])
    wipePairAuthSession(a)
    expect(pairMacs(a, ['peer-v'], payload)).toEqual([])
  })
})
