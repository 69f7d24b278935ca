import type { Command } from 'commander'
import { describeDataset, listDatasets } from '../../node/data/dataset-store.ts'
import { DatasetInvalidError, formatReport } from '../../node/data/errors.ts'
import { importDataset } from '../../node/data/import.ts'
import { loadDatasetSpec } from '../../node/data/spec.ts'
import { openNodeHome } from '../../node/home.ts'
import type { NodeHome } from '../../node/home.ts'
import { action, printJson } from '../action.ts'

async function withHome<T>(dir: string, fn: (home: NodeHome) => Promise<T>): Promise<T> {
  const home = await openNodeHome(dir)
  try {
    return await fn(home)
  } finally {
    await home.close()
  }
}

/**
 * `cohort data import|list|describe`: datasets of a (stopped) node directory.
 *
 * @example
 * cohort data import --dir ./acme --name credit --csv datasets/credit_data/data.csv --spec datasets/credit_data/spec.json
 */
export function register(program: Command): void {
  const data = program
    .command('data')
    .description("import, list and describe a node's datasets (docs/datasets.md)")

  data
    .command('import')
    .description('validate a CSV against a spec and import all of its rows, or none')
    .requiredOption('--dir <dir>', 'node directory (node must be stopped)')
    .requiredOption('--name <name>', 'dataset name (letters, digits, . _ -)')
    .requiredOption('--csv <file>', 'CSV file: header line, "," separator, empty field = missing, no quoting')
    .requiredOption('--spec <file>', 'spec.json (full format) or a minimal spec (.json/.yaml)')
    .option('--replace', 'replace an existing dataset of that name (audit-logged as dataset-replaced)')
    .action(
      action(async (o: { dir: string; name: string; csv: string; spec: string; replace?: boolean }) => {
        const schema = loadDatasetSpec(o.spec)
        await withHome(o.dir, async (home) => {
          const started = Date.now()
          try {
            const { manifest, replaced } = await importDataset(home, {
              name: o.name,
              schema,
              csv: o.csv,
              replace: o.replace === true,
              actor: 'cli',
              onProgress: ({ lines, bytes }) => {
                process.stderr.write(
                  `importing ${o.name}: ${lines} rows read (${(bytes / 1048576).toFixed(1)} MB)\n`
                )
              }
            })
            printJson({
              name: manifest.name,
              rows: manifest.rows,
              columns: manifest.schema.columns.length,
              generation: manifest.generation,
              sha256: manifest.source.sha256,
              replaced,
              seconds: (Date.now() - started) / 1000
            })
          } catch (err) {
            if (err instanceof DatasetInvalidError) {
              for (const line of formatReport(err.report)) process.stderr.write(`${line}\n`)
            }
            throw err
          }
        })
      })
    )

  data
    .command('list')
    .description('list the datasets of a node')
    .requiredOption('--dir <dir>', 'node directory (node must be stopped)')
    .action(
      action(async (o: { dir: string }) => {
        await withHome(o.dir, async (home) => {
          const rows = await listDatasets(home.store)
          printJson(rows.map((d) => ({ ...d, importedAt: new Date(d.importedAt).toISOString() })))
        })
      })
    )

  data
    .command('describe')
    .description('row count, split sizes and per-column statistics of a dataset')
    .requiredOption('--dir <dir>', 'node directory (node must be stopped)')
    .requiredOption('--name <name>', 'dataset name')
    .action(
      action(async (o: { dir: string; name: string }) => {
        await withHome(o.dir, async (home) => printJson(await describeDataset(home.store, o.name)))
      })
    )
}
