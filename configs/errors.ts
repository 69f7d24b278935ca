import { CohortError } from '../crypto/cohort-error.ts'

/** A config, manifest or spec file is missing, unreadable or does not match its schema. */
export class ConfigError extends CohortError {
  static override readonly name = 'ConfigError'
  constructor(message: string) {
    super(message, 'COHORT_CONFIG_INVALID')
  }
}
