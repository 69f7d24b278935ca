/**
 * How the coordinator turns a vertical job file (configs/job.ts `vertical:`) into what each node is
 * offered: the parties in session order with their roles, and the per-node job summary
 * (protocols/vertical/job-wire.ts).
 */
import type { JobConfig } from '../../configs/job.ts'
import type { VerticalJobSummary } from '../../protocols/vertical/job-wire.ts'
import { JobUnsupportedError } from './errors.ts'
import type { JobRecord, Participant } from './types.ts'

/** A party of a vertical job. @example const p: VerticalParticipant = { org, peerId, role: 'label' } */
export interface VerticalParticipant extends Participant {
  role: 'label' | 'feature'
}

/**
 * Refuses vertical settings this coordinator cannot run, before anything is offered.
 *
 * @throws JobUnsupportedError
 * @example
 * checkVerticalRunnable(job.config)
 */
export function checkVerticalRunnable(config: JobConfig): void {
  const v = config.vertical
  if (v === undefined) throw new JobUnsupportedError('the job has no vertical section')
  if (config.model.kind === 'mlp')
    throw new JobUnsupportedError('vertical jobs train logreg or kmeans models, not mlp')
  if (config.model.kind === 'kmeans' && config.dp !== 'none' && config.dp.epsilon === undefined)
    throw new JobUnsupportedError(
      'vertical k-means takes DP as a target epsilon (dp.epsilon), not a noise multiplier'
    )
}

/**
 * The job's parties in session order (the label party first), or an error naming what is wrong.
 *
 * @throws JobUnsupportedError when the label org does not take part
 * @example
 * verticalParties(job, nodes) // [{ org: 'lender', role: 'label', … }, { org: 'retailer', role: 'feature', … }]
 */
export function verticalParties(job: JobRecord, participants: readonly Participant[]): VerticalParticipant[] {
  const label = job.config.vertical!.label
  const lead = participants.find((p) => p.org === label)
  if (lead === undefined)
    throw new JobUnsupportedError(
      `vertical.label names ${label}, which is not a node taking part (${participants.map((p) => p.org).join(', ') || 'none'})`
    )
  if (participants.length < 2) throw new JobUnsupportedError('a vertical job needs at least two parties')
  return [
    { ...lead, role: 'label' },
    ...participants.filter((p) => p.org !== label).map((p) => ({ ...p, role: 'feature' as const }))
  ]
}

/**
 * The summary offered to one party.
 *
 * @example
 * const s = verticalSummaryFor(job, parties, parties[1])
 */
export function verticalSummaryFor(
  job: JobRecord,
  parties: readonly VerticalParticipant[],
  party: VerticalParticipant
): VerticalJobSummary {
  const c = job.config
  const v = c.vertical!
  const data = c.nodes[party.org] ?? c.data
  const m = c.model
  const dp = c.dp === 'none' ? null : c.dp
  return {
    name: c.name,
    model: m.kind === 'kmeans' ? 'kmeans' : 'logreg',
    role: party.role,
    dataset: data.dataset,
    ...(data.features === undefined ? {} : { features: data.features }),
    ...(v.idColumn === undefined ? {} : { idColumn: v.idColumn }),
    normalisation: v.psi.normalisation,
    parties: parties.map((p) => ({ org: p.org, peerId: p.peerId, role: p.role })),
    ...(m.kind === 'logreg'
      ? {
          lr: {
            epochs: m.rounds,
            batchSize: m.batchSize,
            learningRate: m.learningRate,
            l2: m.l2,
            optimizer: v.optimizer ?? 'adam'
          }
        }
      : {}),
    ...(m.kind === 'kmeans'
      ? {
          kmeans: {
            k: m.k,
            maxIterations: m.rounds,
            ...(m.candidates === undefined ? {} : { nInit: m.candidates }),
            ...(v.tolerance === undefined ? {} : { tolerance: v.tolerance })
          }
        }
      : {}),
    dp:
      dp === null
        ? null
        : {
            ...(dp.epsilon === undefined ? {} : { epsilon: dp.epsilon }),
            ...(dp.noiseMultiplier === undefined ? {} : { noiseMultiplier: dp.noiseMultiplier }),
            delta: dp.delta,
            clipNorm: dp.clipNorm
          },
    minParticipants: c.minParticipants,
    seed: c.seed === undefined ? `${job.id}/cohort` : `seed/${c.seed}`
  }
}
