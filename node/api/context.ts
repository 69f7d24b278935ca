import type { NodeHome } from '../home.ts'
import type { CohortNode } from '../node.ts'

/**
 * What the admin API serves: an opened node directory and, when the node is running, its libp2p
 * host. Without `node`, routes that need the network answer `COHORT_NODE_NOT_RUNNING`.
 *
 * @example
 * const ctx: AdminContext = { home: await openNodeHome(dir) }
 */
export interface AdminContext {
  readonly home: NodeHome
  readonly node?: CohortNode
  /**
   * Where unexpected (500) errors are reported, one line each, with the stack.
   * @default writes to stderr
   */
  readonly log?: (line: string) => void
}

/** The actor recorded in audit entries caused by admin API calls. */
export const ADMIN_ACTOR = 'admin-api'
