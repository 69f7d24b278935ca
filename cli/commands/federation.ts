import type { Command } from 'commander'
import { MEMBER_ROLES } from '../../configs/federation.ts'
import type { MemberRole } from '../../configs/federation.ts'
import { CohortError } from '../../crypto/cohort-error.ts'
import { addMember, readManifest } from '../../platform/federation/manifest.ts'
import { action, printJson } from '../action.ts'

function parseRoles(value: string): MemberRole[] {
  const roles = value.split(',').map((r) => r.trim())
  for (const r of roles) {
    if (!(MEMBER_ROLES as readonly string[]).includes(r)) {
      throw new CohortError(`unknown role "${r}"; roles are ${MEMBER_ROLES.join(', ')}`, 'COHORT_USAGE')
    }
  }
  return roles as MemberRole[]
}

export function register(program: Command): void {
  const fed = program
    .command('federation')
    .description('build and inspect the federation manifest (who may connect)')

  fed
    .command('add-member')
    .description('add a member (org, peer id, addresses, roles) to a manifest, creating it if needed')
    .requiredOption('--file <path>', 'manifest file (.json or .yaml)')
    .requiredOption('--org <name>', 'organisation name, unique in the federation')
    .requiredOption('--peer-id <id>', 'the member node\'s libp2p peer id (from "cohort node init")')
    .option('--multiaddr <addr...>', 'addresses other members dial, e.g. /ip4/10.0.0.5/tcp/4001')
    .option('--roles <list>', `comma-separated: ${MEMBER_ROLES.join(', ')}`, 'node')
    .option('--federation <name>', 'federation name when creating a new manifest', 'cohort-federation')
    .option('--replace', 'replace an existing member with the same org or peer id')
    .option(
      '--he-key <fingerprint>',
      'key-holders: the HE public-key fingerprint "cohort node he-key" prints'
    )
    .action(
      action(
        (o: {
          file: string
          org: string
          peerId: string
          multiaddr?: string[]
          roles: string
          federation: string
          replace?: boolean
          heKey?: string
        }) => {
          const manifest = addMember(
            o.file,
            {
              org: o.org,
              peerId: o.peerId,
              multiaddrs: o.multiaddr ?? [],
              roles: parseRoles(o.roles),
              ...(o.heKey === undefined ? {} : { heKeyFingerprint: o.heKey })
            },
            { federation: o.federation, replace: o.replace === true }
          )
          process.stdout.write(
            `${o.file}: ${manifest.members.length} member(s) in federation ${manifest.federation}\n`
          )
        }
      )
    )

  fed
    .command('show')
    .description('validate and print a manifest')
    .requiredOption('--file <path>', 'manifest file (.json or .yaml)')
    .option('--json', 'print JSON')
    .action(
      action((o: { file: string; json?: boolean }) => {
        const m = readManifest(o.file)
        if (o.json === true) return printJson(m)
        process.stdout.write(`federation ${m.federation} (${m.members.length} members)\n`)
        for (const member of m.members) {
          process.stdout.write(
            `  ${member.org.padEnd(16)} ${member.roles.join(',').padEnd(22)} ${member.peerId}\n`
          )
          for (const a of member.multiaddrs)
            process.stdout.write(`  ${''.padEnd(16)} ${''.padEnd(22)} ${a}\n`)
        }
      })
    )
}
