import { writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import { CohortError } from '../../crypto/cohort-error.ts'
import type { VerifyResult } from '../../platform/audit/chain.ts'
import { exportAudit, verifyAuditExportFile } from '../../platform/audit/export.ts'
import { openNodeHome } from '../../node/home.ts'
import { action, printJson } from '../action.ts'

function reportVerify(what: string, r: VerifyResult, json: boolean): void {
  if (json) printJson(r)
  if (r.ok) {
    if (!json)
      process.stdout.write(
        `${what}: OK, ${r.entries} entries, head ${r.head?.seq ?? '-'} ${r.head?.hash.slice(0, 16) ?? ''}\n`
      )
    return
  }
  const bad = r.firstBad!
  const where = bad.seq === -1 ? 'the signed head' : `entry ${bad.seq}`
  throw new CohortError(`${what} is INVALID at ${where}: ${bad.reason}`, 'COHORT_AUDIT_INVALID')
}

export function register(program: Command): void {
  const audit = program.command('audit').description("inspect, verify and export a node's signed audit log")

  audit
    .command('verify')
    .description('check the hash chain and head signature of a node directory, or of an export file offline')
    .option('--dir <dir>', 'node directory (node must be stopped; use the admin API while it runs)')
    .option('--export <file>', 'verify an exported log offline, with no access to the node')
    .option('--peer-id <id>', "with --export: require the log to be this peer's")
    .option('--json', 'print the verification result as JSON')
    .action(
      action(async (o: { dir?: string; export?: string; peerId?: string; json?: boolean }) => {
        if ((o.dir === undefined) === (o.export === undefined)) {
          throw new CohortError('give exactly one of --dir DIR or --export FILE', 'COHORT_USAGE')
        }
        if (o.export !== undefined) {
          reportVerify(
            `audit export ${o.export}`,
            await verifyAuditExportFile(o.export, o.peerId),
            o.json === true
          )
          return
        }
        const home = await openNodeHome(o.dir!)
        try {
          reportVerify(`audit log of ${home.config.name}`, await home.audit.verify(), o.json === true)
        } finally {
          await home.close()
        }
      })
    )

  audit
    .command('export')
    .description('write a self-contained signed export that verifies offline')
    .requiredOption('--dir <dir>', 'node directory')
    .requiredOption('--out <file>', 'output file')
    .action(
      action(async (o: { dir: string; out: string }) => {
        const home = await openNodeHome(o.dir)
        try {
          const text = await exportAudit(home.store, home.identity)
          writeFileSync(o.out, text)
          const n = (JSON.parse(text) as { entries: unknown[] }).entries.length
          process.stdout.write(
            `exported ${n} entries of ${home.config.name} (${home.identity.peerId}) to ${o.out}\n`
          )
        } finally {
          await home.close()
        }
      })
    )

  audit
    .command('list')
    .description('print audit entries')
    .requiredOption('--dir <dir>', 'node directory')
    .option('--from <seq>', 'first entry', '0')
    .option('--limit <n>', 'at most this many entries', '100')
    .option('--json', 'print JSON')
    .action(
      action(async (o: { dir: string; from: string; limit: string; json?: boolean }) => {
        const home = await openNodeHome(o.dir)
        try {
          const entries = await home.audit.read({ gte: Number(o.from), limit: Number(o.limit) })
          if (o.json === true) return printJson(entries)
          for (const e of entries) {
            process.stdout.write(
              `${String(e.seq).padStart(5)} ${new Date(e.ts).toISOString()} ${e.kind.padEnd(18)} ${e.actor.slice(0, 20).padEnd(20)} ${JSON.stringify(e.body)}\n`
            )
          }
        } finally {
          await home.close()
        }
      })
    )
}
