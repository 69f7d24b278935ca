import { describe, expect, it } from 'vitest'
import {
  bytesToVector,
  decodeSecaggReply,
  decodeSecaggRequest,
  encodeSecagg,
  MAX_SECAGG_MESSAGE_BYTES,
  vectorToBytes
} from '../../../protocols/secagg/messages.ts'
import type { SecaggRequest } from '../../../protocols/secagg/messages.ts'
import { SEALED_SHARE_BYTES } from '../../../protocols/secagg/shares.ts'
import { Packr } from 'msgpackr'

const head = { v: 1 as const, jobId: 'job-1', round: 3 }
const peer = '12D3KooWExamplePeerIdNotRealButLongEnough'

const codeOf = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

describe('secagg codec', () => {
  const requests: SecaggRequest[] = [
    {
      ...head,
      phase: 'advertise-keys',
      participants: [peer, `${peer}2`, `${peer}3`],
      t: 2,
      k: 2,
      ringBits: 32,
      d: 10,
      graphSeed: new Uint8Array(32)
    },
    {
      ...head,
      phase: 'share-keys',
      bundles: [
        {
          peer,
          cPk: new Uint8Array(32),
          sPk: new Uint8Array(32).fill(1),
          aPk: new Uint8Array(32).fill(2),
          sig: new Uint8Array(64)
        }
      ]
    },
    { ...head, phase: 'masked-input', shares: [{ src: peer, sealed: new Uint8Array(SEALED_SHARE_BYTES) }] },
    { ...head, phase: 'consistency-check', survivors: [peer] },
    {
      ...head,
      phase: 'unmask',
      survivors: [peer],
      dropped: [],
      signatures: [{ peer, sig: new Uint8Array(64) }]
    },
    { ...head, phase: 'aborted', reason: 'below threshold' }
  ]

  it('round-trips every request', () => {
    for (const req of requests) {
      const back = decodeSecaggRequest(encodeSecagg(req))
      expect(back.phase).toBe(req.phase)
      expect(encodeSecagg(back)).toEqual(encodeSecagg(req))
    }
  })

  it('round-trips replies and refuses a reply of another phase', () => {
    const reply = { ...head, phase: 'consistency-check' as const, sig: new Uint8Array(64).fill(5) }
    expect(decodeSecaggReply('consistency-check', encodeSecagg(reply)).sig[0]).toBe(5)
    expect(codeOf(() => decodeSecaggReply('unmask', encodeSecagg(reply)))).toBe('COHORT_MALFORMED_MESSAGE')
  })

  it('refuses garbage, unknown fields, wrong byte lengths and oversized arrays', () => {
    expect(codeOf(() => decodeSecaggRequest(new Uint8Array([0xc1, 0xff, 0x00])))).toBe(
      'COHORT_MALFORMED_MESSAGE'
    )
    const packr = new Packr({ useRecords: false })
    const extra = packr.pack({ ...head, phase: 'aborted', reason: 'x', sneaky: true })
    expect(codeOf(() => decodeSecaggRequest(extra))).toBe('COHORT_MALFORMED_MESSAGE')
    const shortKey = packr.pack({
      ...requests[1],
      bundles: [{ peer, cPk: new Uint8Array(31), sPk: new Uint8Array(32), sig: new Uint8Array(64) }]
    })
    expect(codeOf(() => decodeSecaggRequest(shortKey))).toBe('COHORT_MALFORMED_MESSAGE')
    const many = packr.pack({
      ...head,
      phase: 'consistency-check',
      survivors: Array.from({ length: 1001 }, (_, i) => `p${i}`)
    })
    expect(codeOf(() => decodeSecaggRequest(many))).toBe('COHORT_MALFORMED_MESSAGE')
    const wrongVersion = packr.pack({ ...head, v: 2, phase: 'aborted', reason: 'x' })
    expect(codeOf(() => decodeSecaggRequest(wrongVersion))).toBe('COHORT_MALFORMED_MESSAGE')
  })

  it('refuses frames over the secagg cap before decoding', () => {
    expect(codeOf(() => decodeSecaggRequest(new Uint8Array(MAX_SECAGG_MESSAGE_BYTES + 1)))).toBe(
      'COHORT_MESSAGE_TOO_LARGE'
    )
  })

  it('converts vectors to bytes and back, exactly d elements, aligned or not', () => {
    const v = Uint32Array.from([1, 2, 0xffffffff])
    const bytes = vectorToBytes(v)
    const unaligned = new Uint8Array(bytes.length + 1).subarray(1)
    unaligned.set(bytes)
    expect([...bytesToVector(unaligned, 32, 3)]).toEqual([1, 2, 0xffffffff])
    expect(codeOf(() => bytesToVector(bytes, 32, 4))).toBe('COHORT_SECAGG_VECTOR_LENGTH')
    const wide = BigUint64Array.from([1n, (1n << 40n) - 1n])
    expect([...(bytesToVector(vectorToBytes(wide), 40, 2) as BigUint64Array)]).toEqual([1n, (1n << 40n) - 1n])
  })
})
