/**
 * A SecAgg+ participant checks each round's announcement against its own floor (its policy's
 * minParticipants for the job's dataset, and the job's own minimum): a coordinator announcing too
 * few participants or too low a threshold t is refused before any key is drawn, the refusal is on
 * the node's audit log, and the coordinator's error names the node's reason.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { FederationManifest } from '../../configs/federation.ts'
import { runSecaggRound } from '../../coordinator/secagg/run-round.ts'
import type { JobRecord } from '../../coordinator/jobs/types.ts'
import { registerSecaggParticipant } from '../../node/runners/secagg-participant.ts'
import type { SecaggParticipantHandle } from '../../node/runners/secagg-participant.ts'
import type { AuditLog } from '../../platform/audit/audit-log.ts'
import type { NodeStore } from '../../platform/storage/db.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import { decodeSecaggRequest, encodeSecagg } from '../../protocols/secagg/messages.ts'
import type { Transport } from '../../protocols/transport.ts'
import { createLoopbackNetwork } from '../../simulations/loopback-transport.ts'
import { memoryAudit, simIdentity } from '../../simulations/secagg-federation.ts'
import type { SimIdentity } from '../../simulations/secagg-federation.ts'
import { createTrainFederation } from '../helpers/train-federation.ts'
import type { TrainFederation } from '../helpers/train-federation.ts'

const CODE = 'COHORT_SECAGG_POLICY_MIN_PARTICIPANTS'

interface PolicyNode {
  id: SimIdentity
  audit: AuditLog
  store: NodeStore
  handle: SecaggParticipantHandle
  asked: string[]
}

describe('SecAgg+ participants with a floor of 4 parties', () => {
  let net: ReturnType<typeof createLoopbackNetwork>
  let coordinator: Transport
  let nodes: PolicyNode[] = []

  async function federation(n: number): Promise<void> {
    net = createLoopbackNetwork()
    const coordId = await simIdentity()
    const ids = await Promise.all(Array.from({ length: n }, () => simIdentity()))
    const manifest: FederationManifest = {
      federation: 'secagg-policy',
      version: 1,
      members: [
        { org: 'coordinator', peerId: coordId.peerId, multiaddrs: [], roles: ['coordinator'] },
        ...ids.map((id, i) => ({
          org: `node-${i}`,
          peerId: id.peerId,
          multiaddrs: [],
          roles: ['node' as const]
        }))
      ]
    }
    coordinator = net.transport(coordId.peerId)
    nodes = []
    for (const [i, id] of ids.entries()) {
      const { audit, store } = await memoryAudit(id)
      const asked: string[] = []
      const handle = await registerSecaggParticipant(net.transport(id.peerId), {
        identity: id,
        audit,
        manifest: () => manifest,
        inputProvider: async () => Uint32Array.from([i + 1, 100 * (i + 1)]),
        minParticipants: (jobId) => {
          asked.push(jobId)
          return 4
        }
      })
      nodes.push({ id, audit, store, handle, asked })
    }
  }

  afterEach(async () => {
    for (const n of nodes) {
      await n.handle.close()
      await n.store.close()
    }
  })

  const round = (jobId: string, t: number) =>
    runSecaggRound(coordinator, {
      jobId,
      round: 1,
      participants: nodes.map((n) => n.id.peerId),
      t,
      k: nodes.length - 1,
      ringBits: 32,
      d: 2
    })

  /** The round's error (it must fail). */
  async function refusedRound(jobId: string, t: number): Promise<Error & { code: string }> {
    const err = await round(jobId, t).then(
      () => undefined,
      (e: unknown) => e as Error & { code: string }
    )
    if (err === undefined) throw new Error(`round ${jobId} with t = ${t} was not refused`)
    return err
  }

  async function refusals(n: PolicyNode) {
    const log = await n.audit.read()
    return {
      refused: log.filter((e) => e.kind === 'secagg-refused').map((e) => e.body as Record<string, unknown>),
      advertised: log.some((e) => e.kind === 'secagg-advertise-keys')
    }
  }

  it('refuses a round of 3 participants (rule: participants); the coordinator reports why', async () => {
    await federation(3)
    const err = await refusedRound('job-small', 3)
    expect(err.code).toBe('COHORT_SECAGG_BELOW_THRESHOLD')
    expect(err.message).toContain(`[${CODE}]`)
    expect(err.message).toContain("announces 3 participants; this node's policy requires at least 4")
    for (const n of nodes) {
      const { refused, advertised } = await refusals(n)
      expect(refused).toEqual([
        expect.objectContaining({
          jobId: 'job-small',
          round: 1,
          phase: 'advertise-keys',
          code: CODE,
          rule: 'participants'
        })
      ])
      expect(advertised).toBe(false)
      expect(n.handle.activeRounds()).toBe(0)
      expect(n.asked).toEqual(['job-small'])
    }
  })

  it('refuses a round of 5 whose threshold t = 3 is below the floor (rule: threshold), and runs one with t = 4', async () => {
    await federation(5)
    const err = await refusedRound('job-low-t', 3)
    expect(err.message).toContain('announces threshold t = 3')
    expect(err.message).toContain(`[${CODE}]`)
    for (const n of nodes) {
      const { refused, advertised } = await refusals(n)
      expect(refused.map((r) => [r.code, r.rule])).toEqual([[CODE, 'threshold']])
      expect(advertised).toBe(false)
    }
    // The same parties, a fresh round that meets the floor: summed as usual.
    const ok = await round('job-ok', 4)
    expect(ok.survivors).toHaveLength(5)
    expect([...ok.sum]).toEqual([15, 1500])
    for (const n of nodes) expect((await refusals(n)).refused).toHaveLength(1)
  })
})

describe('a training job whose coordinator lowers t below the job’s minParticipants', () => {
  let fed: TrainFederation
  let job: JobRecord
  const rewritten: number[] = []

  beforeAll(async () => {
    fed = await createTrainFederation({ seed: 'secagg-policy' })
    // The coordinator's code is honest (t = 3 for 3 nodes); its link to the nodes rewrites every
    // advertise-keys to t = 2, which SecAgg+ itself accepts for 3 parties (2t > 3).
    const inner = fed.coordinator.transport
    const lowering: Transport = {
      ...inner,
      self: inner.self,
      request(peer, protocol, body, options) {
        if (protocol !== PROTOCOLS.secagg) return inner.request(peer, protocol, body, options)
        const req = decodeSecaggRequest(body)
        if (req.phase !== 'advertise-keys') return inner.request(peer, protocol, body, options)
        rewritten.push(req.t)
        return inner.request(peer, protocol, encodeSecagg({ ...req, t: 2 }), options)
      }
    }
    const submitted = await fed.submit({
      name: 'lowered threshold',
      model: { kind: 'logreg', rounds: 2 },
      data: { dataset: 'credit_data' },
      minParticipants: 3
    })
    job = await fed.run(submitted.id, { transport: lowering })
  })

  afterAll(async () => {
    await fed?.close()
  })

  it('every node refuses, nothing is masked, and the job fails naming the node’s reason', async () => {
    expect(rewritten.length).toBeGreaterThan(0)
    expect(rewritten.every((t) => t === 3)).toBe(true)
    expect(job.status).toBe('failed')
    expect(job.error!.message).toContain(`[${CODE}]`)
    expect(job.error!.message).toContain('announces threshold t = 2')
    for (const n of fed.nodes) {
      const log = await n.audit.read()
      const refused = log
        .filter((e) => e.kind === 'secagg-refused')
        .map((e) => e.body as Record<string, unknown>)
      expect(refused.length).toBe(rewritten.length / fed.nodes.length)
      for (const r of refused)
        expect(r).toMatchObject({ code: CODE, rule: 'threshold', phase: 'advertise-keys' })
      expect(log.some((e) => e.kind === 'secagg-advertise-keys' || e.kind === 'secagg-masked-input')).toBe(
        false
      )
      // The statistics were prepared (and audited) but never left the node.
      expect(log.some((e) => e.kind === 'train-stats-released')).toBe(true)
    }
  })
})
