import { existsSync, renameSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { CohortError } from '../../crypto/cohort-error.ts'
import { openNodeHome } from '../../node/home.ts'
import { action, printJson } from '../action.ts'

/** `cohort score`: local scoring with a published model; nothing leaves the node. */
export function register(program: Command): void {
  program
    .command('score')
    .description(
      'score every customer of a local dataset with a model published to this node (risk and/or segment); writes a local CSV, nothing leaves the node'
    )
    .requiredOption('--dir <dir>', 'node directory (the node must be stopped: scoring opens its store)')
    .requiredOption(
      '--model <jobId...>',
      'job id(s) of the published model(s): a classifier adds risk, k-means adds segment'
    )
    .option('--dataset <name>', 'local dataset to score (default: the one the model was trained on)')
    .requiredOption('--out <file>', 'output CSV: id,risk|segment,… (mode 0600)')
    .option('--force', 'overwrite an existing output file')
    .option('--json', 'print a JSON summary')
    .action(
      action(
        async (o: {
          dir: string
          model: string[]
          dataset?: string
          out: string
          force?: boolean
          json?: boolean
        }) => {
          const out = resolve(o.out)
          if (existsSync(out) && o.force !== true)
            throw new CohortError(`${out} exists; pass --force to overwrite it`, 'COHORT_OUTPUT_EXISTS')
          // Loaded here, not at the top: scoring pulls in the trainers (tfjs), other commands do not need them.
          const { scoreDataset, writeScoresCsv } = await import('../../node/jobs/score.ts')
          const home = await openNodeHome(o.dir)
          const tmp = `${out}.tmp-${process.pid}`
          try {
            const result = await scoreDataset(home.store, o.model, o.dataset)
            const rows = await writeScoresCsv(tmp, result)
            renameSync(tmp, out)
            const columns = result.columns.map((c) => ({ name: c.name, model: c.model }))
            await home.audit.append(
              'dataset-scored',
              {
                dataset: result.dataset,
                models: columns.map((c) => c.model),
                rows,
                columns: columns.map((c) => c.name),
                out
              },
              { actor: 'cli' }
            )
            if (o.json === true) return printJson({ dataset: result.dataset, rows, columns, out })
            process.stdout.write(
              `scored ${rows} rows of ${result.dataset} with ${columns.map((c) => `${c.model} (${c.name})`).join(', ')} -> ${out}\n`
            )
          } finally {
            rmSync(tmp, { force: true })
            await home.close()
          }
        }
      )
    )
}
