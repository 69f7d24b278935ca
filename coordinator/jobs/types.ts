import type { JobConfig } from '../../configs/job.ts'
import type { PeerRef, Transport } from '../../protocols/transport.ts'
import type { FederationManifest } from '../../configs/federation.ts'
import type { StatsColumn } from '../../protocols/training/feature-stats.ts'

/**
 * The contract between the job runner (which drives rounds over a Transport) and the coordinator
 * daemon (which persists jobs in LevelDB, serves the API and CLI). Both sides code against this file.
 */

export type JobStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled'

export interface Participant {
  org: string
  peerId: PeerRef
}

export interface Declined extends Participant {
  /** Stable code of the node's refusal, e.g. COHORT_POLICY_EPSILON_CAP. */
  code: string
  /** The node's one-sentence reason, shown to the coordinator's user as is. */
  reason: string
  round: number
}

/** Metrics of one evaluation (classifiers: auc, accuracy, logloss, ks; k-means: inertia, ...). */
export type Metrics = Record<string, number>

export interface JobRecord {
  id: string
  config: JobConfig
  status: JobStatus
  createdAt: string
  updatedAt: string
  /** Last completed round (0 = none yet). A restarted runner resumes at round + 1. */
  round: number
  /** Flat global parameters after `round`, base64 of a little-endian Float64Array. */
  global?: string
  /** Nodes that accepted the job (and have not been dropped for good). */
  participants: Participant[]
  /** Nodes that declined, or left because their policy or budget refused a later round. */
  declined: Declined[]
  /** Federated feature statistics the nodes standardise with (computed once, before round 1). */
  featureStats?: {
    names: string[]
    mean: number[]
    std: number[]
    /** Imputation value per feature column (numbers: the global mean; categories: the global mode). */
    impute?: Record<string, number | string>
    /** The feature columns behind `names` (the statistics' layout; fixes the DP plan on resume). */
    columns?: StatsColumn[]
    /** Training rows summed over the nodes (noisy under DP). */
    rows?: number
  }
  /** Final metrics when completed. */
  metrics?: Metrics
  error?: { code: string; message: string }
}

export interface RoundRecord {
  jobId: string
  round: number
  participants: PeerRef[]
  survivors: PeerRef[]
  dropped: PeerRef[]
  /** Test metrics computed from the securely aggregated evaluation vector. */
  metrics: Metrics
  /** Wall time per phase in ms: train, secagg, eval, total. */
  timings: Record<string, number>
  /** Bytes the coordinator sent and received this round. */
  bytes: number
  /** True when the round was discarded (e.g. the sum failed its norm sanity check). */
  discarded?: { code: string; reason: string }
}

export interface ModelRecord {
  jobId: string
  version: number
  kind: JobConfig['model']['kind']
  /** Model descriptor as in protocols/training/model-spec.ts (layout etc.). */
  descriptor: unknown
  /** base64 little-endian Float64Array. */
  params: string
  /** SHA-256 hex of the params bytes. */
  sha256: string
  metrics: Metrics
  createdAt: string
}

/** Persistence the runner needs. Every method is atomic; `completeRound` writes the round and the job together. */
export interface JobStore {
  getJob(id: string): Promise<JobRecord | undefined>
  putJob(job: JobRecord): Promise<void>
  /** Atomically: the round record and the job's new state (round, global, participants, ...). */
  completeRound(round: RoundRecord, job: JobRecord): Promise<void>
  listRounds(jobId: string): Promise<RoundRecord[]>
  putModel(model: ModelRecord): Promise<void>
}

/** What the runner writes to the coordinator's audit log. */
export interface CoordinatorAudit {
  append(kind: string, body: unknown, options?: { actor?: string; round?: number | null }): Promise<unknown>
}

export interface JobRunContext {
  transport: Transport
  store: JobStore
  manifest: () => FederationManifest
  audit: CoordinatorAudit
  log: (line: string) => void
  /** Called after every completed round (for `job follow` and progress output). */
  onRound?: (round: RoundRecord, job: JobRecord) => void
  /**
   * Sanity check of a round's unmasked aggregate before the strategy applies it; a returned reason
   * discards the round (recorded in RoundRecord.discarded).
   */
  checkAggregate?: (c: {
    round: number
    sum: Float64Array
    weight: number
    participants: readonly PeerRef[]
    job: JobRecord
  }) => { code: string; reason: string } | undefined
}

/** Runs (or resumes) a job to completion, failure or cancellation (via signal). */
export type RunJob = (
  ctx: JobRunContext,
  jobId: string,
  options?: { signal?: AbortSignal }
) => Promise<JobRecord>
