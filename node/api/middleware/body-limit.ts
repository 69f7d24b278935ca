/** Moved to `platform/api/middleware/body-limit.ts` (shared with the coordinator's API). */
export { bodyLimit, limitStream } from '../../../platform/api/middleware/body-limit.ts'
export type { BodyLimitOptions } from '../../../platform/api/middleware/body-limit.ts'
