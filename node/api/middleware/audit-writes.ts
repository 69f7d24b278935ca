/** Moved to `platform/api/middleware/audit-writes.ts` (shared with the coordinator's API). */
export { auditWrites } from '../../../platform/api/middleware/audit-writes.ts'
export type { AuditWritesOptions } from '../../../platform/api/middleware/audit-writes.ts'
