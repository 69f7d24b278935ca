import { CohortError } from '../../crypto/cohort-error.ts'

/** The audit log failed verification; `seq` names the first bad entry (or the head). */
export class AuditVerificationError extends CohortError {
  static override readonly name = 'AuditVerificationError'
  readonly seq: number | undefined
  constructor(message: string, seq?: number) {
    super(message, 'COHORT_AUDIT_INVALID')
    this.seq = seq
  }
}

/** An audit export file is malformed or of an unknown format. */
export class AuditExportFormatError extends CohortError {
  static override readonly name = 'AuditExportFormatError'
  constructor(message: string) {
    super(message, 'COHORT_AUDIT_EXPORT_FORMAT')
  }
}
