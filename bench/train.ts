/**
 * `npm run bench -- train [--rounds K] [--json]`
 *
 * Wall time per training round on lending_club (9,857 rows, 119 features), split into local
 * training, secure aggregation and evaluation, for 3 parties (the natural split) and 10 parties
 * (IID), through the real job runner, node participants and SecAgg+ over the loopback transport
 * (simulations/run-scenario.ts). Issue 5, acceptance 7: secure aggregation should add less than the
 * local training time per round.
 */
import { join } from 'node:path'
import { loadScenario } from '../configs/scenario.ts'
import { runScenario } from '../simulations/run-scenario.ts'
import { flag, report } from './_report.ts'

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? Number.NaN : s[Math.floor(s.length / 2)]!
}

export async function main(argv: string[]): Promise<void> {
  const rounds = Number(flag(argv, 'rounds', '5'))
  const file = join(import.meta.dirname, '../configs/scenarios/lending-club-natural.yaml')
  const figures: Record<string, number | boolean | string> = { dataset: 'lending_club', rounds }
  let ok = true
  for (const [label, over] of [
    ['p3', {}],
    ['p10', { partition: { kind: 'iid', parties: 10 } }]
  ] as const) {
    const scenario = loadScenario(file, { 'model.rounds': rounds, ...over })
    const r = await runScenario(scenario)
    const per = (p: string) => median(r.rounds.map((x) => x.timing[p] ?? Number.NaN))
    figures[`${label}.parties`] = r.parties.length
    figures[`${label}.train_ms`] = per('train')
    figures[`${label}.secagg_ms`] = per('secagg')
    figures[`${label}.eval_ms`] = per('eval')
    figures[`${label}.round_ms`] = per('total')
    figures[`${label}.test_auc`] = r.metrics.test.auc ?? Number.NaN
    figures[`${label}.secagg_below_train`] = per('secagg') < per('train')
    ok &&= r.job.status === 'completed'
  }
  report('train', figures, argv)
  if (!ok) process.exitCode = 1
}
