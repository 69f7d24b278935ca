import { z } from 'zod'
import { DatasetSpecError } from './errors.ts'
import { featureLayout } from './schema.ts'
import type { DatasetSchema, SplitRule, StoredColumn } from './schema.ts'

/**
 * The full `spec.json` format of the shared datasets (datasets/README.md) and its conversion into a
 * DatasetSchema. Unknown descriptive fields (title, partitions, prose) are ignored.
 */

const FullColumn = z.object({
  name: z.string(),
  encoding: z.enum(['numeric', 'onehot', 'ordinal']),
  levels: z.array(z.string()).optional(),
  impute_value: z.union([z.number(), z.string()]).optional()
})

/**
 * Zod schema of the fields of a full spec.json that import uses.
 *
 * @example
 * FullSpec.safeParse(JSON.parse(readFileSync('datasets/credit_data/spec.json', 'utf8'))).success // true
 */
export const FullSpec = z.object({
  csv: z.object({
    separator: z.literal(',').optional(),
    header: z.literal(true).optional(),
    index_column: z.string().optional(),
    id_column: z.string()
  }),
  n_rows: z.int().nonnegative().optional(),
  target: z.object({ column: z.string(), positive_label: z.string(), levels: z.array(z.string()).min(1) }),
  excluded_columns: z.array(z.object({ name: z.string() })).default([]),
  split: z.object({ rule: z.string() }).optional(),
  columns: z.array(FullColumn).min(1),
  n_features: z.int().optional(),
  features: z.array(z.object({ name: z.string(), mean: z.number(), std: z.number() })).optional(),
  verification: z
    .object({
      z_row0: z.array(z.number()),
      z_row1: z.array(z.number()),
      sum_z_train: z.number(),
      sum_z_test: z.number(),
      sum_abs_z_all: z.number()
    })
    .optional()
})
/** A parsed full spec.json. */
export type FullSpec = z.infer<typeof FullSpec>

const SPLIT_RULE = /^test if (\S+) % (\d+) == (\d+)/

/**
 * Converts a parsed full spec.json into a DatasetSchema (not yet checked: see parseDatasetSpec).
 *
 * @example
 * const schema = fromFullSpec(FullSpec.parse(value), 'spec.json')
 */
export function fromFullSpec(spec: FullSpec, what: string): DatasetSchema {
  const columns: StoredColumn[] = []
  const { id_column: id, index_column: index } = spec.csv
  if (index !== undefined) columns.push({ name: index, kind: 'number', role: 'index' })
  columns.push({ name: id, kind: 'id', role: 'id' })
  for (const c of spec.columns) {
    if (c.encoding === 'numeric') {
      if (c.impute_value !== undefined && typeof c.impute_value !== 'number') {
        throw new DatasetSpecError(`${what}: column ${c.name}: numeric impute_value must be a number`)
      }
      columns.push({ name: c.name, kind: 'number', role: 'feature', impute: c.impute_value })
    } else {
      if (c.levels === undefined)
        throw new DatasetSpecError(`${what}: column ${c.name}: ${c.encoding} needs levels`)
      if (c.impute_value !== undefined && typeof c.impute_value !== 'string') {
        throw new DatasetSpecError(`${what}: column ${c.name}: categorical impute_value must be a level`)
      }
      columns.push({
        name: c.name,
        kind: 'category',
        role: 'feature',
        levels: c.levels,
        encoding: c.encoding,
        impute: c.impute_value
      })
    }
  }
  columns.push({
    name: spec.target.column,
    kind: 'category',
    role: 'target',
    levels: spec.target.levels,
    encoding: 'ordinal'
  })
  let split: SplitRule | undefined
  if (spec.split !== undefined) {
    const m = SPLIT_RULE.exec(spec.split.rule)
    if (m === null)
      throw new DatasetSpecError(`${what}: split rule "${spec.split.rule}" is not "test if COL % M == R"`)
    split = { column: m[1]!, modulus: Number(m[2]), testRemainder: Number(m[3]) }
  }
  const stored = new Set(columns.map((c) => c.name))
  const schema: DatasetSchema = {
    version: 1,
    format: 'spec-json',
    columns,
    ignored: spec.excluded_columns.map((c) => c.name).filter((n) => !stored.has(n)),
    id,
    target: { column: spec.target.column, positive: spec.target.positive_label },
    reference: {}
  }
  if (index !== undefined) schema.index = index
  if (split !== undefined) schema.split = split
  if (spec.n_rows !== undefined) schema.reference!.rows = spec.n_rows
  if (spec.features !== undefined) {
    schema.reference!.features = spec.features.map((f) => ({ name: f.name, mean: f.mean, std: f.std }))
  }
  if (spec.verification !== undefined) {
    const v = spec.verification
    schema.reference!.verification = {
      zRow0: v.z_row0,
      zRow1: v.z_row1,
      sumZTrain: v.sum_z_train,
      sumZTest: v.sum_z_test,
      sumAbsZAll: v.sum_abs_z_all
    }
  }
  const n = featureLayout(schema).length
  if (spec.n_features !== undefined && spec.n_features !== n) {
    throw new DatasetSpecError(
      `${what}: n_features is ${spec.n_features} but the columns encode to ${n} features`
    )
  }
  return schema
}
