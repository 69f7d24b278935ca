import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import { CohortError } from '../../crypto/cohort-error.ts'
import { createPsiPool } from '../../crypto/psi/psi-pool.ts'
import { fileChunks, readLines } from '../../node/data/csv-reader.ts'
import { createLocalPsiParties } from '../../node/runners/psi-local.ts'
import type { PsiReveal } from '../../protocols/psi/plan.ts'
import { createLoopbackNetwork } from '../../simulations/loopback-transport.ts'
import { action, printJson } from '../action.ts'

/**
 * `cohort psi …`: private set intersection (protocols/psi).
 *
 *   cohort psi run --partition FILE.json | --party NAME=FILE.csv ... [--id-column uid]
 *                  [--size-only NAME,...] [--batch N] [--workers N] [--job-id ID] [--out FILE.json]
 *
 * A dev/driver command: every party runs the real PSI runner in this process over the loopback
 * transport (the first party leads). Ids come from a partition file (`{ "party": ["id", ...] }`, e.g.
 * datasets/credit_data/partitions/vertical_overlap.json) or from one CSV per party (header line,
 * comma-separated, no quoting; the `--id-column` field). Prints the counts each party learned;
 * `--out` writes each intersection-learning party's aligned index (dataset row numbers, common
 * order) as JSON. Over libp2p, nodes call `registerPsiParty(...).lead(...)` (node/runners/psi-party.ts).
 */

/** Raw commander options. @example psiRun({ partition: 'p.json' } satisfies RawOptions) */
export type RawOptions = Record<string, unknown>

function usage(message: string): CohortError {
  return new CohortError(message, 'COHORT_USAGE')
}

/**
 * Reads the `column` field of every data line of a CSV file (header line first; no quoting).
 *
 * @example
 * const ids = await readCsvColumn('datasets/credit_data/data.csv', 'uid')
 */
export async function readCsvColumn(path: string, column: string): Promise<string[]> {
  if (!existsSync(path)) throw usage(`no such file: ${path}`)
  const decoder = new TextDecoder()
  const out: string[] = []
  let index = -1
  for await (const b of readLines(fileChunks(path))) {
    for (let i = 0; i < b.count; i++) {
      const line = decoder.decode(b.bytes.subarray(b.starts[i], b.ends[i]))
      const fields = line.split(',')
      if (index < 0) {
        index = fields.indexOf(column)
        if (index < 0) throw usage(`${path} has no column "${column}"`)
        continue
      }
      if (line.length === 0) continue
      const v = fields[index]
      if (v === undefined || v === '') throw usage(`${path} line ${b.firstLine + i}: empty ${column}`)
      out.push(v)
    }
  }
  return out
}

async function partiesFrom(raw: RawOptions): Promise<Array<{ name: string; ids: string[] }>> {
  const column = typeof raw.idColumn === 'string' ? raw.idColumn : 'uid'
  if (typeof raw.partition === 'string') {
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(raw.partition, 'utf8'))
    } catch (err) {
      throw usage(`cannot read partition file ${raw.partition}: ${(err as Error).message}`)
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw usage('a partition file maps party names to id arrays')
    return Object.entries(parsed as Record<string, unknown>).map(([name, ids]) => {
      if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string'))
        throw usage(`partition entry ${name} is not a list of ids`)
      return { name, ids: ids as string[] }
    })
  }
  const specs = Array.isArray(raw.party) ? (raw.party as string[]) : []
  if (specs.length === 0) throw usage('give --partition FILE or at least two --party NAME=FILE.csv')
  return Promise.all(
    specs.map(async (s) => {
      const at = s.indexOf('=')
      if (at <= 0) throw usage(`--party needs NAME=FILE.csv, got ${s}`)
      return { name: s.slice(0, at), ids: await readCsvColumn(s.slice(at + 1), column) }
    })
  )
}

/**
 * `cohort psi run`: runs one PSI session over loopback and returns what each party learned.
 *
 * @throws CohortError COHORT_USAGE on bad flags; the session's own errors (COHORT_PSI_*)
 * @example
 * await psiRun({ partition: 'datasets/credit_data/partitions/vertical_overlap.json' })
 * // { intersectionSize: 2762, parties: [...], wallMs: ... }
 */
export async function psiRun(raw: RawOptions): Promise<Record<string, unknown>> {
  const parties = await partiesFrom(raw)
  if (parties.length < 2) throw usage('PSI needs at least two parties')
  const sizeOnly = new Set(typeof raw.sizeOnly === 'string' ? raw.sizeOnly.split(',').filter(Boolean) : [])
  for (const n of sizeOnly)
    if (!parties.some((p) => p.name === n)) throw usage(`--size-only names unknown party ${n}`)
  const batch = raw.batch === undefined ? undefined : Number(raw.batch)
  if (batch !== undefined && !(Number.isInteger(batch) && batch >= 1))
    throw usage('--batch must be a positive integer')
  const workers = raw.workers === undefined ? undefined : Number(raw.workers)
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1))
    throw usage('--workers must be a positive integer')
  const net = createLoopbackNetwork()
  const pool = createPsiPool(workers === undefined ? {} : { size: workers })
  const local = await createLocalPsiParties({
    parties: parties.map((p) => ({
      name: p.name,
      ids: p.ids,
      reveal: (sizeOnly.has(p.name) ? 'size' : 'intersection') as PsiReveal
    })),
    transportFor: (peer) => net.transport(peer),
    pool
  })
  try {
    const started = performance.now()
    const results = await local.run({
      jobId: typeof raw.jobId === 'string' ? raw.jobId : 'psi-dev',
      ...(batch === undefined ? {} : { batchPoints: batch })
    })
    const wallMs = Math.round(performance.now() - started)
    if (typeof raw.out === 'string') {
      const index: Record<string, number[]> = {}
      for (const [name, r] of results) if (r.index !== undefined) index[name] = Array.from(r.index)
      writeFileSync(raw.out, `${JSON.stringify(index)}\n`)
    }
    const leader = results.get(parties[0]!.name)!
    return {
      intersectionSize: leader.intersectionSize,
      wallMs,
      parties: parties.map((p) => {
        const r = results.get(p.name)!
        return {
          name: p.name,
          role: r.role,
          learned: r.learned,
          ids: p.ids.length,
          setSize: r.setSizes[r.parties.indexOf(local.parties.find((x) => x.name === p.name)!.peerId)],
          indexRows: r.index?.length ?? 0
        }
      })
    }
  } finally {
    await local.close()
    await pool.close()
  }
}

/**
 * Adds the `psi` group to `program`.
 *
 * @example
 * register(program) // cohort psi run ...
 */
export function register(program: Command): void {
  const psi = program.command('psi').description('private set intersection (ECDH-PSI, RFC 9380 hashing)')
  psi
    .command('run')
    .description('run a PSI session over the in-process loopback transport (dev/driver)')
    .option('--partition <file>', 'JSON file mapping party names to id lists')
    .option(
      '--party <name=file.csv>',
      'a party and its CSV file (repeatable)',
      (v: string, acc: string[] = []) => [...acc, v]
    )
    .option('--id-column <name>', 'id column of the CSV files', 'uid')
    .option('--size-only <names>', 'comma-separated parties that learn only the intersection size')
    .option('--batch <n>', 'points per batch')
    .option('--workers <n>', 'worker threads for the curve work')
    .option('--job-id <id>', 'job id recorded with the result', 'psi-dev')
    .option('--out <file>', 'write each party’s aligned index (row numbers) as JSON')
    .action(
      action(async (opts: RawOptions) => {
        printJson(await psiRun(opts))
      })
    )
}
