import { CohortError } from '../crypto/cohort-error.ts'

/** Another process holds the node directory's database lock (a running node). */
export class NodeLockedError extends CohortError {
  static override readonly name = 'NodeLockedError'
  constructor(message: string) {
    super(message, 'COHORT_NODE_LOCKED')
  }
}

/** The node directory does not exist or was not initialised. */
export class NodeHomeError extends CohortError {
  static override readonly name = 'NodeHomeError'
  constructor(message: string) {
    super(message, 'COHORT_NODE_HOME')
  }
}
