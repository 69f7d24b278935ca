import { createWriteStream, existsSync, renameSync, rmSync } from 'node:fs'
import { once } from 'node:events'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { CohortError } from '../../crypto/cohort-error.ts'
import { startNode } from '../../node/node.ts'
import { action, printJson } from '../action.ts'

/**
 * `cohort vertical …`: vertical learning at a node (docs/vertical.md). Training runs as a coordinator
 * job (`cohort job submit` with a `vertical:` section); this group holds what a node does itself.
 *
 *   cohort vertical score --dir LABEL_NODE_DIR --model JOB_ID --out scores.csv
 *
 * Federated scoring at the label node: the command starts the node (which must be stopped, as for
 * `cohort score`), connects to the other members, asks each feature node of the job to serve partial
 * scores of the job's PSI-aligned customers, and writes `id,risk` for them (mode 0600). Only this node
 * learns the scores; the feature nodes must be running.
 */

/**
 * Writes `id,risk` lines; returns the row count.
 * @example
 * await writeVerticalScores('/tmp/s.csv', ids, values)
 */
export async function writeVerticalScores(
  path: string,
  ids: readonly string[],
  values: Float64Array
): Promise<number> {
  const w = createWriteStream(path, { mode: 0o600 })
  const line = (s: string) => (w.write(s) ? undefined : once(w, 'drain'))
  await line('id,risk\n')
  for (let i = 0; i < ids.length; i++) await line(`${ids[i]},${values[i]!.toFixed(6)}\n`)
  w.end()
  await once(w, 'finish')
  return ids.length
}

/**
 * Adds the `vertical` group to `program`.
 * @example
 * register(program) // cohort vertical score ...
 */
export function register(program: Command): void {
  const vertical = program
    .command('vertical')
    .description('vertical learning at this node: federated scoring with a vertical model (docs/vertical.md)')
  vertical
    .command('score')
    .description(
      "score the job's PSI-aligned customers with this label node's vertical model; the feature nodes serve partial scores, only this node learns the scores"
    )
    .requiredOption('--dir <dir>', 'the label node directory (the node must be stopped: the command runs it)')
    .requiredOption('--model <jobId>', 'job id of the vertical model')
    .requiredOption('--out <file>', 'output CSV: id,risk (mode 0600)')
    .option('--force', 'overwrite an existing output file')
    .option('--timeout <ms>', 'how long to wait for the feature nodes', '60000')
    .option('--json', 'print a JSON summary')
    .action(
      action(
        async (o: {
          dir: string
          model: string
          out: string
          force?: boolean
          timeout: string
          json?: boolean
        }) => {
          const out = resolve(o.out)
          if (existsSync(out) && o.force !== true)
            throw new CohortError(`${out} exists; pass --force to overwrite it`, 'COHORT_OUTPUT_EXISTS')
          const timeout = Number(o.timeout)
          if (!(Number.isInteger(timeout) && timeout > 0))
            throw new CohortError('--timeout must be a positive integer', 'COHORT_USAGE')
          const node = await startNode(o.dir)
          const tmp = `${out}.tmp-${process.pid}`
          try {
            await node.connectMembers({ signal: AbortSignal.timeout(timeout) })
            const r = await node.participants.vertical.score(o.model, {
              signal: AbortSignal.timeout(timeout)
            })
            const rows = await writeVerticalScores(tmp, r.ids, r.values)
            renameSync(tmp, out)
            if (o.json === true) return printJson({ jobId: r.jobId, dataset: r.dataset, rows, out })
            process.stdout.write(
              `scored ${rows} aligned customers of ${r.dataset} with vertical model ${r.jobId} -> ${out}\n`
            )
          } finally {
            rmSync(tmp, { force: true })
            await node.stop()
          }
        }
      )
    )
}
