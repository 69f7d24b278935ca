import { resolve } from 'node:path'
import type { Command } from 'commander'
import { CohortError } from '../../crypto/cohort-error.ts'
import { runLocalFederationDemo } from '../../simulations/demo/local-federation.ts'
import { action } from '../action.ts'
import { label, SHOWN } from '../../simulations/demo/train-jobs.ts'

const REPO = resolve(import.meta.dirname, '../..')

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'run the embedded demo federation: a coordinator and company nodes on 127.0.0.1 as separate processes'
    )
    .option('--dir <dir>', 'working directory (wiped first)', resolve(REPO, '.cohort-demo'))
    .option('--dataset <dir>', 'vendored dataset folder', resolve(REPO, 'datasets/credit_data'))
    .option('--nodes <n>', 'number of company nodes (parties of the natural partition)', '3')
    .option('--no-train', 'only start, connect, import and verify (no coordinator, no jobs)')
    .action(
      action(async (o: { dir: string; dataset: string; nodes: string; train: boolean }) => {
        const nodes = Number(o.nodes)
        if (!Number.isInteger(nodes) || nodes < 2 || nodes > 3) {
          throw new CohortError('--nodes must be 2 or 3', 'COHORT_USAGE')
        }
        if (o.train && nodes < 3)
          throw new CohortError('training needs --nodes 3 (the jobs ask for 3 participants)', 'COHORT_USAGE')
        const started = Date.now()
        const log = (line: string) => {
          process.stdout.write(`${line}\n`)
        }
        log('Cohort demo: a local federation of lenders training a shared risk model and segmentation')
        const jobs = o.train
          ? [
              {
                file: resolve(REPO, 'configs/examples/logreg-credit-dp.yaml'),
                title: 'risk model (logistic regression, DP-SGD, epsilon 1)'
              },
              {
                file: resolve(REPO, 'configs/examples/kmeans-credit-dp.yaml'),
                title: 'segmentation (k-means k=4, DP, epsilon 1)'
              }
            ]
          : []
        const r = await runLocalFederationDemo({
          dir: o.dir,
          dataset: o.dataset,
          nodes,
          cli: [process.execPath, process.argv[1]!],
          jobs,
          epsilonCap: 2.5,
          log
        })
        log('')
        log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
        for (const j of r.jobs) {
          const m = Object.entries(j.metrics)
            .filter(([k]) => SHOWN.includes(k))
            .map(([k, v]) => `${label(k)} ${v.toFixed(4)}`)
            .join('  ')
          log(`  ${j.title}: ${j.rounds} rounds, ${m}`)
        }
        for (const n of r.nodes) {
          log(
            `  ${n.org.padEnd(26)} rows ${String(n.rows).padStart(5)}  audit ${n.auditEntries} entries ${n.auditOk && n.exportOk ? 'verified' : 'INVALID'}`
          )
        }
        if (!r.nodes.every((n) => n.auditOk && n.exportOk)) {
          throw new CohortError('an audit log did not verify', 'COHORT_AUDIT_INVALID')
        }
        log(
          `node directories, logs and audit exports${o.train ? ', and the coordinator,' : ''} are in ${o.dir}`
        )
      })
    )
}
