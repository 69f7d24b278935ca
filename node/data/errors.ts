import { CohortError } from '../../crypto/cohort-error.ts'

/**
 * One problem found while validating a CSV: where (1-based file line, header = 1), which column, what. */
export interface ValidationIssue {
  line: number
  /**
   * Column name, or null when the problem concerns the whole line. */
  column: string | null
  /**
   * The offending field as read (truncated to 80 characters), or null. */
  value: string | null
  reason: string
}

/**
 * The first issues (at most `limit`) and the total number found. */
export interface ValidationReport {
  issues: ValidationIssue[]
  total: number
  limit: number
}

/**
 * Formats one issue as `line N, column C: value "V": reason` (the CLI's report line).
 *
 * @example
 * formatIssue({ line: 7, column: 'Age', value: '12abc', reason: 'not a number' })
 * // 'line 7, column Age: value "12abc": not a number'
 */
export function formatIssue(issue: ValidationIssue): string {
  let out = `line ${issue.line}`
  if (issue.column !== null) out += `, column ${issue.column}`
  if (issue.value !== null) out += `: value "${issue.value}"`
  return `${out}: ${issue.reason}`
}

/**
 * Formats a whole report: one line per kept issue, then `N errors in total`.
 *
 * @example
 * formatReport(err.report).forEach((l) => process.stderr.write(`${l}\n`))
 */
export function formatReport(report: ValidationReport): string[] {
  const lines = report.issues.map(formatIssue)
  const more = report.total > report.issues.length ? ` (first ${report.issues.length} shown)` : ''
  lines.push(`${report.total} error${report.total === 1 ? '' : 's'} in total${more}`)
  return lines
}

/**
 * The CSV does not match its spec; nothing was stored. `report` says where and why.
 *
 * @example
 * if (err instanceof DatasetInvalidError) for (const l of formatReport(err.report)) console.error(l)
 */
export class DatasetInvalidError extends CohortError {
  static override readonly name = 'DatasetInvalidError'
  readonly report: ValidationReport
  constructor(message: string, report: ValidationReport) {
    super(message, 'COHORT_DATASET_INVALID')
    this.report = report
  }
}

/**
 * A dataset spec (spec.json or the minimal format) is unreadable or inconsistent.
 *
 * @example
 * throw new DatasetSpecError('the dataset spec at spec.json is invalid: columns: required')
 */
export class DatasetSpecError extends CohortError {
  static override readonly name = 'DatasetSpecError'
  constructor(message: string) {
    super(message, 'COHORT_DATASET_SPEC_INVALID')
  }
}

/**
 * A dataset of that name exists and the import did not ask to replace it.
 *
 * @example
 * throw new DatasetExistsError('dataset "credit" exists; pass replace to overwrite it')
 */
export class DatasetExistsError extends CohortError {
  static override readonly name = 'DatasetExistsError'
  constructor(message: string) {
    super(message, 'COHORT_DATASET_EXISTS')
  }
}

/**
 * No dataset of that name is stored.
 *
 * @example
 * throw new DatasetNotFoundError('no dataset named "credit"')
 */
export class DatasetNotFoundError extends CohortError {
  static override readonly name = 'DatasetNotFoundError'
  constructor(message: string) {
    super(message, 'COHORT_DATASET_NOT_FOUND')
  }
}

/** Another import of the same dataset name is running in this process.
 *
 * @example
 * throw new DatasetBusyError('an import of dataset "credit" is already running')
 */
export class DatasetBusyError extends CohortError {
  static override readonly name = 'DatasetBusyError'
  constructor(message: string) {
    super(message, 'COHORT_DATASET_BUSY')
  }
}

/** A dataset name is not usable: 1–64 characters from `A-Z a-z 0-9 . _ -`, starting with a letter or digit.
 *
 * @example
 * throw new DatasetNameError('dataset name "a!b" is not allowed')
 */
export class DatasetNameError extends CohortError {
  static override readonly name = 'DatasetNameError'
  constructor(message: string) {
    super(message, 'COHORT_DATASET_NAME_INVALID')
  }
}

/** Stored rows or a manifest are unreadable (corruption or a format this version does not know).
 *
 * @example
 * throw new DatasetStorageError('a stored row chunk is unreadable')
 */
export class DatasetStorageError extends CohortError {
  static override readonly name = 'DatasetStorageError'
  constructor(message: string) {
    super(message, 'COHORT_DATASET_STORAGE')
  }
}

/** Preprocessing cannot run: statistics missing or of the wrong size, or a needed column not read.
 *
 * @example
 * throw new PreprocessError('no imputation value for column Age')
 */
export class PreprocessError extends CohortError {
  static override readonly name = 'PreprocessError'
  constructor(message: string) {
    super(message, 'COHORT_DATASET_PREPROCESS')
  }
}

/**
 * The CSV file cannot be read (missing, a directory, no permission, an I/O error).
 *
 * @example
 * throw new DatasetSourceError('cannot read the CSV at data.csv (ENOENT)')
 */
export class DatasetSourceError extends CohortError {
  static override readonly name = 'DatasetSourceError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'COHORT_DATASET_SOURCE', options)
  }
}
