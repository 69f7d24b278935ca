import { readFile, stat } from 'node:fs/promises'
import { isAbsolute } from 'node:path'
import { Hono } from 'hono'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { describeDataset, listDatasets } from '../../data/dataset-store.ts'
import { DatasetSpecError } from '../../data/errors.ts'
import { importDataset } from '../../data/import.ts'
import type { DatasetSchema } from '../../data/schema.ts'
import { parseDatasetSpec } from '../../data/spec.ts'
import { ADMIN_ACTOR } from '../context.ts'
import type { AdminContext } from '../context.ts'
import { UnsupportedMediaTypeError } from '../errors.ts'
import { queryParams } from '../middleware/validate.ts'

/** Largest spec file the API reads (the shared datasets' full spec.json files are ~16 KiB). */
export const MAX_SPEC_FILE_BYTES = 1024 * 1024

const ImportQuery = z.object({
  /** Absolute path, on the node's host, of the spec (`.json`, `.yaml`, `.yml`). */
  spec: z
    .string()
    .refine(isAbsolute, 'must be an absolute path on the node host')
    .refine((p) => /\.(json|ya?ml)$/i.test(p), 'must name a .json, .yaml or .yml file'),
  replace: z
    .enum(['1', '0', 'true', 'false'])
    .default('0')
    .transform((v) => v === '1' || v === 'true')
})

/**
 * Reads a spec file for an import. Unlike `loadDatasetSpec`, a file that does not parse is reported
 * without quoting its contents (JSON.parse messages do), and only a regular file of bounded size is
 * read, so the `spec` parameter cannot be used to peek at other files on the node host.
 */
async function readSpecFile(path: string): Promise<DatasetSchema> {
  let text: string
  try {
    // stat first: opening a FIFO or a device for reading could block or never end.
    const info = await stat(path)
    if (!info.isFile()) throw new DatasetSpecError(`the dataset spec at ${path} is not a regular file`)
    if (info.size > MAX_SPEC_FILE_BYTES) {
      throw new DatasetSpecError(`the dataset spec at ${path} is larger than ${MAX_SPEC_FILE_BYTES} bytes`)
    }
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (err instanceof DatasetSpecError) throw err
    const code = (err as NodeJS.ErrnoException).code ?? 'error'
    throw new DatasetSpecError(`cannot read the dataset spec at ${path} on the node host (${code})`)
  }
  const yaml = /\.ya?ml$/i.test(path)
  let value: unknown
  try {
    value = yaml ? parseYaml(text) : JSON.parse(text)
  } catch {
    throw new DatasetSpecError(`the dataset spec at ${path} is not valid ${yaml ? 'YAML' : 'JSON'}`)
  }
  return parseDatasetSpec(value, `the dataset spec at ${path}`)
}

const CSV_MEDIA_TYPE = 'text/csv'

async function* noBytes(): AsyncGenerator<Uint8Array> {}

/**
 * `GET /` lists datasets; `GET /:name` describes one (row count, split sizes, per-column
 * statistics; 404 `COHORT_DATASET_NOT_FOUND`); `POST /:name?spec=<path>[&replace=1]` imports the
 * request body as CSV (`Content-Type: text/csv`), streamed straight into the validating importer.
 * The spec is a file on the node host. All rows are imported or none: an invalid CSV is 400
 * `COHORT_DATASET_INVALID` with the validation report in `error.details`; an existing name without
 * `replace=1` is 409 `COHORT_DATASET_EXISTS`. 201 for a new dataset, 200 for a replaced one.
 *
 * @example
 * app.route('/v1/datasets', datasetsRoutes(ctx))
 */
export function datasetsRoutes(ctx: AdminContext): Hono {
  const { home } = ctx
  return new Hono()
    .get('/', async (c) => c.json({ datasets: await listDatasets(home.store) }))
    .get('/:name', async (c) => c.json(await describeDataset(home.store, c.req.param('name'))))
    .post('/:name', queryParams(ImportQuery), async (c) => {
      const media = (c.req.header('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase()
      if (media !== CSV_MEDIA_TYPE) {
        throw new UnsupportedMediaTypeError(
          `send the dataset as the request body with Content-Type: text/csv, not ${media === '' ? 'no Content-Type' : media}`
        )
      }
      const { spec, replace } = c.req.valid('query')
      const schema = await readSpecFile(spec)
      const { manifest, replaced } = await importDataset(home, {
        name: c.req.param('name'),
        schema,
        csv: c.req.raw.body ?? noBytes(),
        replace,
        actor: ADMIN_ACTOR,
        signal: c.req.raw.signal
      })
      const dataset = {
        name: manifest.name,
        rows: manifest.rows,
        generation: manifest.generation,
        importedAt: new Date(manifest.importedAt).toISOString(),
        source: manifest.source
      }
      return c.json({ dataset, replaced }, replaced === null ? 201 : 200)
    })
}
