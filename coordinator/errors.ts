import { CohortError } from '../crypto/cohort-error.ts'

/** The coordinator directory does not exist, was not initialised, or is already initialised. */
export class CoordinatorHomeError extends CohortError {
  static override readonly name = 'CoordinatorHomeError'
  constructor(message: string) {
    super(message, 'COHORT_COORDINATOR_HOME')
  }
}

/** Another process holds the coordinator directory's database lock (a running coordinator). */
export class CoordinatorLockedError extends CohortError {
  static override readonly name = 'CoordinatorLockedError'
  constructor(message: string) {
    super(message, 'COHORT_COORDINATOR_LOCKED')
  }
}

/** No job with this id. */
export class JobNotFoundError extends CohortError {
  static override readonly name = 'JobNotFoundError'
  constructor(id: string) {
    super(`no job ${id} on this coordinator; "cohort job list" shows the jobs`, 'COHORT_JOB_NOT_FOUND')
  }
}

/** The job has already finished (completed, failed or cancelled), so it cannot be cancelled. */
export class JobFinishedError extends CohortError {
  static override readonly name = 'JobFinishedError'
  constructor(id: string, status: string) {
    super(
      `job ${id} is already ${status}; only pending or running jobs can be cancelled`,
      'COHORT_JOB_FINISHED'
    )
  }
}

/** A job file is valid on its own but does not fit this federation (unknown orgs, too few nodes). */
export class JobInvalidError extends CohortError {
  static override readonly name = 'JobInvalidError'
  readonly details: unknown
  constructor(message: string, details?: unknown) {
    super(message, 'COHORT_JOB_INVALID')
    this.details = details
  }
}

/** No model with this job id (and version). */
export class ModelNotFoundError extends CohortError {
  static override readonly name = 'ModelNotFoundError'
  constructor(jobId: string, version?: number) {
    super(
      version === undefined
        ? `no model for job ${jobId}; a model is published when a job completes ("cohort model list")`
        : `job ${jobId} has no model version ${version}`,
      'COHORT_MODEL_NOT_FOUND'
    )
  }
}

/** The job was cancelled by its user (the abort reason a runner sees on a cancel). */
export class JobCancelledError extends CohortError {
  static override readonly name = 'JobCancelledError'
  constructor(id: string) {
    super(`job ${id} was cancelled`, 'COHORT_JOB_CANCELLED')
  }
}

/**
 * The coordinator is shutting down (the abort reason a runner sees on a stop). The job is not
 * cancelled: it stays `running` and resumes from its last completed round at the next start.
 */
export class CoordinatorStoppingError extends CohortError {
  static override readonly name = 'CoordinatorStoppingError'
  constructor() {
    super('the coordinator is stopping; the job resumes at its next start', 'COHORT_COORDINATOR_STOPPING')
  }
}

/** The job runner module cannot be used (it does not export `runJob`). */
export class JobRunnerMissingError extends CohortError {
  static override readonly name = 'JobRunnerMissingError'
  constructor(message: string) {
    super(message, 'COHORT_JOB_RUNNER_MISSING')
  }
}

/** The route needs the running coordinator (libp2p host), but the API serves a stopped directory. */
export class CoordinatorNotRunningError extends CohortError {
  static override readonly name = 'CoordinatorNotRunningError'
  constructor(what: string) {
    super(
      `${what} needs a running coordinator; start it with "cohort coordinator start"`,
      'COHORT_COORDINATOR_NOT_RUNNING'
    )
  }
}
