/**
 * `npm run bench -- train [--rounds K] [--epochs E] [--batch B] [--json]`
 *
 * Wall time per training round on lending_club (9,857 rows, 119 features), split into local
 * training, secure aggregation and evaluation, for 3 parties (the natural split) and 10 parties
 * (IID), through the real job runner, node participants and SecAgg+ over the loopback transport
 * (simulations/run-scenario.ts; local-only baselines are skipped). Issue 5, acceptance 7: secure
 * aggregation should add less than the local training time per round.
 *
 * What each figure is (medians over the rounds):
 * - `train_ms`: the fit requests, from sending them to the last `ready`: every node's local training
 *   (the scenario's logistic regression, `--epochs` local epochs at batch `--batch`, defaults 1 and
 *   64, learning rate 0.1), quantisation and stashing of its update;
 * - `secagg_ms`: the SecAgg+ round over the updates (all five phases, unmasking included), and
 *   `secagg.<phase>_ms` per phase;
 * - `eval_ms`: evaluating the new model: `eval_compute_ms` (scoring the test rows into score
 *   histograms, 1,000 bins per class) plus `eval_secagg_ms` (their SecAgg+ round);
 * - `cpu.*_ms`: this process's CPU time for the same parts. All parties and the coordinator run in
 *   this one process, so each figure is the sum over the parties of their work; CPU time is the
 *   steadier figure when other work shares the machine (`load_avg` is the 1-minute load when the
 *   bench started);
 * - `secagg_below_train` (wall) and `secagg_below_train_cpu`: the acceptance check, per party count.
 */
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { loadScenario } from '../configs/scenario.ts'
import { runScenario } from '../simulations/run-scenario.ts'
import { flag, report } from './_report.ts'

const PHASES = ['advertise-keys', 'share-keys', 'masked-input', 'consistency-check', 'unmask'] as const

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  return s.length === 0 ? Number.NaN : s[Math.floor(s.length / 2)]!
}

const round1 = (x: number) => Math.round(x * 10) / 10

/** Bench entry point. */
export async function main(argv: string[]): Promise<void> {
  const rounds = Number(flag(argv, 'rounds', '10'))
  const epochs = Number(flag(argv, 'epochs', '1'))
  const batch = Number(flag(argv, 'batch', '64'))
  const file = join(import.meta.dirname, '../configs/scenarios/lending-club-natural.yaml')
  const figures: Record<string, number | boolean | string> = {
    dataset: 'lending_club',
    model: 'logreg',
    rounds,
    local_epochs: epochs,
    batch_size: batch,
    learning_rate: 0.1,
    eval_bins: 1000,
    load_avg: round1(loadavg()[0]!)
  }
  let ok = true
  for (const [label, over] of [
    ['p3', {}],
    ['p10', { partition: { kind: 'iid', parties: 10 } }]
  ] as const) {
    const scenario = loadScenario(file, {
      'model.rounds': rounds,
      'model.localEpochs': epochs,
      'model.batchSize': batch,
      'model.learningRate': 0.1,
      ...over
    })
    const r = await runScenario(scenario, { baselines: { centralized: null, localOnly: {} } })
    const per = (key: string) => round1(median(r.rounds.map((x) => x.timing[key] ?? Number.NaN)))
    const secagg = per('secagg')
    const train = per('train')
    const cpuTrain = per('cpu.train')
    const cpuSecagg = per('cpu.secagg')
    Object.assign(figures, {
      [`${label}.parties`]: r.parties.length,
      [`${label}.train_ms`]: train,
      [`${label}.secagg_ms`]: secagg,
      [`${label}.eval_ms`]: per('eval'),
      [`${label}.eval_compute_ms`]: per('evalCompute'),
      [`${label}.eval_secagg_ms`]: per('evalSecagg'),
      [`${label}.round_ms`]: per('total'),
      [`${label}.cpu.train_ms`]: cpuTrain,
      [`${label}.cpu.secagg_ms`]: cpuSecagg,
      [`${label}.cpu.eval_ms`]: per('cpu.eval'),
      ...Object.fromEntries(PHASES.map((p) => [`${label}.secagg.${p}_ms`, per(`secagg.${p}`)])),
      [`${label}.test_auc`]: r.metrics.test.auc ?? Number.NaN,
      [`${label}.federated_auc`]: r.metrics.federated.auc ?? Number.NaN,
      [`${label}.federated_ks`]: r.metrics.federated.ks ?? Number.NaN,
      [`${label}.secagg_below_train`]: secagg < train,
      [`${label}.secagg_below_train_cpu`]: cpuSecagg < cpuTrain
    })
    ok &&= r.job.status === 'completed'
  }
  report('train', figures, argv)
  if (!ok) process.exitCode = 1
}
