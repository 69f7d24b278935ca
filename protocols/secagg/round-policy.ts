import { SecaggPolicyError } from './errors.ts'
import type { AdvertiseKeysRequest } from './messages.ts'

/**
 * The participant's own floor on what a round may aggregate over, checked on the announcement
 * (advertise-keys) before any key is drawn. A coordinator chooses n and t; without this check a node
 * would mask its input for a round whose sum may be unmasked over as few as t parties, fewer than
 * its policy (and the distributed DP noise it added) assume.
 */

/**
 * Checks a round's announced participant count and threshold against `minParticipants`.
 *
 * @throws SecaggPolicyError (COHORT_SECAGG_POLICY_MIN_PARTICIPANTS) with rule `participants` when
 *   fewer distinct parties are announced, or `threshold` when t is lower
 * @example
 * checkRoundPolicy(request, 3) // a round of 5 parties with t = 2 throws (rule 'threshold')
 */
export function checkRoundPolicy(
  req: Pick<AdvertiseKeysRequest, 'jobId' | 'round' | 'participants' | 't'>,
  minParticipants: number
): void {
  const n = new Set(req.participants).size
  const where = `job ${req.jobId} round ${req.round}`
  if (n < minParticipants)
    throw new SecaggPolicyError(
      'participants',
      `${where} announces ${n} participants; this node's policy requires at least ${minParticipants}`
    )
  if (req.t < minParticipants)
    throw new SecaggPolicyError(
      'threshold',
      `${where} announces threshold t = ${req.t}, so its sum could be unmasked over ${req.t} parties; this node's policy requires at least ${minParticipants}`
    )
}
