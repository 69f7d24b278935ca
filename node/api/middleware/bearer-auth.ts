/** Moved to `platform/api/middleware/bearer-auth.ts` (shared with the coordinator's API). */
export { bearerAuth } from '../../../platform/api/middleware/bearer-auth.ts'
export type { BearerAuthOptions } from '../../../platform/api/middleware/bearer-auth.ts'
