import { CohortError } from '../crypto/cohort-error.ts'

/**
 * Errors of the simulation harness (simulations/**). Scenario *schema* errors are ConfigError
 * (configs/errors.ts); these are what a valid scenario can still get wrong, or what fails at run time.
 */

/**
 * The scenario is well-formed but cannot run as written (an unknown party or column, a partition
 * that leaves a party empty, a fault the transport cannot inject).
 * @example
 * throw new SimConfigError('fault dropout names party "x", which the partition does not have')
 */
export class SimConfigError extends CohortError {
  static override readonly name = 'SimConfigError'
  constructor(message: string) {
    super(message, 'COHORT_SIM_CONFIG')
  }
}

/**
 * The scenario needs something this build does not run yet (e.g. vertical partitions).
 * @example
 * throw new SimUnsupportedError('vertical scenarios need the vertical-learning runner')
 */
export class SimUnsupportedError extends CohortError {
  static override readonly name = 'SimUnsupportedError'
  constructor(message: string) {
    super(message, 'COHORT_UNSUPPORTED')
  }
}

/**
 * The simulated training job ended `failed`; the message carries the runner's reason and code.
 * @example
 * throw new SimJobFailedError('the job failed: 2 nodes remain ... [COHORT_TOO_FEW_PARTICIPANTS]')
 */
export class SimJobFailedError extends CohortError {
  static override readonly name = 'SimJobFailedError'
  constructor(message: string) {
    super(message, 'COHORT_SIM_JOB_FAILED')
  }
}

/**
 * Headless Chromium is needed (report check, `--screenshot`) and was not found or failed.
 * @example
 * throw new ChromiumError('chromium is not installed: apt-get install chromium')
 */
export class ChromiumError extends CohortError {
  static override readonly name = 'ChromiumError'
  constructor(message: string) {
    super(message, 'COHORT_CHROMIUM')
  }
}
