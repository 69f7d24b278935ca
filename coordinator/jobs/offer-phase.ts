import type { StatsColumn } from '../../protocols/training/feature-stats.ts'
import { TRAIN_WIRE_VERSION } from '../../protocols/training/wire.ts'
import { summaryFor } from './job-plan.ts'
import { requestAll } from './runtime.ts'
import type { JobRuntime } from './runtime.ts'
import type { Declined, JobRecord, Participant } from './types.ts'

/**
 * The offer: every participating node gets the job summary and answers with its feature layout or
 * a refusal with a reason. Nodes whose layout differs from the majority's (another schema, other
 * levels) are declined by the coordinator, since their vectors would not line up.
 */

/**
 * What the offer settled.
 * @example
 * const { accepted, declined, features, columns } = await offerPhase(rt, job)
 */
export interface OfferResult {
  accepted: Participant[]
  declined: Declined[]
  features: string[]
  columns: StatsColumn[]
  /** Each accepting node's DP plan (ε of the job on its ledger, its noise multiplier). */
  plans: Record<string, { epsilon: number | null; noiseMultiplier: number | null }>
}

/**
 * The job's participants: `config.participants` or every `node` member of the federation.
 * @example
 * participantsOf(job, manifest) // [{ org: 'lender_a', peerId: '12D3KooW…' }, …]
 */
export function participantsOf(job: JobRecord, rt: JobRuntime): Participant[] {
  const members = rt.ctx.manifest().members.filter((m) => m.roles.includes('node'))
  const orgs = job.config.participants ?? members.map((m) => m.org)
  return orgs.flatMap((org) => {
    const m = members.find((x) => x.org === org)
    return m === undefined ? [] : [{ org, peerId: m.peerId }]
  })
}

/**
 * Offers the job to its participants.
 * @example
 * const offer = await offerPhase(rt, job)
 */
export async function offerPhase(rt: JobRuntime, job: JobRecord): Promise<OfferResult> {
  const peers = participantsOf(job, rt)
  const outcomes = await requestAll(
    rt,
    job.id,
    peers,
    (p) => ({
      v: TRAIN_WIRE_VERSION,
      jobId: job.id,
      kind: 'offer',
      job: summaryFor(job.config, p.org, peers.length)
    }),
    ['accepted', 'declined'],
    job.config.deadlines.phaseMs
  )
  const declined: Declined[] = []
  const accepted: Array<{ peer: Participant; layout: string; features: string[]; columns: StatsColumn[] }> =
    []
  const plans: OfferResult['plans'] = {}
  for (const o of outcomes) {
    if ('error' in o) {
      declined.push({
        ...o.peer,
        code: o.error.code,
        reason: `no answer to the offer: ${o.error.message}`,
        round: 0
      })
    } else if (o.reply.kind === 'declined') {
      declined.push({ ...o.peer, code: o.reply.code, reason: o.reply.reason, round: 0 })
    } else {
      const { features, columns } = o.reply
      accepted.push({ peer: o.peer, layout: JSON.stringify([features, columns]), features, columns })
      plans[o.peer.org] = o.reply.plan
    }
  }
  const votes = new Map<string, number>()
  for (const a of accepted) votes.set(a.layout, (votes.get(a.layout) ?? 0) + 1)
  let best = ''
  for (const [layout, n] of votes) if (n > (votes.get(best) ?? 0)) best = layout
  const kept = accepted.filter((a) => a.layout === best)
  for (const a of accepted) {
    if (a.layout === best) continue
    declined.push({
      ...a.peer,
      code: 'COHORT_SCHEMA_MISMATCH',
      reason: `its features (${a.features.length}) or their columns differ from the other nodes'; align the dataset schemas or name the features in the job`,
      round: 0
    })
    delete plans[a.peer.org]
  }
  return {
    accepted: kept.map((a) => a.peer),
    declined,
    features: kept[0]?.features ?? [],
    columns: kept[0]?.columns ?? [],
    plans
  }
}
