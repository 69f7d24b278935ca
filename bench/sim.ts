/**
 * `npm run bench -- sim [--scenario FILE] [--parties N] [--rows R] [--rounds K] [--dropout F]
 * [--neighbours K|full] [--json]`
 *
 * Runs a whole simulation (simulations/run-scenario.ts: the real job runner, node participants and
 * SecAgg+ over the loopback transport, baselines, report) and prints its wall time and the process's
 * peak RSS. Default: configs/scenarios/synthetic-scale.yaml — 100 parties, 200,000 synthetic rows,
 * logistic regression, SecAgg+ with 10 % random dropouts per round, 10 rounds. Targets (issue 6,
 * acceptance 3): under 5 minutes and under 4 GB peak RSS on the 2-core machine.
 */
import { join } from 'node:path'
import { loadScenario } from '../configs/scenario.ts'
import { runScenario } from '../simulations/run-scenario.ts'
import { flag, report } from './_report.ts'

/**
 * Runs the bench.
 * @example
 * await main(['--parties', '50', '--json'])
 */
export async function main(argv: string[]): Promise<void> {
  const file = flag(argv, 'scenario', join(import.meta.dirname, '../configs/scenarios/synthetic-scale.yaml'))
  const over: Record<string, unknown> = {}
  const set = (name: string, key: string, parse: (v: string) => unknown) => {
    const v = flag(argv, name, '')
    if (v !== '') over[key] = parse(v)
  }
  set('parties', 'partition.parties', Number)
  set('rows', 'dataset.synthetic.rows', Number)
  set('rounds', 'model.rounds', Number)
  set('dropout', 'faults', (v) => [{ dropoutRate: Number(v) }])
  set('neighbours', 'secagg.neighbours', (v) => (v === 'full' ? 'full' : Number(v)))
  const scenario = loadScenario(file, over)
  const t0 = performance.now()
  const r = await runScenario(scenario, {
    onProgress: (e) => {
      if (e.kind === 'round' && !argv.includes('--json')) {
        process.stderr.write(
          `  round ${e.round}/${e.rounds}: ${e.survivors} in the sum, ${e.dropped} dropped\n`
        )
      }
    }
  })
  const wallMs = performance.now() - t0
  const peakRssMb = process.resourceUsage().maxRSS / 1024
  const dropouts = r.faults.filter((f) => f.kind === 'dropout').length
  report(
    'sim',
    {
      scenario: r.scenario.name,
      parties: r.parties.length,
      rows: r.dataset.rows,
      rounds: r.job.roundsCompleted,
      status: r.job.status,
      dropouts,
      testAuc: r.metrics.test.auc ?? Number.NaN,
      centralizedAuc: r.baselines.centralized?.auc ?? Number.NaN,
      bytesTotal: r.comm.bytesTotal,
      setupS: r.timing.setupMs / 1000,
      trainingS: r.timing.jobMs / 1000,
      baselinesS: r.timing.baselinesMs / 1000,
      wallS: wallMs / 1000,
      peakRssMb,
      underFiveMinutes: wallMs < 300_000,
      underFourGb: peakRssMb < 4096
    },
    argv
  )
  if (r.job.status !== 'completed') process.exitCode = 1
}
