import { describe, expect, it } from 'vitest'
import { NodePolicy } from '../../../configs/node-config.ts'
import { secaggFloor } from '../../../node/jobs/dataset-policy.ts'
import { createInputStash } from '../../../node/jobs/input-stash.ts'
import { SecaggPolicyError } from '../../../protocols/secagg/errors.ts'
import { checkRoundPolicy } from '../../../protocols/secagg/round-policy.ts'

const announce = (n: number, t: number) => ({
  jobId: 'job-1/fit/ab',
  round: 2,
  participants: Array.from({ length: n }, (_, i) => `peer-${i}`),
  t
})

describe('checkRoundPolicy', () => {
  it('accepts n and t at the floor', () => {
    expect(() => checkRoundPolicy(announce(4, 4), 4)).not.toThrow()
    expect(() => checkRoundPolicy(announce(9, 5), 3)).not.toThrow()
  })

  it('refuses too few distinct participants (duplicates do not count) and too low a t', () => {
    expect(() => checkRoundPolicy(announce(3, 3), 4)).toThrow(SecaggPolicyError)
    const dup = { ...announce(4, 4), participants: ['a', 'b', 'c', 'c'] }
    expect(() => checkRoundPolicy(dup, 4)).toThrow(/announces 3 participants/)
    try {
      checkRoundPolicy(announce(6, 3), 4)
      expect.unreachable()
    } catch (err) {
      expect(err).toMatchObject({ code: 'COHORT_SECAGG_POLICY_MIN_PARTICIPANTS', rule: 'threshold' })
    }
  })
})

describe('secaggFloor', () => {
  const policy = NodePolicy.parse({ minParticipants: 3, datasets: { credit: { minParticipants: 5 } } })

  it('is the larger of the dataset policy’s and the job’s minimum', () => {
    expect(secaggFloor(policy, { dataset: 'credit', minParticipants: 3 })).toBe(5)
    expect(secaggFloor(policy, { dataset: 'churn', minParticipants: 4 })).toBe(4)
    expect(secaggFloor(policy, { dataset: 'churn', minParticipants: 2 })).toBe(3)
  })

  it('falls back to the node-wide minimum for a round no summand was stashed for', () => {
    expect(secaggFloor(policy, undefined)).toBe(3)
  })

  it('reads what the release path stashed, after the summand was taken and until the job is dropped', () => {
    const stash = createInputStash()
    stash.put('job-1/fit/ab', 2, new Uint32Array(2), { dataset: 'credit', minParticipants: 4 })
    stash.put('job-1/eval/cd', 2, new Uint32Array(2))
    expect(secaggFloor(policy, stash.roundOf('job-1/fit/ab'))).toBe(5)
    expect(stash.roundOf('job-1/eval/cd')).toBeUndefined()
    stash.take('job-1/fit/ab', 2)
    expect(stash.roundOf('job-1/fit/ab')).toEqual({ dataset: 'credit', minParticipants: 4 })
    stash.dropJob('job-1')
    expect(stash.roundOf('job-1/fit/ab')).toBeUndefined()
  })
})
