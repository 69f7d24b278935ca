/**
 * Acceptance 4 and 5 over the loopback transport: a node whose ε cap is below the job's declines
 * with its reason; a node whose budget runs out mid-job leaves and the job continues; a coordinator
 * killed mid-round resumes from its store without aggregating or charging any round twice; a node
 * crashing mid-round is recovered from by SecAgg+ and rejoins the next round after its restart.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { trainingScope } from '../../node/jobs/budget-state.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import { decodeSecaggRequest } from '../../protocols/secagg/messages.ts'
import type { Transport } from '../../protocols/transport.ts'
import { decodeTrainRequest } from '../../protocols/training/wire.ts'
import { CREDIT_RANGES, createTrainFederation, partition, testPolicy } from '../helpers/train-federation.ts'
import type { TrainFederation } from '../helpers/train-federation.ts'

let fed: TrainFederation | undefined
afterEach(async () => {
  await fed?.close()
  fed = undefined
})

/** The natural split with its largest party cut in two: four nodes. */
function fourParties(): Record<string, number[]> {
  const p = partition('credit_data')
  const big = p.lender_fixed_employment!
  const half = Math.floor(big.length / 2)
  return {
    lender_fixed_a: big.slice(0, half),
    lender_fixed_b: big.slice(half),
    lender_freelance: p.lender_freelance!,
    lender_parttime_other: p.lender_parttime_other!
  }
}

const dpJob = (rounds: number) => ({
  name: 'credit risk, DP',
  model: { kind: 'logreg', rounds, learningRate: 1, batchSize: 128 },
  data: { dataset: 'credit_data' },
  dp: { mode: 'record', epsilon: 1, delta: 1e-5, clipNorm: 1 },
  statistics: { ranges: CREDIT_RANGES },
  minParticipants: 3
})

/** Wraps the coordinator's transport to watch (and act on) what it sends. */
function watching(
  inner: Transport,
  onSend: (peer: string, protocol: string, body: Uint8Array) => Promise<void> | void
): Transport {
  return {
    self: inner.self,
    handle: (p, h, i) => inner.handle(p, h, i),
    unhandle: (p) => inner.unhandle(p),
    async request(peer, protocol, body, options) {
      await onSend(peer, protocol, body)
      return inner.request(peer, protocol, body, options)
    }
  }
}

describe('policy and budget', () => {
  it('a node whose ε cap is 0.5 declines a job asking for ε = 1, with its reason; the others train', async () => {
    fed = await createTrainFederation({
      parties: fourParties(),
      seed: 'cap',
      policy: (org) => testPolicy(org === 'lender_freelance' ? { epsilonCap: 0.5 } : {})
    })
    const job = await fed.run((await fed.submit(dpJob(2))).id)
    expect(job.status).toBe('completed')
    expect(job.declined).toHaveLength(1)
    const d = job.declined[0]!
    expect(d).toMatchObject({ org: 'lender_freelance', code: 'COHORT_POLICY_EPSILON_CAP', round: 0 })
    expect(d.reason).toMatch(/cap is ε = 0\.5/)
    expect(job.participants.map((p) => p.org)).not.toContain('lender_freelance')
    // The declining node spent nothing.
    expect((await fed.node('lender_freelance').ledger.report(trainingScope('credit_data'))).events).toBe(0)
  })

  it('a node whose budget runs out mid-job stops contributing; the job continues with the others', async () => {
    fed = await createTrainFederation({ parties: fourParties(), seed: 'exhaust' })
    const node = fed.node('lender_freelance')
    const job = await fed.run((await fed.submit(dpJob(4))).id, {
      onRound: (r) => {
        // The data owner tightens the dataset's cap below what this job has already spent.
        if (r.round === 2) node.policy = testPolicy({ datasets: { credit_data: { epsilonCap: 0.2 } } })
      }
    })
    expect(job.status).toBe('completed')
    expect(job.round).toBe(4)
    expect(job.declined).toEqual([
      expect.objectContaining({ org: 'lender_freelance', code: 'COHORT_BUDGET_EXHAUSTED', round: 3 })
    ])
    const rounds = await fed.jobs.listRounds(job.id)
    expect(rounds.map((r) => r.survivors.length)).toEqual([4, 4, 3, 3])
    expect(rounds[2]!.survivors).not.toContain(node.identity.peerId)
    const report = await node.ledger.report(trainingScope('credit_data'))
    expect(report.exhausted).toBe(true)
    expect(report.events).toBe(3) // statistics + rounds 1 and 2
    expect(report.reserved).toBe(0)
  })
})

describe('crashes', () => {
  it('a coordinator killed mid-round resumes: same rounds, none aggregated or charged twice', async () => {
    fed = await createTrainFederation({ seed: 'resume' })
    const submitted = await fed.submit(dpJob(4))
    const kill = new AbortController()
    const transport = watching(fed.coordinator.transport, (_peer, protocol, body) => {
      if (protocol !== PROTOCOLS.secagg) return
      const req = decodeSecaggRequest(body)
      if (req.phase === 'unmask' && req.jobId.includes('/fit/') && req.round === 3)
        kill.abort(new Error('kill -9'))
    })
    await expect(fed.run(submitted.id, { signal: kill.signal, transport })).rejects.toThrow('kill -9')
    const paused = (await fed.jobs.getJob(submitted.id))!
    expect(paused).toMatchObject({ status: 'running', round: 2 })

    const job = await fed.run(submitted.id)
    expect(job.status).toBe('completed')
    const rounds = await fed.jobs.listRounds(job.id)
    expect(rounds.map((r) => r.round)).toEqual([1, 2, 3, 4])
    expect(fed.jobs.completions.every((c) => !c.refused)).toBe(true)
    for (const n of fed.nodes) {
      const report = await n.ledger.report(trainingScope('credit_data'))
      expect(report.events, n.org).toBe(5) // statistics + 4 rounds: round 3 charged once
      expect(report.spent.epsilon).toBeLessThanOrEqual(1)
      const kinds = (await n.audit.read()).map((e) => e.kind)
      expect(kinds.filter((k) => k === 'train-fit-released')).toHaveLength(4)
      expect(kinds.filter((k) => k === 'train-fit-served-again')).toHaveLength(1)
    }
  })

  it('a node crashing mid-round: the round completes by dropout recovery, the node rejoins after restart', async () => {
    fed = await createTrainFederation({ seed: 'dropout' })
    const f = fed
    const victim = f.nodes[2]!
    let crashed = false
    const transport = watching(f.coordinator.transport, async (peer, protocol, body) => {
      if (protocol === PROTOCOLS.secagg && peer === victim.identity.peerId && !crashed) {
        const req = decodeSecaggRequest(body)
        if (req.phase === 'masked-input' && req.jobId.includes('/fit/') && req.round === 2) {
          crashed = true
          f.net.setDown(peer, true)
        }
      }
      if (protocol === PROTOCOLS.train && peer === victim.identity.peerId && crashed) {
        const req = decodeTrainRequest(body)
        if (req.kind === 'eval' && req.round === 2) {
          // The node comes back with empty memory (its store survives).
          f.net.setDown(peer, false)
          await victim.restart()
        }
      }
    })
    const job = await f.run(
      (
        await f.submit({
          name: 'credit risk',
          model: { kind: 'logreg', rounds: 3 },
          data: { dataset: 'credit_data' },
          minParticipants: 2,
          secagg: { threshold: 0.6 }
        })
      ).id,
      { transport }
    )
    expect(job.status).toBe('completed')
    const rounds = await f.jobs.listRounds(job.id)
    expect(rounds[1]!.survivors).toHaveLength(2)
    expect(rounds[1]!.dropped).toEqual([victim.identity.peerId])
    expect(rounds[1]!.metrics.auc).toBeGreaterThan(0.7)
    expect(rounds[2]!.survivors).toContain(victim.identity.peerId)
    expect(job.participants).toHaveLength(3)
  })
})
