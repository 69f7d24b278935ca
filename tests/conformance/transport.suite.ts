import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CohortError } from '../../crypto/cohort-error.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import type { Transport } from '../../protocols/transport.ts'

export interface TransportPair {
  a: Transport
  b: Transport
}

class TeapotError extends CohortError {
  constructor() {
    super('no tea here', 'COHORT_TEAPOT')
  }
}

/**
 * The behaviour every Transport must share (libp2p compliance-suite style): run it with a `setup`
 * that returns two connected transports and a `teardown`.
 */
export function transportSuite(
  name: string,
  setup: () => Promise<TransportPair>,
  teardown: () => Promise<void>
): void {
  describe(`Transport conformance: ${name}`, () => {
    let a: Transport
    let b: Transport
    beforeAll(async () => {
      ;({ a, b } = await setup())
      await b.handle(
        PROTOCOLS.echo,
        async (body, from) => {
          if (body.length === 1 && body[0] === 0xee) throw new TeapotError()
          if (body.length === 1 && body[0] === 0xbb) return new Uint8Array(64 * 1024)
          if (body.length === 1 && body[0] === 0xdd) return new Promise<Uint8Array>(() => {})
          return new Uint8Array([...new TextEncoder().encode(from), ...body])
        },
        { maxRequestBytes: 9 * 1024 * 1024 }
      )
    })
    afterAll(teardown)

    it('carries a request and its reply, naming the sender', async () => {
      const ok = await a.request(b.self, PROTOCOLS.echo, new Uint8Array([1, 2, 3]))
      const selfBytes = new TextEncoder().encode(a.self)
      expect(ok.subarray(0, selfBytes.length)).toEqual(selfBytes)
      expect([...ok.subarray(selfBytes.length)]).toEqual([1, 2, 3])
    })

    it('answers over the connection the other side opened; an unserved protocol is a typed error', async () => {
      const reply = await b
        .request(a.self, PROTOCOLS.echo, new Uint8Array([1]), { timeoutMs: 5000 })
        .catch((e) => e)
      expect((reply as CohortError).code).toBe('COHORT_PROTOCOL_NOT_SUPPORTED')
    })

    it('carries an 8 MiB frame when the protocol allows it', async () => {
      const big = new Uint8Array(8 * 1024 * 1024)
      big[big.length - 1] = 7
      const reply = await a.request(b.self, PROTOCOLS.echo, big, { maxResponseBytes: 9 * 1024 * 1024 })
      expect(reply.length).toBe(big.length + new TextEncoder().encode(a.self).length)
      expect(reply[reply.length - 1]).toBe(7)
    })

    it('a handler error reaches the caller with its stable code', async () => {
      await expect(a.request(b.self, PROTOCOLS.echo, new Uint8Array([0xee]))).rejects.toMatchObject({
        code: 'COHORT_TEAPOT'
      })
    })

    it('refuses a request over the handler limit', async () => {
      const err = await a
        .request(b.self, PROTOCOLS.echo, new Uint8Array(9 * 1024 * 1024 + 1), { timeoutMs: 10_000 })
        .catch((e) => e)
      expect(['COHORT_MESSAGE_TOO_LARGE', 'COHORT_PEER_UNREACHABLE']).toContain((err as CohortError).code)
    })

    it('refuses a reply over the caller limit', async () => {
      await expect(
        a.request(b.self, PROTOCOLS.echo, new Uint8Array([0xbb]), { maxResponseBytes: 1024 })
      ).rejects.toMatchObject({
        code: 'COHORT_MESSAGE_TOO_LARGE'
      })
    })

    it('times out on a handler that never answers', async () => {
      await expect(
        a.request(b.self, PROTOCOLS.echo, new Uint8Array([0xdd]), { timeoutMs: 200 })
      ).rejects.toMatchObject({
        code: 'COHORT_TIMEOUT'
      })
    })

    it('still serves after all of the above', async () => {
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) => a.request(b.self, PROTOCOLS.echo, new Uint8Array([i + 1])))
      )
      expect(replies.map((r) => r[r.length - 1])).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    })
  })
}
