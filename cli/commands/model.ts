import { createHash } from 'node:crypto'
import { existsSync, renameSync, writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import type { ModelRecord } from '../../coordinator/jobs/types.ts'
import { CohortError } from '../../crypto/cohort-error.ts'
import { action, printJson } from '../action.ts'
import { clientFor, withTarget } from '../coordinator-target.ts'
import type { TargetOptions } from '../coordinator-target.ts'
import { formatMetrics } from './job.ts'

/** The format tag of `cohort model export` files. */
export const MODEL_EXPORT_FORMAT = 'cohort-model/v1'

function version(v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n < 1)
    throw new CohortError(`--version must be a positive integer, got "${v}"`, 'COHORT_USAGE')
  return n
}

/** Decodes and checks a model's parameters against its SHA-256. */
function paramsOf(model: ModelRecord): Float64Array {
  const bytes = Buffer.from(model.params, 'base64')
  const digest = createHash('sha256').update(bytes).digest('hex')
  if (digest !== model.sha256 || bytes.length % 8 !== 0)
    throw new CohortError(
      `model ${model.jobId} v${model.version}: the parameters do not match their SHA-256; do not use this copy`,
      'COHORT_MODEL_CORRUPT'
    )
  return new Float64Array(new Uint8Array(bytes).buffer)
}

/** `cohort model list|show|export`. */
export function register(program: Command): void {
  const model = program.command('model').description('models published by completed jobs')

  withTarget(
    model
      .command('list')
      .description('published models, newest first')
      .option('--job <id>', 'only this job')
      .option('--json', 'print JSON')
  ).action(
    action(async (o: TargetOptions & { job?: string; json?: boolean }) => {
      const models = await clientFor(o).models(o.job)
      if (o.json === true) return printJson(models)
      for (const m of models)
        process.stdout.write(
          `${m.jobId}  v${m.version}  ${m.kind.padEnd(6)}  ${String(m.paramCount).padStart(7)} params  ${formatMetrics(m.metrics)}\n`
        )
    })
  )

  withTarget(
    model
      .command('show <jobId>')
      .description("a model's kind, layout, metrics and hash (not its parameters)")
      .option('--version <n>', 'model version (default: the latest)')
      .option('--json', 'print JSON')
  ).action(
    action(async (jobId: string, o: TargetOptions & { version?: string; json?: boolean }) => {
      const m = await clientFor(o).model(jobId, version(o.version))
      const params = paramsOf(m)
      const { params: _omit, ...rest } = m
      const view = { ...rest, paramCount: params.length }
      if (o.json === true) return printJson(view)
      process.stdout.write(
        `model of job ${m.jobId}, version ${m.version}: ${m.kind}, ${params.length} parameters\n` +
          `  descriptor: ${JSON.stringify(m.descriptor)}\n` +
          `  metrics:    ${formatMetrics(m.metrics)}\n` +
          `  sha256:     ${m.sha256}\n` +
          `  created:    ${m.createdAt}\n`
      )
    })
  )

  withTarget(
    model
      .command('export <jobId>')
      .description('write a model (descriptor, parameters, metrics, hash) to a JSON file')
      .requiredOption('--out <file>', 'output file')
      .option('--version <n>', 'model version (default: the latest)')
      .option('--numbers', 'write the parameters as a JSON number array instead of base64')
      .option('--force', 'overwrite an existing file')
  ).action(
    action(
      async (
        jobId: string,
        o: TargetOptions & { out: string; version?: string; numbers?: boolean; force?: boolean }
      ) => {
        if (existsSync(o.out) && o.force !== true)
          throw new CohortError(`${o.out} exists; pass --force to overwrite it`, 'COHORT_OUTPUT_EXISTS')
        const m = await clientFor(o).model(jobId, version(o.version))
        const params = paramsOf(m)
        const doc = {
          format: MODEL_EXPORT_FORMAT,
          jobId: m.jobId,
          version: m.version,
          kind: m.kind,
          descriptor: m.descriptor,
          metrics: m.metrics,
          createdAt: m.createdAt,
          sha256: m.sha256,
          /** base64 of little-endian float64 values, or the numbers themselves with --numbers. */
          params: o.numbers === true ? Array.from(params) : m.params
        }
        const tmp = `${o.out}.tmp-${process.pid}`
        writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`)
        renameSync(tmp, o.out)
        process.stdout.write(
          `wrote model ${m.jobId} v${m.version} (${params.length} parameters) to ${o.out}\n`
        )
      }
    )
  )
}
