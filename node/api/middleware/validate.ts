/** Moved to `platform/api/middleware/validate.ts` (shared with the coordinator's API). */
export { jsonBody, pathParams, queryParams } from '../../../platform/api/middleware/validate.ts'
export type { RequestIssue } from '../../../platform/api/middleware/validate.ts'
