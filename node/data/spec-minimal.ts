import { z } from 'zod'
import { DatasetSpecError } from './errors.ts'
import type { DatasetSchema, StoredColumn } from './schema.ts'

/** The minimal hand-written spec format (docs/datasets.md) and its conversion into a DatasetSchema. */

const ColumnType = z.enum(['number', 'category', 'ordinal', 'id', 'index', 'target', 'ignore'])

const MinimalColumn = z
  .object({
    name: z.string(),
    type: ColumnType,
    levels: z.array(z.string()).optional(),
    impute: z.union([z.number(), z.string()]).optional(),
    positive: z.string().optional()
  })
  .strict()

/**
 * Zod schema of the minimal spec format (documented in docs/datasets.md).
 *
 * @example
 * MinimalSpec.parse({ id: 'uid', columns: [{ name: 'age', type: 'number' }] })
 */
export const MinimalSpec = z
  .object({
    columns: z.array(MinimalColumn).min(1),
    id: z.string().optional(),
    index: z.string().optional(),
    target: z
      .object({ column: z.string(), levels: z.array(z.string()).optional(), positive: z.string().optional() })
      .strict()
      .optional(),
    split: z
      .object({ column: z.string().optional(), modulus: z.int().min(2), test: z.int().min(0) })
      .strict()
      .optional()
  })
  .strict()

/** A parsed minimal spec. */
export type MinimalSpec = z.infer<typeof MinimalSpec>

/**
 * Converts a parsed minimal spec into a DatasetSchema (not yet checked: see parseDatasetSpec).
 *
 * @example
 * const schema = fromMinimalSpec(MinimalSpec.parse(value), 'spec.yaml')
 */
export function fromMinimalSpec(spec: MinimalSpec, what: string): DatasetSchema {
  const entries = [...spec.columns]
  const listed = (name: string) => entries.find((c) => c.name === name)
  // The top-level `id` / `target` / `index` are shorthands for a column entry of that type.
  for (const [name, type] of [
    [spec.id, 'id'],
    [spec.index, 'index']
  ] as const) {
    if (name === undefined) continue
    const c = listed(name)
    if (c === undefined) entries.unshift({ name, type })
    else if (c.type !== type)
      throw new DatasetSpecError(`${what}: ${type} "${name}" is listed with type "${c.type}"`)
  }
  if (spec.target !== undefined) {
    const { column, levels, positive } = spec.target
    const i = entries.findIndex((c) => c.name === column)
    const fromTop = {
      ...(levels === undefined ? {} : { levels }),
      ...(positive === undefined ? {} : { positive })
    }
    if (i < 0) entries.push({ name: column, type: 'target', ...fromTop })
    else {
      const t = entries[i]!
      if (t.type !== 'target')
        throw new DatasetSpecError(`${what}: target "${column}" is listed with type "${t.type}"`)
      if (
        (levels !== undefined && t.levels !== undefined) ||
        (positive !== undefined && t.positive !== undefined)
      ) {
        throw new DatasetSpecError(`${what}: target "${column}": give levels/positive in one place only`)
      }
      entries[i] = { ...t, ...fromTop }
    }
  }
  const columns: StoredColumn[] = []
  const ignored: string[] = []
  let target: DatasetSchema['target']
  for (const c of entries) {
    const where = `${what}: column ${c.name}`
    if (c.type !== 'category' && c.type !== 'ordinal' && c.type !== 'target' && c.levels !== undefined) {
      throw new DatasetSpecError(`${where}: type "${c.type}" takes no levels`)
    }
    if (c.type !== 'target' && c.positive !== undefined)
      throw new DatasetSpecError(`${where}: only a target takes "positive"`)
    if (c.impute !== undefined && c.type !== 'number' && c.type !== 'category' && c.type !== 'ordinal') {
      throw new DatasetSpecError(`${where}: type "${c.type}" takes no impute value`)
    }
    switch (c.type) {
      case 'number':
        if (c.impute !== undefined && typeof c.impute !== 'number')
          throw new DatasetSpecError(`${where}: impute must be a number`)
        columns.push({
          name: c.name,
          kind: 'number',
          role: 'feature',
          impute: c.impute as number | undefined
        })
        break
      case 'category':
      case 'ordinal':
        if (c.levels === undefined) throw new DatasetSpecError(`${where}: type "${c.type}" needs levels`)
        if (c.impute !== undefined && typeof c.impute !== 'string')
          throw new DatasetSpecError(`${where}: impute must be a level`)
        columns.push({
          name: c.name,
          kind: 'category',
          role: 'feature',
          levels: c.levels,
          encoding: c.type === 'ordinal' ? 'ordinal' : 'onehot',
          impute: c.impute as string | undefined
        })
        break
      case 'id':
        columns.push({ name: c.name, kind: 'id', role: 'id' })
        break
      case 'index':
        columns.push({ name: c.name, kind: 'number', role: 'index' })
        break
      case 'target':
        if (target !== undefined) throw new DatasetSpecError(`${what}: more than one target column`)
        if (c.levels !== undefined) {
          if (c.positive === undefined)
            throw new DatasetSpecError(`${where}: a categorical target needs "positive"`)
          columns.push({
            name: c.name,
            kind: 'category',
            role: 'target',
            levels: c.levels,
            encoding: 'ordinal'
          })
          target = { column: c.name, positive: c.positive }
        } else {
          if (c.positive !== undefined) throw new DatasetSpecError(`${where}: "positive" needs levels`)
          columns.push({ name: c.name, kind: 'number', role: 'target' })
          target = { column: c.name }
        }
        break
      case 'ignore':
        ignored.push(c.name)
        break
    }
  }
  const ids = columns.filter((c) => c.kind === 'id')
  if (ids.length !== 1)
    throw new DatasetSpecError(`${what}: exactly one column must be the id (found ${ids.length})`)
  const indexes = columns.filter((c) => c.role === 'index')
  if (indexes.length > 1) throw new DatasetSpecError(`${what}: more than one index column`)
  const schema: DatasetSchema = { version: 1, format: 'minimal', columns, ignored, id: ids[0]!.name }
  if (indexes.length === 1) schema.index = indexes[0]!.name
  if (target !== undefined) schema.target = target
  if (spec.split !== undefined) {
    const column = spec.split.column ?? schema.index
    if (column === undefined) throw new DatasetSpecError(`${what}: split needs a column (or an index column)`)
    schema.split = { column, modulus: spec.split.modulus, testRemainder: spec.split.test }
  }
  return schema
}
