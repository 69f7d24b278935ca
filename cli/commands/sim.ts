import type { Command } from 'commander'
import { loadScenario, parseParamValue } from '../../configs/scenario.ts'
import { CohortError } from '../../crypto/cohort-error.ts'
import { writeSynthetic } from '../../simulations/data/write-synthetic.ts'
import { SimJobFailedError } from '../../simulations/errors.ts'
import type { SimReport } from '../../simulations/report/report.ts'
import { headline } from '../../simulations/report/report-html.ts'
import { writeReport } from '../../simulations/report/write-report.ts'
import { runScenario } from '../../simulations/run-scenario.ts'
import type { SimProgress } from '../../simulations/run-scenario.ts'
import { parseSweepParam, runSweep } from '../../simulations/sweep.ts'
import { action, printJson } from '../action.ts'

/**
 * `cohort sim …`: multi-party simulations (docs/simulations.md).
 *
 *   cohort sim run SCENARIO --out DIR [--seed N] [--set key=value]... [--screenshot] [--json]
 *   cohort sim sweep SCENARIO --param dp.epsilon=0.5,1,2,4,inf --out DIR [--seed N] [--set key=value]...
 *   cohort sim synth --out DIR [--rows N] [--parties P] [--segments K] [--features F] [--seed N]
 *
 * Progress goes to stderr (a bar on a terminal, a line per round otherwise); the summary to stdout.
 */

const usage = (m: string) => new CohortError(m, 'COHORT_USAGE')

function int(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw usage(`--${name} must be an integer in [${min}, ${max}], got "${v}"`)
  return n
}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isFinite(n)) throw usage(`--${name} must be a number, got "${v}"`)
  return n
}

const collect = (v: string, all: string[]) => [...all, v]

/** `--set key=value` pairs (and `--seed`) as scenario overrides. */
function overrides(sets: readonly string[], seed: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const s of sets) {
    const i = s.indexOf('=')
    if (i <= 0) throw usage(`--set must look like key=value, got "${s}"`)
    out[s.slice(0, i)] = parseParamValue(s.slice(i + 1))
  }
  const n = int('seed', seed, 0, 2 ** 31 - 1)
  if (n !== undefined) out.seed = n
  return out
}

/** A progress display on stderr: a redrawn bar on a terminal, plain lines otherwise. */
function progressPrinter(quiet: boolean): { on: (e: SimProgress) => void; done: () => void } {
  const tty = process.stderr.isTTY === true
  let drawn = false
  const line = (s: string) => {
    if (tty) {
      process.stderr.write(`\r\x1b[2K${s}`)
      drawn = true
    } else process.stderr.write(`${s}\n`)
  }
  return {
    on(e) {
      if (quiet) return
      if (e.kind === 'stage') line(`${e.stage}${e.detail === undefined ? '' : `: ${e.detail}`}`)
      else if (e.kind === 'node') {
        if (tty || e.done === e.total) line(`federation: ${e.done}/${e.total} nodes ready`)
      } else {
        const width = 30
        const filled = Math.round((e.round / e.rounds) * width)
        const m = ['auc', 'ks', 'logloss', 'inertia']
          .filter((k) => e.metrics[k] !== undefined)
          .map((k) => `${k} ${e.metrics[k]!.toFixed(4)}`)
          .join(', ')
        line(
          `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] round ${e.round}/${e.rounds}  ${m}  (${e.survivors} in the sum${e.dropped > 0 ? `, ${e.dropped} dropped` : ''}${e.discarded ? ', DISCARDED' : ''})`
        )
      }
    },
    done() {
      if (tty && drawn) process.stderr.write('\n')
    }
  }
}

function summary(r: SimReport, files: string[]): string {
  const { key } = headline(r.model.kind)
  const f = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(4))
  const local = Object.entries(r.baselines.localOnly)
  const eps = Object.values(r.privacy.perParty).map((p) => p.epsilon)
  const fired = new Map<string, number>()
  for (const x of r.faults) fired.set(x.kind, (fired.get(x.kind) ?? 0) + 1)
  const dp = r.mode.dp === 'none' ? 'no DP' : `DP ε = ${r.mode.dp.epsilon ?? '–'}`
  return [
    `${r.scenario.name}: ${r.job.status} ${r.job.roundsCompleted}/${r.model.rounds} rounds in ${(r.timing.wallMs / 1000).toFixed(1)} s (${r.parties.length} parties, ${r.mode.secureAggregation}, ${dp}, ${r.mode.transport})`,
    ...(r.job.error === undefined ? [] : [`  error: ${r.job.error.message} [${r.job.error.code}]`]),
    ...r.job.nodeFailures
      .slice(0, 3)
      .map(
        (x) =>
          `  ${x.party} failed ${x.request}${x.round === null ? '' : ` (round ${x.round})`}: ${x.reason} [${x.code}]`
      ),
    `  test ${key} ${f(r.metrics.test[key])}  centralized ${f(r.baselines.centralized?.[key])}${
      local.length === 0
        ? ''
        : `  local-only ${local.length <= 5 ? local.map(([, m]) => f(m[key])).join(' / ') : `${f(Math.min(...local.map(([, m]) => m[key] ?? Number.NaN)))} … ${f(Math.max(...local.map(([, m]) => m[key] ?? Number.NaN)))}`}`
    }`,
    `  ε spent: ${eps.every((e) => e === null) ? 'n/a (no DP)' : `max ${Math.max(...eps.map((e) => e ?? 0)).toFixed(4)} at δ = ${r.privacy.target?.delta}`}`,
    `  bytes: ${r.comm.bytesTotal.toLocaleString('en-US')}; faults fired: ${fired.size === 0 ? 'none' : [...fired].map(([k, n]) => `${n} ${k}`).join(', ')}${r.sanityCheck.discardedRounds.length > 0 ? `; rounds discarded: ${r.sanityCheck.discardedRounds.join(', ')}` : ''}`,
    `  wrote ${files.join(', ')}`
  ].join('\n')
}

/**
 * `cohort sim ...`: multi-party simulations.
 * @example
 * register(new Command('cohort'))
 */
export function register(program: Command): void {
  const sim = program
    .command('sim')
    .description('multi-party simulations: scenarios, faults, baselines and reports')

  sim
    .command('run')
    .description(
      'run a scenario (coordinator and N parties in one process) and write report.json and report.html'
    )
    .argument('<scenario>', 'scenario file (YAML or JSON; see docs/simulations.md)')
    .requiredOption('--out <dir>', 'output directory')
    .option('--seed <n>', "seed (overrides the scenario's)")
    .option('--set <key=value>', 'override a scenario key, e.g. model.rounds=5 (repeatable)', collect, [])
    .option('--screenshot', 'render the report headless (Chromium) and save report.png next to it')
    .option('--quiet', 'no progress output')
    .option('--json', 'print the report paths and headline figures as JSON')
    .action(
      action(
        async (
          file: string,
          o: {
            out: string
            seed?: string
            set: string[]
            screenshot?: boolean
            quiet?: boolean
            json?: boolean
          }
        ) => {
          const scenario = loadScenario(file, overrides(o.set, o.seed))
          const p = progressPrinter(o.quiet === true || o.json === true)
          let report: SimReport
          try {
            report = await runScenario(scenario, { onProgress: p.on })
          } finally {
            p.done()
          }
          const written = await writeReport(o.out, report, { screenshot: o.screenshot === true })
          const files = [
            written.json,
            written.html,
            ...(written.screenshot === undefined ? [] : [written.screenshot])
          ]
          if (o.json === true)
            printJson({
              status: report.job.status,
              files,
              rounds: report.job.roundsCompleted,
              test: report.metrics.test,
              centralized: report.baselines.centralized,
              bytesTotal: report.comm.bytesTotal
            })
          else process.stdout.write(`${summary(report, files)}\n`)
          if (report.job.status !== 'completed')
            throw new SimJobFailedError(
              `the simulated job ${report.job.status}${report.job.error === undefined ? '' : `: ${report.job.error.message} [${report.job.error.code}]`} (report written to ${o.out})`
            )
        }
      )
    )

  sim
    .command('sweep')
    .description('run a scenario over a grid of parameter values and write a utility table and chart')
    .argument('<scenario>', 'scenario file')
    .requiredOption(
      '--param <key=v1,v2,...>',
      'parameter and values, e.g. dp.epsilon=0.5,1,2,4,inf (repeat for a grid)',
      collect,
      []
    )
    .requiredOption('--out <dir>', 'output directory')
    .option('--seed <n>', "seed (overrides the scenario's)")
    .option('--set <key=value>', 'override a scenario key for every run (repeatable)', collect, [])
    .option('--quiet', 'no progress output')
    .option('--json', 'print sweep.json to stdout')
    .action(
      action(
        async (
          file: string,
          o: { param: string[]; out: string; seed?: string; set: string[]; quiet?: boolean; json?: boolean }
        ) => {
          const params = o.param.map((p) => parseSweepParam(p, parseParamValue))
          const p = progressPrinter(o.quiet === true || o.json === true)
          const quiet = o.quiet === true || o.json === true
          let result: Awaited<ReturnType<typeof runSweep>>
          try {
            result = await runSweep(file, params, o.out, {
              overrides: overrides(o.set, o.seed),
              onPoint: (i, n, label) => {
                if (!quiet) {
                  p.done()
                  process.stderr.write(`run ${i}/${n}: ${label}\n`)
                }
              },
              onProgress: p.on
            })
          } finally {
            p.done()
          }
          if (o.json === true) {
            printJson(result)
            return
          }
          const m = result.metric
          const lines = result.points.map(
            (x) =>
              `  ${x.label.padEnd(28)} ${m} ${x.metrics[m] === undefined ? '–     ' : x.metrics[m]!.toFixed(4)}  ε spent ${x.epsilonSpent === null ? 'n/a' : x.epsilonSpent.toFixed(3)}  ${x.status}`
          )
          const c = result.baselines.centralized?.[m]
          process.stdout.write(
            `${result.scenario}: ${result.points.length} runs\n${lines.join('\n')}\n${c === undefined ? '' : `  ${'centralized'.padEnd(28)} ${m} ${c.toFixed(4)}\n`}  wrote ${o.out}/sweep.json, sweep.md, sweep.html\n`
          )
        }
      )
    )

  sim
    .command('synth')
    .description(
      'write a synthetic dataset (segments + logistic risk label), its spec, partitions and a scenario'
    )
    .requiredOption('--out <dir>', 'output directory')
    .option('--rows <n>', 'rows', '10000')
    .option('--parties <n>', 'parties of the partition files', '10')
    .option('--segments <k>', 'customer segments', '4')
    .option('--features <n>', 'numeric features', '8')
    .option('--positive-rate <r>', 'share of label 1', '0.2')
    .option('--seed <n>', 'seed', '1')
    .option('--json', 'print what was written as JSON')
    .action(
      action(
        async (o: {
          out: string
          rows: string
          parties: string
          segments: string
          features: string
          positiveRate: string
          seed: string
          json?: boolean
        }) => {
          const w = await writeSynthetic(o.out, {
            rows: int('rows', o.rows, 10, 10_000_000)!,
            parties: int('parties', o.parties, 1, 1000)!,
            segments: int('segments', o.segments, 1, 32)!,
            features: int('features', o.features, 2, 64)!,
            positiveRate: num('positive-rate', o.positiveRate)!,
            seed: int('seed', o.seed, 0, 2 ** 31 - 1)!
          })
          if (o.json === true) printJson(w)
          else
            process.stdout.write(
              `wrote ${w.rows} rows (${(w.positiveRate * 100).toFixed(1)} % positive) for ${w.parties} parties to ${w.dir}\n  run it: cohort sim run ${w.scenario} --out ${w.dir}/report\n`
            )
        }
      )
    )
}
