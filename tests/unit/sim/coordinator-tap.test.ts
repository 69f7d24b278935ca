import { describe, expect, it } from 'vitest'
import { JobConfig } from '../../../configs/job.ts'
import { summaryFor } from '../../../coordinator/jobs/job-plan.ts'
import { CohortError } from '../../../crypto/cohort-error.ts'
import { PROTOCOLS } from '../../../protocols/ids.ts'
import { decodeSecaggRequest, encodeSecagg } from '../../../protocols/secagg/messages.ts'
import type { SecaggRequest } from '../../../protocols/secagg/messages.ts'
import type { PeerRef, Transport } from '../../../protocols/transport.ts'
import { quantFor } from '../../../protocols/training/quantisation.ts'
import {
  bytesToF64,
  decodeTrainReply,
  decodeTrainRequest,
  encodeTrain,
  f64ToBytes,
  TRAIN_WIRE_VERSION
} from '../../../protocols/training/wire.ts'
import type { TrainRequest } from '../../../protocols/training/wire.ts'
import { createCoordinatorTap } from '../../../simulations/faults/coordinator-tap.ts'
import { createFaultLog } from '../../../simulations/faults/fault-log.ts'
import type { FaultPlan } from '../../../simulations/faults/fault-plan.ts'

const JOB = 'job-1'
const config = JobConfig.parse({ name: 'j', model: { kind: 'logreg', rounds: 3 }, data: { dataset: 'd' } })

function train(
  kind: 'fit' | 'eval' | 'publish' | 'offer',
  round: number,
  secaggId: string | null
): Uint8Array {
  const job = summaryFor(config, 'p1', 3)
  const common = { v: TRAIN_WIRE_VERSION, jobId: JOB } as const
  const model = { kind: 'logreg' as const, features: 2 }
  const prep = { features: ['a', 'b'], mean: [0, 0], std: [1, 1], impute: {} }
  const global = f64ToBytes(new Float64Array(3))
  let req: TrainRequest
  if (kind === 'fit')
    req = {
      ...common,
      kind,
      round,
      job,
      secaggId,
      model,
      global,
      prep,
      quant: quantFor('fit', 62),
      config: { epochs: 1, batchSize: 8, learningRate: 0.1 }
    }
  else if (kind === 'eval')
    req = {
      ...common,
      kind,
      round,
      job,
      secaggId,
      model,
      global,
      prep,
      quant: quantFor('eval', 62),
      config: {},
      trainSplit: false
    }
  else if (kind === 'publish')
    req = { ...common, kind, version: 1, name: 'j', dataset: 'd', model, params: global, prep, metrics: {} }
  else req = { ...common, kind, job }
  return encodeTrain(req)
}

type WithoutV<T> = T extends unknown ? Omit<T, 'v'> : never
const secagg = (req: WithoutV<SecaggRequest>) => encodeSecagg({ v: 1, ...req } as SecaggRequest)

function plan(over: Partial<FaultPlan> = {}): FaultPlan {
  return {
    dropouts: new Map(),
    stragglers: new Map(),
    loss: undefined,
    malicious: new Map(),
    coordinatorScripts: [],
    ...over
  }
}

/** An inner transport that records what reached each peer and answers with a fixed-size reply. */
function fakeInner(
  reply: (peer: string, protocol: string, body: Uint8Array) => Uint8Array = () => new Uint8Array(10)
) {
  const seen: Array<{ peer: string; protocol: string; body: Uint8Array }> = []
  const t: Transport = {
    self: 'coordinator' as PeerRef,
    handle: async () => {},
    unhandle: async () => {},
    async request(peer, protocol, body) {
      seen.push({ peer, protocol, body })
      return reply(peer, protocol, body)
    }
  }
  return { t, seen }
}

const orgOf = (p: string) => p

describe('coordinator tap', () => {
  it('drops a party at its planned phase and brings it back at the next training request', async () => {
    const inner = fakeInner()
    const log = createFaultLog()
    const tap = createCoordinatorTap(inner.t, {
      plan: plan({ dropouts: new Map([[2, new Map([['p2', 'masked-input' as const]])]]) }),
      log,
      orgOf,
      seed: 1
    })
    const req = (peer: string, protocol: string, body: Uint8Array) =>
      tap.request(peer as PeerRef, protocol as never, body)
    const id = 'job-1/fit/aaaaaaaaaaaa'
    await req('p2', PROTOCOLS.train, train('fit', 2, id))
    await req(
      'p2',
      PROTOCOLS.secagg,
      secagg({ jobId: id, round: 2, phase: 'consistency-check', survivors: [] })
    )
    const masked = secagg({ jobId: id, round: 2, phase: 'masked-input', shares: [] })
    await expect(req('p2', PROTOCOLS.secagg, masked)).rejects.toMatchObject({
      code: 'COHORT_PEER_UNREACHABLE'
    })
    await expect(req('p2', PROTOCOLS.secagg, masked)).rejects.toMatchObject({
      code: 'COHORT_PEER_UNREACHABLE'
    })
    // Others are unaffected; the same phase of another round does not fire.
    await req('p1', PROTOCOLS.secagg, masked)
    await req('p2', PROTOCOLS.train, train('eval', 2, 'job-1/eval/bbbbbbbbbbbb'))
    await req(
      'p2',
      PROTOCOLS.secagg,
      secagg({ jobId: 'job-1/fit/cccccccccccc', round: 3, phase: 'masked-input', shares: [] })
    )
    expect(inner.seen.filter((s) => s.peer === 'p2').length).toBe(4)
    expect(log.all()).toEqual([{ round: 2, kind: 'dropout', party: 'p2', phase: 'masked-input', attempt: 1 }])
  })

  it('numbers the attempts of a round by its fit SecAgg ids', async () => {
    const log = createFaultLog()
    const tap = createCoordinatorTap(fakeInner().t, {
      plan: plan({ dropouts: new Map([[1, new Map([['p1', 'unmask' as const]])]]) }),
      log,
      orgOf,
      seed: 1
    })
    const first = 'job-1/fit/111111111111'
    const second = 'job-1/fit/222222222222'
    await tap.request('p1' as PeerRef, PROTOCOLS.train, train('fit', 1, first))
    await tap.request('p1' as PeerRef, PROTOCOLS.train, train('fit', 1, second))
    await expect(
      tap.request(
        'p1' as PeerRef,
        PROTOCOLS.secagg,
        secagg({ jobId: second, round: 1, phase: 'unmask', survivors: [], dropped: [], signatures: [] })
      )
    ).rejects.toMatchObject({ code: 'COHORT_PEER_UNREACHABLE' })
    expect(log.all()[0]).toMatchObject({ attempt: 2, phase: 'unmask' })
  })

  it('counts bytes per party and per round (0 = setup, -1 = publish)', async () => {
    const tap = createCoordinatorTap(fakeInner().t, { plan: plan(), log: createFaultLog(), orgOf, seed: 1 })
    const offer = train('offer', 0, null)
    const fit = train('fit', 1, null)
    const pub = train('publish', 0, null)
    await tap.request('a' as PeerRef, PROTOCOLS.train, offer)
    await tap.request('a' as PeerRef, PROTOCOLS.train, fit)
    await tap.request('b' as PeerRef, PROTOCOLS.train, pub)
    expect(tap.bytesByRound.get(0)).toBe(offer.length + 10)
    expect(tap.bytesByRound.get(1)).toBe(fit.length + 10)
    expect(tap.bytesByRound.get(-1)).toBe(pub.length + 10)
    expect(tap.bytesByParty.get('a')).toBe(offer.length + fit.length + 20)
    expect(tap.bytesTotal()).toBe(offer.length + fit.length + pub.length + 30)
  })

  it('runs a malicious-coordinator script once and records whether the victim refused', async () => {
    const inner = fakeInner((_p, protocol, body) => {
      if (protocol === PROTOCOLS.secagg && decodeSecaggRequest(body).phase === 'unmask')
        throw new CohortError('refused', 'COHORT_SECAGG_UNMASK_REFUSED')
      return new Uint8Array(1)
    })
    const log = createFaultLog()
    const tap = createCoordinatorTap(inner.t, {
      plan: plan({ coordinatorScripts: [{ script: 'unmask-overlap', victim: 'p1', round: 1 }] }),
      log,
      orgOf,
      seed: 1
    })
    const unmask = secagg({
      jobId: 'job-1/fit/aaaaaaaaaaaa',
      round: 1,
      phase: 'unmask',
      survivors: ['p1', 'p2', 'p3'],
      dropped: [],
      signatures: []
    })
    await expect(tap.request('p1' as PeerRef, PROTOCOLS.secagg, unmask)).rejects.toMatchObject({
      code: 'COHORT_SECAGG_UNMASK_REFUSED'
    })
    const sent = decodeSecaggRequest(inner.seen[0]!.body)
    expect(sent.phase === 'unmask' && sent.dropped).toEqual(['p2'])
    // Fired once: the next unmask goes through unchanged.
    await expect(tap.request('p1' as PeerRef, PROTOCOLS.secagg, unmask)).rejects.toBeDefined()
    expect(inner.seen[1]!.body).toEqual(unmask)
    expect(log.all()).toEqual([
      {
        round: 1,
        kind: 'malicious-coordinator',
        party: 'p1',
        phase: 'unmask',
        detail: { script: 'unmask-overlap', refused: true, code: 'COHORT_SECAGG_UNMASK_REFUSED' }
      }
    ])
  })

  it("poisons a malicious party's plaintext summand in its reply", async () => {
    const inner = fakeInner((_p, _protocol, body) => {
      expect(decodeTrainRequest(body).kind).toBe('fit')
      const vector = f64ToBytes(new Float64Array([1, 2, 50]))
      return encodeTrain({ v: TRAIN_WIRE_VERSION, jobId: JOB, kind: 'ready', round: 1, length: 3, vector })
    })
    const log = createFaultLog()
    const tap = createCoordinatorTap(inner.t, {
      plan: plan({
        malicious: new Map([['p3', { kind: 'scale' as const, factor: 10, norm: 1, rounds: undefined }]])
      }),
      log,
      orgOf,
      seed: 1
    })
    const reply = await tap.request('p3' as PeerRef, PROTOCOLS.train, train('fit', 1, null))
    const r = decodeTrainReply(reply, ['ready'], JOB)
    expect([...bytesToF64(r.kind === 'ready' ? r.vector! : new Uint8Array(0))]).toEqual([10, 20, 50])
    expect(log.all()).toEqual([
      { round: 1, kind: 'malicious-update', party: 'p3', detail: { update: 'scale' } }
    ])
  })
})
