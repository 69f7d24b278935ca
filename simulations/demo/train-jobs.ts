import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { coordinatorClient } from '../../coordinator/api/client.ts'
import type { CoordinatorClient } from '../../coordinator/api/client.ts'
import { CohortError } from '../../crypto/cohort-error.ts'
import type { AdminClient } from './admin-client.ts'

/**
 * Metrics the demo prints. k-means shows the held-out test inertia (comparable with the centralized
 * baseline it prints); under DP the training inertia is the noised fit release and can even be negative.
 */
export const SHOWN = ['auc', 'ks', 'accuracy', 'logloss', 'testInertia']

/** Printed name of a metric. */
export function label(metric: string): string {
  return metric === 'testInertia' ? 'test inertia' : metric
}

export interface DemoJob {
  /** Job file (YAML/JSON) under configs/examples. */
  file: string
  title: string
}

export interface JobOutcome {
  title: string
  jobId: string
  status: string
  metrics: Record<string, number>
  rounds: number
  declined: Array<{ org: string; reason: string }>
}

/** Reads `--- round N: auc 0.81 ...` lines off the job's event stream until it ends. */
async function follow(client: CoordinatorClient, jobId: string, log: (line: string) => void): Promise<void> {
  for await (const e of client.events(jobId)) {
    if (e.event === 'round') {
      const r = e.data.round
      const m = Object.entries(r.metrics)
        .filter(([k]) => SHOWN.includes(k))
        .map(([k, v]) => `${label(k)} ${v.toFixed(4)}`)
        .join('  ')
      const drop = r.dropped.length > 0 ? `  dropped ${r.dropped.length}` : ''
      log(
        `      round ${String(r.round).padStart(2)}/${e.data.job.rounds}  ${m}  (${r.survivors.length} parties, ${Math.round(r.timings.total ?? 0)} ms)${drop}`
      )
    }
    if (e.event === 'end') return
  }
}

/** Submits each job to the coordinator, follows it round by round and returns the outcomes. */
export async function runDemoJobs(
  endpoint: { url: string; token: string },
  jobs: readonly DemoJob[],
  log: (line: string) => void
): Promise<JobOutcome[]> {
  const client = coordinatorClient(endpoint.url, endpoint.token)
  const out: JobOutcome[] = []
  for (const job of jobs) {
    const text = readFileSync(job.file, 'utf8')
    const view = await client.submit(
      text,
      /\.ya?ml$/.test(job.file) ? 'application/yaml' : 'application/json'
    )
    log(`    ${job.title}: job ${view.id}`)
    await follow(client, view.id, log)
    const done = await client.get(view.id)
    const declined = done.declined
    for (const d of declined) log(`      ${d.org} declined: ${d.reason}`)
    if (done.status !== 'completed') {
      throw new CohortError(
        `demo job "${job.title}" ended ${done.status}: ${done.error?.message ?? ''}`,
        'COHORT_DEMO_JOB_FAILED'
      )
    }
    out.push({
      title: job.title,
      jobId: view.id,
      status: done.status,
      metrics: done.metrics ?? {},
      rounds: done.round,
      declined
    })
  }
  return out
}

/** Prints each node's privacy ledger through its admin API. */
export async function printBudgets(
  nodes: Array<{ org: string; api?: AdminClient }>,
  log: (line: string) => void
): Promise<void> {
  for (const n of nodes) {
    const { scopes } = await n.api!.get<{
      scopes: Array<{
        scope: { dataset: string }
        cap: { epsilon: number; delta: number }
        spent: { epsilon: number }
        exhausted: boolean
      }>
    }>('/v1/budget')
    for (const s of scopes) {
      log(
        `    ${n.org.padEnd(26)} ${s.scope.dataset}: spent epsilon ${s.spent.epsilon.toFixed(3)} of ${s.cap.epsilon} (delta ${s.cap.delta}), remaining headroom ${(s.cap.epsilon - s.spent.epsilon).toFixed(3)}${s.exhausted ? ', EXHAUSTED' : ''}`
      )
    }
  }
}

/** The dataset's scikit-learn reference numbers, printed beside the federated ones. */
export function baselineLines(datasetDir: string): string[] {
  const b = JSON.parse(readFileSync(join(datasetDir, 'baselines.json'), 'utf8')) as {
    logistic_regression: {
      centralized: { test_auc: number }
      local_only: { horizontal_natural: { parties: Record<string, { test_auc: number }> } }
    }
    kmeans_numeric_only: { results: Record<string, { inertia_test: number }> }
  }
  const local = Object.entries(b.logistic_regression.local_only.horizontal_natural.parties)
    .map(([org, p]) => `${org} ${p.test_auc.toFixed(3)}`)
    .join(', ')
  return [
    `    centralized logistic regression (all rows pooled, no privacy): test AUC ${b.logistic_regression.centralized.test_auc.toFixed(3)}`,
    `    each lender alone (local-only):                                test AUC ${local}`,
    `    centralized k-means k=4 on the 9 numeric features (no privacy):  test inertia ${b.kmeans_numeric_only.results['4']!.inertia_test.toFixed(0)}`
  ]
}
