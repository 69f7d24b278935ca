import { CohortError } from '../cohort-error.ts'

/**
 * A blind pool was used after close().
 * @example
 * await pool.close(); await pool.blind(key, pts) // rejects with BlindPoolClosedError
 */
export class BlindPoolClosedError extends CohortError {
  static override readonly name = 'BlindPoolClosedError'
  constructor(message = 'the PSI blind pool is closed; create a new one') {
    super(message, 'COHORT_BLIND_POOL_CLOSED')
  }
}

/**
 * A PSI worker thread failed or exited while it held a task.
 * @example
 * throw new BlindWorkerError('PSI worker exited with code 1')
 */
export class BlindWorkerError extends CohortError {
  static override readonly name = 'BlindWorkerError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'COHORT_BLIND_WORKER_FAILED', options)
  }
}
