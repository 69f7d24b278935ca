import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { FederationManifest } from '../../../configs/federation.ts'
import { registerSecaggParticipant } from '../../../node/runners/secagg-participant.ts'
import type {
  SecaggParticipantHandle,
  SecaggParticipantInit
} from '../../../node/runners/secagg-participant.ts'
import { PROTOCOLS } from '../../../protocols/ids.ts'
import { decodeSecaggReply, encodeSecagg } from '../../../protocols/secagg/messages.ts'
import type { SecaggRequest } from '../../../protocols/secagg/messages.ts'
import type { Transport } from '../../../protocols/transport.ts'
import { createLoopbackNetwork } from '../../../simulations/loopback-transport.ts'
import { memoryAudit, simIdentity } from '../../../simulations/secagg-federation.ts'
import type { SimIdentity } from '../../../simulations/secagg-federation.ts'
import type { AuditLog } from '../../../platform/audit/audit-log.ts'
import type { NodeStore } from '../../../platform/storage/db.ts'

let node: SimIdentity
let others: SimIdentity[]
let coordA: Transport
let coordB: Transport
let audit: AuditLog
let store: NodeStore
let handle: SecaggParticipantHandle | undefined
let net: ReturnType<typeof createLoopbackNetwork>
let manifest: FederationManifest

beforeEach(async () => {
  node = await simIdentity()
  others = [await simIdentity(), await simIdentity()]
  const a = await simIdentity()
  const b = await simIdentity()
  manifest = {
    federation: 'runner-test',
    version: 1,
    members: [
      { org: 'coord-a', peerId: a.peerId, multiaddrs: [], roles: ['coordinator'] },
      { org: 'coord-b', peerId: b.peerId, multiaddrs: [], roles: ['coordinator'] },
      { org: 'node', peerId: node.peerId, multiaddrs: [], roles: ['node'] },
      ...others.map((o, i) => ({
        org: `other-${i}`,
        peerId: o.peerId,
        multiaddrs: [],
        roles: ['node' as const]
      }))
    ]
  }
  net = createLoopbackNetwork()
  coordA = net.transport(a.peerId)
  coordB = net.transport(b.peerId)
  ;({ audit, store } = await memoryAudit(node))
})

afterEach(async () => {
  await handle?.close()
  handle = undefined
  await store.close()
})

async function start(init: SecaggParticipantInit = {}) {
  handle = await registerSecaggParticipant(
    net.transport(node.peerId),
    { identity: node, audit, manifest: () => manifest, inputProvider: async () => new Uint32Array(4) },
    init
  )
}

const advertise = (jobId = 'job-r', round = 1): SecaggRequest => ({
  v: 1,
  jobId,
  round,
  phase: 'advertise-keys',
  participants: [node.peerId, ...others.map((o) => o.peerId)],
  t: 2,
  k: 2,
  ringBits: 32,
  d: 4,
  graphSeed: new Uint8Array(32)
})

const send = (t: Transport, req: SecaggRequest) => t.request(node.peerId, PROTOCOLS.secagg, encodeSecagg(req))
const kinds = async () =>
  (await audit.read()).map((e) => [e.kind, (e.body as { code?: string }).code ?? null])

describe('secagg participant runner', () => {
  it('advertises a signed bundle and logs it', async () => {
    await start()
    const reply = decodeSecaggReply('advertise-keys', await send(coordA, advertise()))
    expect(reply.bundle.peer).toBe(node.peerId)
    expect(await kinds()).toEqual([['secagg-advertise-keys', null]])
    expect(handle!.activeRounds()).toBe(1)
  })

  it('refuses to run the same (job, round) twice', async () => {
    await start()
    await send(coordA, advertise())
    await expect(send(coordA, advertise())).rejects.toMatchObject({ code: 'COHORT_SECAGG_ROUND_REPLAYED' })
    expect((await kinds()).at(-1)).toEqual(['secagg-refused', 'COHORT_SECAGG_ROUND_REPLAYED'])
  })

  it('refuses messages for rounds it is not running', async () => {
    await start()
    await expect(
      send(coordA, { v: 1, jobId: 'job-r', round: 9, phase: 'consistency-check', survivors: [] })
    ).rejects.toMatchObject({
      code: 'COHORT_SECAGG_UNKNOWN_ROUND'
    })
    expect(await kinds()).toEqual([['secagg-refused', 'COHORT_SECAGG_UNKNOWN_ROUND']])
    // An abort for an unknown round is acknowledged quietly (the coordinator notifies everyone).
    const ack = await send(coordA, { v: 1, jobId: 'job-r', round: 9, phase: 'aborted', reason: 'x' })
    expect(decodeSecaggReply('aborted', ack).phase).toBe('aborted')
    expect(await kinds()).toHaveLength(1)
  })

  it("refuses another coordinator's messages for a running round and keeps the round", async () => {
    await start()
    await send(coordA, advertise())
    await expect(
      send(coordB, { v: 1, jobId: 'job-r', round: 1, phase: 'aborted', reason: 'hijack' })
    ).rejects.toMatchObject({
      code: 'COHORT_SECAGG_NOT_COORDINATOR'
    })
    expect(handle!.activeRounds()).toBe(1)
    expect((await kinds()).at(-1)).toEqual(['secagg-refused', 'COHORT_SECAGG_NOT_COORDINATOR'])
  })

  it('aborts a round that expires and zeroes its secrets', async () => {
    await start({ stateTtlMs: 30 })
    await send(coordA, advertise())
    await new Promise((r) => setTimeout(r, 150))
    expect(handle!.activeRounds()).toBe(0)
    const last = (await audit.read()).at(-1)!
    expect(last.kind).toBe('secagg-aborted')
    expect(last.body).toMatchObject({ reason: 'the round expired', fromPhase: 'advertise-keys' })
  })

  it('refuses more concurrent rounds than configured', async () => {
    await start({ maxConcurrentRounds: 1 })
    await send(coordA, advertise('job-1'))
    await expect(send(coordA, advertise('job-2'))).rejects.toMatchObject({ code: 'COHORT_SECAGG_BUSY' })
  })

  it('aborts its rounds when closed', async () => {
    await start()
    await send(coordA, advertise())
    await handle!.close()
    handle = undefined
    expect((await kinds()).at(-1)).toEqual(['secagg-aborted', null])
    await expect(send(coordA, advertise('job-x'))).rejects.toMatchObject({
      code: 'COHORT_PROTOCOL_NOT_SUPPORTED'
    })
  })
})
