import { z } from 'zod'

export const MEMBER_ROLES = ['node', 'coordinator', 'keyholder', 'regulator'] as const
export type MemberRole = (typeof MEMBER_ROLES)[number]

/** A libp2p peer id in its base58btc string form (Ed25519 ids start with 12D3KooW). */
export const PeerIdString = z
  .string()
  .regex(/^(12D3KooW|Qm|16Uiu2)[1-9A-HJ-NP-Za-km-z]{20,80}$/, 'not a libp2p peer id')

export const FederationMember = z.object({
  /** Organisation name, unique in the federation. */
  org: z.string().min(1).max(100),
  peerId: PeerIdString,
  multiaddrs: z.array(z.string().startsWith('/')).default([]),
  roles: z.array(z.enum(MEMBER_ROLES)).min(1),
  /**
   * Key-holders only: fingerprint (hex SHA-256, `cohort node he-key`) of the HE public key the
   * federation trusts. Nodes refuse to encrypt under any other key, and a job that pins none uses it.
   */
  heKeyFingerprint: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'heKeyFingerprint must be 64 lowercase hex digits')
    .optional()
})
export type FederationMember = z.infer<typeof FederationMember>

/**
 * The federation manifest: who may talk to whom. The connection gater admits only these peer ids,
 * and later protocols check roles (only a `coordinator` may start a round, only a `keyholder`
 * decrypts HE sums).
 */
export const FederationManifest = z
  .object({
    federation: z.string().min(1).max(100),
    version: z.literal(1).default(1),
    members: z.array(FederationMember)
  })
  .superRefine((m, ctx) => {
    const ids = new Set<string>()
    const orgs = new Set<string>()
    m.members.forEach((member, i) => {
      if (member.heKeyFingerprint !== undefined && !member.roles.includes('keyholder'))
        ctx.addIssue({
          code: 'custom',
          path: ['members', i, 'heKeyFingerprint'],
          message: `${member.org} has an heKeyFingerprint but not the keyholder role`
        })
      if (ids.has(member.peerId))
        ctx.addIssue({
          code: 'custom',
          path: ['members', i, 'peerId'],
          message: `duplicate peer id ${member.peerId}`
        })
      if (orgs.has(member.org))
        ctx.addIssue({ code: 'custom', path: ['members', i, 'org'], message: `duplicate org ${member.org}` })
      ids.add(member.peerId)
      orgs.add(member.org)
    })
  })
export type FederationManifest = z.infer<typeof FederationManifest>
