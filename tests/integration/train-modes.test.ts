/**
 * Aggregation modes a job may ask for: homomorphic aggregation without a pinned key is refused
 * (COHORT_UNSUPPORTED, before anything is offered; the HE path itself is train-he.test.ts);
 * plaintext aggregation runs only with the nodes whose policy allows it, the others decline with
 * their reason; a cancel tells the nodes to forget the job.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { JobCancelledError } from '../../coordinator/errors.ts'
import { createTrainFederation, testPolicy } from '../helpers/train-federation.ts'
import type { TrainFederation } from '../helpers/train-federation.ts'

let fed: TrainFederation | undefined
afterEach(async () => {
  await fed?.close()
  fed = undefined
})

const job = (over: Record<string, unknown>) => ({
  name: 'modes',
  model: { kind: 'logreg', rounds: 2 },
  data: { dataset: 'credit_data' },
  minParticipants: 2,
  ...over
})

describe('aggregation modes', () => {
  it('"he" without a pinned key fails with COHORT_UNSUPPORTED and offers nothing', async () => {
    fed = await createTrainFederation()
    const done = await fed.run((await fed.submit(job({ secureAggregation: 'he' }))).id)
    expect(done.status).toBe('failed')
    expect(done.error?.code).toBe('COHORT_UNSUPPORTED')
    for (const n of fed.nodes)
      expect((await n.audit.read()).some((e) => e.kind.startsWith('train-'))).toBe(false)
  })

  it('"none" trains in plaintext with the nodes that allow it; the other declines', async () => {
    fed = await createTrainFederation({
      policy: (org) => testPolicy({ allowPlaintext: org !== 'lender_freelance' })
    })
    const done = await fed.run((await fed.submit(job({ secureAggregation: 'none' }))).id)
    expect(done.status).toBe('completed')
    expect(done.declined).toEqual([
      expect.objectContaining({ org: 'lender_freelance', code: 'COHORT_POLICY_PLAINTEXT', round: 0 })
    ])
    const rounds = await fed.jobs.listRounds(done.id)
    expect(rounds.map((r) => r.survivors.length)).toEqual([2, 2])
    expect(done.metrics!.auc!).toBeGreaterThan(0.7)
    // No SecAgg round ran: the summands travelled in the ready replies.
    const kinds = (await fed.node('lender_parttime_other').audit.read()).map((e) => e.kind)
    expect(kinds.some((k) => k.startsWith('secagg-'))).toBe(false)
    expect(kinds.filter((k) => k === 'train-fit-released')).toHaveLength(2)
  })

  it('a cancel (abort with JobCancelledError) stops the job and tells the nodes to forget it', async () => {
    fed = await createTrainFederation()
    const f = fed
    const submitted = await f.submit(job({ model: { kind: 'logreg', rounds: 10 } }))
    const controller = new AbortController()
    const run = f.run(submitted.id, {
      signal: controller.signal,
      onRound: (r) => {
        if (r.round === 2) controller.abort(new JobCancelledError(submitted.id))
      }
    })
    await expect(run).rejects.toBeInstanceOf(JobCancelledError)
    expect((await f.jobs.getJob(submitted.id))!.round).toBe(2)
    for (const n of f.nodes) {
      const kinds = (await n.audit.read()).map((e) => e.kind)
      expect(kinds).toContain('train-cancelled')
      expect(n.stash.size()).toBe(0)
      expect(n.train.activeJobs()).toBe(0)
    }
  })
})
