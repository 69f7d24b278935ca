/**
 * The admin API's server is the shared `platform/api/server.ts` (the coordinator serves its API the
 * same way); these names stay for the node's callers.
 */
export { isLoopbackHost, serveApi as serveAdminApi } from '../../platform/api/server.ts'
export type { ApiServer as AdminServer, ServeInit } from '../../platform/api/server.ts'
