import type { CoordinatorStatus } from '../coordinator.ts'
import type { CoordinatorHome } from '../home.ts'
import type { JobScheduler } from '../scheduler/job-scheduler.ts'

/**
 * What the coordinator's API serves: the opened directory, the job scheduler and, when libp2p
 * runs, the live status. Without `status`, `GET /v1/status` answers `COHORT_COORDINATOR_NOT_RUNNING`.
 *
 * @example
 * const ctx: CoordinatorApiContext = { home: c.home, jobs: c.jobs, status: () => c.status() }
 */
export interface CoordinatorApiContext {
  readonly home: CoordinatorHome
  readonly jobs: JobScheduler
  readonly status?: () => CoordinatorStatus
  /**
   * SHA-256 of a second accepted token: the per-start local session token that
   * `cohort coordinator start` writes to `api.json` (mode 0600) for CLI calls with `--dir`.
   */
  readonly sessionTokenSha256?: string
  /**
   * Where unexpected (500) errors are reported, one line each, with the stack.
   * @default writes to stderr
   */
  readonly log?: (line: string) => void
}

/** The actor recorded in audit entries caused by API calls. */
export const API_ACTOR = 'coordinator-api'
