import type { FederationManifest } from '../../configs/federation.ts'
import type { JobConfig } from '../../configs/job.ts'
import { JobInvalidError } from '../errors.ts'
import type { JobRecord } from '../jobs/types.ts'

// Lowercase base32 without look-alikes (no l, o, 0, 1): ids are typed by people.
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789'

/**
 * A new job id, `job-YYYYMMDD-xxxxxxxx`: the date for people, 40 random bits so ids do not collide.
 *
 * @example
 * newJobId(new Date('2025-01-02')) // 'job-20250102-k3m9x2qa'
 */
export function newJobId(now: Date = new Date()): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8))
  let suffix = ''
  for (const b of bytes) suffix += ALPHABET[b & 31]
  const day = now.toISOString().slice(0, 10).replaceAll('-', '')
  return `job-${day}-${suffix}`
}

/**
 * The record of a just-submitted job: `pending`, no rounds yet.
 *
 * @example
 * const job = newJobRecord(config) // { id: 'job-…', status: 'pending', round: 0, … }
 */
export function newJobRecord(config: JobConfig, now: Date = new Date()): JobRecord {
  const at = now.toISOString()
  return {
    id: newJobId(now),
    config,
    status: 'pending',
    createdAt: at,
    updatedAt: at,
    round: 0,
    participants: [],
    declined: []
  }
}

/**
 * Checks a (schema-valid) job against the federation it would run in: named participants and
 * per-org overrides must be `node` members, there must be at least `minParticipants` of them, and
 * homomorphic aggregation needs a `keyholder`. Node policies are checked later, by each node.
 * Returns the participating orgs.
 *
 * @example
 * const orgs = checkJobAgainstFederation(config, manifest) // ['bank-a', 'bank-b', 'bank-c']
 */
export function checkJobAgainstFederation(config: JobConfig, manifest: FederationManifest): string[] {
  const nodes = manifest.members.filter((m) => m.roles.includes('node')).map((m) => m.org)
  const known = new Set(nodes)
  const list = (xs: readonly string[]) => (xs.length === 0 ? 'none' : xs.join(', '))
  if (config.participants !== undefined) {
    const unknown = config.participants.filter((o) => !known.has(o))
    if (unknown.length > 0)
      throw new JobInvalidError(
        `participants: ${list(unknown)} ${unknown.length === 1 ? 'is not a node' : 'are not nodes'} of federation ${manifest.federation} (its nodes: ${list(nodes)})`,
        { issues: unknown.map((o) => ({ path: 'participants', message: `unknown node ${o}` })) }
      )
    const dup = config.participants.filter((o, i) => config.participants!.indexOf(o) !== i)
    if (dup.length > 0) throw new JobInvalidError(`participants: ${list(dup)} listed more than once`)
  }
  const orgs = config.participants ?? nodes
  const taking = new Set(orgs)
  const strays = Object.keys(config.nodes).filter((o) => !taking.has(o))
  if (strays.length > 0)
    throw new JobInvalidError(
      `nodes: ${list(strays)} ${strays.length === 1 ? 'does' : 'do'} not take part in this job (participants: ${list(orgs)})`
    )
  if (orgs.length < config.minParticipants)
    throw new JobInvalidError(
      `minParticipants is ${config.minParticipants} but only ${orgs.length} node${orgs.length === 1 ? '' : 's'} would take part (${list(orgs)}); lower minParticipants or add nodes`
    )
  if (config.secureAggregation === 'he' && !manifest.members.some((m) => m.roles.includes('keyholder')))
    throw new JobInvalidError(
      `secureAggregation "he" needs a member with role keyholder in federation ${manifest.federation}; use "secagg+" or add a keyholder`
    )
  return orgs
}
