import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import type { CoordinatorClient } from '../../coordinator/api/client.ts'
import { jobFileMediaType } from '../../coordinator/api/job-file.ts'
import type { JobView } from '../../coordinator/api/views.ts'
import type { RoundRecord } from '../../coordinator/jobs/types.ts'
import { CohortError } from '../../crypto/cohort-error.ts'
import { action, printJson } from '../action.ts'
import { clientFor, withTarget } from '../coordinator-target.ts'
import type { TargetOptions } from '../coordinator-target.ts'

const num = (v: number) =>
  Number.isInteger(v) ? String(v) : Math.abs(v) >= 1000 ? v.toFixed(1) : v.toPrecision(4)

/** The metrics people read, in this order; the rest (counts, norms) only with `--json`. */
const HEADLINE = ['auc', 'ks', 'accuracy', 'logloss', 'inertia', 'testInertia', 'silhouette']

/**
 * The headline metrics of a round or a job on one line.
 *
 * @example
 * formatMetrics({ auc: 0.81234, logloss: 0.4512, n: 891 }) // 'auc 0.8123  logloss 0.4512'
 */
export function formatMetrics(metrics: Record<string, number> | undefined): string {
  const m = metrics ?? {}
  const keys = HEADLINE.filter((k) => m[k] !== undefined)
  return (keys.length > 0 ? keys : Object.keys(m)).map((k) => `${k} ${num(m[k]!)}`).join('  ')
}

/**
 * One progress line per completed round.
 *
 * @example
 * formatRound(round, 20) // 'round  3/20  auc 0.8123  logloss 0.4512  nodes 3/3  2.1 s'
 */
export function formatRound(r: RoundRecord, total: number): string {
  const width = String(total).length
  const head = `round ${String(r.round).padStart(width)}/${total}`
  if (r.discarded !== undefined) return `${head}  discarded: ${r.discarded.reason} [${r.discarded.code}]`
  const nodes = `nodes ${r.survivors.length}/${r.participants.length}`
  const secs = r.timings.total === undefined ? '' : `  ${(r.timings.total / 1000).toFixed(1)} s`
  return `${head}  ${formatMetrics(r.metrics)}  ${nodes}${secs}`.replace(/ {3,}/g, '  ')
}

function describeJob(job: JobView): string[] {
  const dp = job.config.dp === 'none' ? 'no DP' : `DP ${job.config.dp.mode}-level`
  const lines = [
    `job ${job.id} (${job.config.name}): ${job.status}, round ${job.round}/${job.rounds}`,
    `  model ${job.config.model.kind}, ${job.config.secureAggregation}, ${dp}, dataset ${job.config.data.dataset}`,
    `  created ${job.createdAt}, updated ${job.updatedAt}`
  ]
  if (job.participants.length > 0)
    lines.push(`  participants: ${job.participants.map((p) => p.org).join(', ')}`)
  for (const d of job.declined) lines.push(`  ${d.org} declined (round ${d.round}): ${d.reason} [${d.code}]`)
  if (job.metrics !== undefined) lines.push(`  metrics: ${formatMetrics(job.metrics)}`)
  if (job.error !== undefined) lines.push(`  error: ${job.error.message} [${job.error.code}]`)
  return lines
}

function endOf(job: JobView): void {
  if (job.status === 'completed') return
  if (job.status === 'cancelled') throw new CohortError(`job ${job.id} was cancelled`, 'COHORT_JOB_CANCELLED')
  throw new CohortError(
    `job ${job.id} failed: ${job.error?.message ?? 'no reason recorded'}`,
    job.error?.code ?? 'COHORT_JOB_FAILED'
  )
}

/** Prints a job's progress until it ends; a failed or cancelled job is a non-zero exit. */
async function follow(client: CoordinatorClient, id: string, json: boolean): Promise<void> {
  const out = (line: string) => process.stdout.write(`${line}\n`)
  const ac = new AbortController()
  const onSignal = () => ac.abort()
  process.once('SIGINT', onSignal)
  const declined = new Set<string>()
  let last: JobView | undefined
  try {
    for await (const e of client.events(id, { signal: ac.signal })) {
      if (json) {
        out(JSON.stringify(e))
      } else if (e.event === 'round') {
        out(formatRound(e.data.round, e.data.job.rounds))
      } else {
        const job = e.data
        if (last === undefined || job.status !== last.status)
          out(`job ${job.id} (${job.config.name}): ${job.status}`)
        for (const d of job.declined) {
          const key = `${d.org}:${d.round}`
          if (declined.has(key)) continue
          declined.add(key)
          out(`  ${d.org} declined (round ${d.round}): ${d.reason} [${d.code}]`)
        }
        if (e.event === 'end' && job.status === 'completed')
          out(`final metrics: ${formatMetrics(job.metrics)}`)
      }
      last = e.data as JobView
      if (e.event === 'end') return endOf(e.data)
    }
  } catch (err) {
    if (ac.signal.aborted) return
    throw err
  } finally {
    process.off('SIGINT', onSignal)
  }
  if (!ac.signal.aborted)
    throw new CohortError(
      `the coordinator closed the event stream of job ${id} early`,
      'COHORT_COORDINATOR_UNREACHABLE'
    )
}

/** `cohort job submit|list|status|follow|cancel`. */
export function register(program: Command): void {
  const job = program.command('job').description('submit and watch training jobs on a coordinator')

  withTarget(
    job
      .command('submit <file>')
      .description('submit a job file (JSON or YAML; see docs/jobs.md); prints the job id')
      .option('--follow', 'then print progress per round until the job ends')
      .option('--json', 'print JSON')
  ).action(
    action(async (file: string, o: TargetOptions & { follow?: boolean; json?: boolean }) => {
      let text: string
      try {
        text = readFileSync(file, 'utf8')
      } catch (err) {
        throw new CohortError(
          `cannot read job file ${file} (${(err as NodeJS.ErrnoException).code})`,
          'COHORT_USAGE'
        )
      }
      const client = clientFor(o)
      const submitted = await client.submit(text, jobFileMediaType(file))
      if (o.json === true && o.follow !== true) return printJson(submitted)
      if (o.json !== true)
        process.stdout.write(
          `submitted job ${submitted.id} (${submitted.config.name}): ${describeSubmitted(submitted.config, submitted.rounds)}\n`
        )
      if (o.follow === true) await follow(client, submitted.id, o.json === true)
    })
  )

  withTarget(
    job
      .command('list')
      .description('list jobs, newest first')
      .option('--status <list>', 'only these statuses (comma-separated)')
      .option('--json', 'print JSON')
  ).action(
    action(async (o: TargetOptions & { status?: string; json?: boolean }) => {
      const jobs = await clientFor(o).list(o.status?.split(','))
      if (o.json === true) return printJson(jobs)
      for (const j of jobs)
        process.stdout.write(
          `${j.id}  ${j.status.padEnd(9)}  ${String(j.round).padStart(4)}/${j.rounds}  ${j.config.model.kind.padEnd(6)}  ${j.config.name}\n`
        )
    })
  )

  withTarget(
    job
      .command('status <id>')
      .description("a job's state, participants, refusals and per-round metrics")
      .option('--json', 'print JSON')
  ).action(
    action(async (id: string, o: TargetOptions & { json?: boolean }) => {
      const client = clientFor(o)
      const j = await client.get(id)
      const rounds = await client.rounds(id)
      if (o.json === true) return printJson({ job: j, rounds })
      const lines = describeJob(j)
      if (rounds.length > 0) lines.push('  rounds:', ...rounds.map((r) => `    ${formatRound(r, j.rounds)}`))
      process.stdout.write(`${lines.join('\n')}\n`)
    })
  )

  withTarget(
    job
      .command('follow <id>')
      .description('print progress per round until the job ends (exit 1 if it fails or is cancelled)')
      .option('--json', 'print one JSON event per line')
  ).action(
    action(async (id: string, o: TargetOptions & { json?: boolean }) => {
      await follow(clientFor(o), id, o.json === true)
    })
  )

  withTarget(
    job.command('cancel <id>').description('cancel a pending or running job').option('--json', 'print JSON')
  ).action(
    action(async (id: string, o: TargetOptions & { json?: boolean }) => {
      const j = await clientFor(o).cancel(id)
      if (o.json === true) return printJson(j)
      process.stdout.write(`job ${j.id} ${j.status} after ${j.round} round(s)\n`)
    })
  )
}

/** `logreg, 20 rounds`; a vertical job says what its rounds are (epochs, or Lloyd iterations). */
function describeSubmitted(config: { model: { kind: string }; vertical?: unknown }, rounds: number): string {
  if (config.vertical === undefined) return `${config.model.kind}, ${rounds} rounds`
  return `vertical ${config.model.kind}, ${rounds} ${config.model.kind === 'kmeans' ? 'iterations' : 'epochs'}`
}
