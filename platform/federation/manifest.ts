import { existsSync, renameSync, writeFileSync } from 'node:fs'
import { FederationManifest } from '../../configs/federation.ts'
import type { FederationMember, MemberRole } from '../../configs/federation.ts'
import { loadFile, validate } from '../../configs/load.ts'
import { stringify as toYaml } from 'yaml'

/** Reads and validates a manifest file (JSON or YAML by extension). */
export function readManifest(path: string): FederationManifest {
  return loadFile(FederationManifest, path, 'federation manifest')
}

/** Writes a manifest atomically (temp file + rename), in YAML or JSON by extension. */
export function writeManifest(path: string, manifest: FederationManifest): void {
  const checked = validate(FederationManifest, manifest, 'federation manifest')
  const text = /\.ya?ml$/i.test(path) ? toYaml(checked) : `${JSON.stringify(checked, null, 2)}\n`
  const tmp = `${path}.tmp-${process.pid}`
  writeFileSync(tmp, text)
  renameSync(tmp, path)
}

/**
 * Adds (or, with `replace`, updates) a member, creating the manifest when the file does not exist.
 * The result is validated, so duplicate peer ids or orgs are refused with a clear message.
 */
export function addMember(
  path: string,
  member: {
    org: string
    peerId: string
    multiaddrs?: string[]
    roles: MemberRole[]
    heKeyFingerprint?: string
  },
  opts: { federation?: string; replace?: boolean } = {}
): FederationManifest {
  const manifest: FederationManifest = existsSync(path)
    ? readManifest(path)
    : { federation: opts.federation ?? 'cohort-federation', version: 1, members: [] }
  const entry: FederationMember = {
    org: member.org,
    peerId: member.peerId,
    multiaddrs: member.multiaddrs ?? [],
    roles: member.roles,
    ...(member.heKeyFingerprint === undefined ? {} : { heKeyFingerprint: member.heKeyFingerprint })
  }
  const others =
    opts.replace === true
      ? manifest.members.filter((m) => m.org !== member.org && m.peerId !== member.peerId)
      : manifest.members
  const next = { ...manifest, members: [...others, entry] }
  writeManifest(path, next)
  return next
}

/** The member with this peer id, if any. */
export function findMember(manifest: FederationManifest, peerId: string): FederationMember | undefined {
  return manifest.members.find((m) => m.peerId === peerId)
}
