/**
 * One vertical party's view of a shared dataset: the dataset's schema with only that party's columns
 * stored (its feature group, the id and row-number columns, the target only at the label party);
 * every other CSV column is read past (`ignored`). A party thus imports the shared CSV through the
 * node's own import and holds nothing else.
 */
import type { DatasetSchema } from '../../node/data/schema.ts'
import { SimConfigError } from '../errors.ts'

/**
 * The schema of a party holding `columns` (feature columns; the id, index and split columns are kept
 * for every party, the target only when `label`).
 *
 * @throws SimConfigError for a column the dataset does not have
 * @example
 * partySchema(schema, ['Income', 'Job'], false).columns.map((c) => c.name) // ['uid', 'row_index', 'Job', 'Income']
 */
export function partySchema(
  schema: DatasetSchema,
  columns: readonly string[],
  label: boolean
): DatasetSchema {
  const names = new Set(schema.columns.map((c) => c.name))
  const unknown = columns.filter((c) => !names.has(c) && !schema.ignored.includes(c))
  if (unknown.length > 0) throw new SimConfigError(`the dataset has no column ${unknown.join(', ')}`)
  const keep = new Set(columns)
  const target = schema.target?.column
  const stored = schema.columns.filter((c) => {
    if (c.role === 'id' || c.role === 'index') return true
    if (c.name === target) return label
    return c.role === 'feature' && keep.has(c.name)
  })
  const dropped = schema.columns.filter((c) => !stored.includes(c)).map((c) => c.name)
  const { reference: _reference, target: _target, ...rest } = schema
  return {
    ...rest,
    columns: stored,
    ignored: [...schema.ignored, ...dropped],
    ...(label && schema.target !== undefined ? { target: schema.target } : {})
  }
}

/**
 * The feature columns of a vertical partition group (the id, index and target names removed).
 * @example
 * groupFeatures(schema, ['uid', 'Status', 'Time']) // ['Time']
 */
export function groupFeatures(schema: DatasetSchema, group: readonly string[]): string[] {
  const special = new Set([schema.id, schema.index, schema.target?.column].filter((x) => x !== undefined))
  return group.filter((c) => !special.has(c))
}

/**
 * Whether a group holds the dataset's label.
 * @example
 * holdsLabel(schema, ['uid', 'Status']) // true
 */
export function holdsLabel(schema: DatasetSchema, group: readonly string[]): boolean {
  return schema.target !== undefined && group.includes(schema.target.column)
}
