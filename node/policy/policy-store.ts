import { NodePolicy } from '../../configs/node-config.ts'
import { validate } from '../../configs/load.ts'
import type { AuditLog } from '../../platform/audit/audit-log.ts'
import type { NodeStore } from '../../platform/storage/db.ts'

const POLICY_KEY = 'node'

/**
 * The data owner's policy. The config file holds the initial policy; once changed through the CLI
 * or admin API the stored copy wins, and every change is written in one batch with its audit entry.
 */
export async function readPolicy(store: NodeStore, fallback: NodePolicy): Promise<NodePolicy> {
  const stored = await store.policy.get(POLICY_KEY)
  return stored === undefined ? fallback : validate(NodePolicy, stored, 'stored policy')
}

/** Validates and stores a new policy with a `policy-changed` audit entry (old and new values). */
export async function writePolicy(
  store: NodeStore,
  audit: AuditLog,
  current: NodePolicy,
  next: unknown,
  actor: string
): Promise<NodePolicy> {
  const policy = validate(NodePolicy, next, 'policy')
  await audit.append(
    'policy-changed',
    { before: current, after: policy },
    {
      actor,
      with: [{ type: 'put', sublevel: store.policy, key: POLICY_KEY, value: policy }]
    }
  )
  return policy
}
