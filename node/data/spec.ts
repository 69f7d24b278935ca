import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import type { z } from 'zod'
import { DatasetSpecError } from './errors.ts'
import { MAX_LEVELS, featureLayout } from './schema.ts'
import type { DatasetSchema } from './schema.ts'
import { FullSpec, fromFullSpec } from './spec-full.ts'
import { MinimalSpec, fromMinimalSpec } from './spec-minimal.ts'

/**
 * Dataset specs in two formats, both normalised into one `DatasetSchema`:
 * - the full `spec.json` of the shared datasets (columns with `encoding`, `csv.id_column`, target,
 *   split rule, reference means/stds and verification values);
 * - a minimal hand-written spec (JSON or YAML) whose columns carry a `type` (docs/datasets.md).
 */

function issues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ')
}

const BAD_NAME = /[,"\r\n]/

/** Checks what both formats must satisfy; throws DatasetSpecError naming the first problem. */
function checkSchema(schema: DatasetSchema, what: string): DatasetSchema {
  const seen = new Set<string>()
  for (const name of [...schema.columns.map((c) => c.name), ...schema.ignored]) {
    if (name.length === 0 || BAD_NAME.test(name)) {
      throw new DatasetSpecError(
        `${what}: column name "${name}" is empty or contains a comma, quote or line break`
      )
    }
    if (seen.has(name)) throw new DatasetSpecError(`${what}: column "${name}" is declared twice`)
    seen.add(name)
  }
  for (const c of schema.columns) {
    if (c.kind === 'category') {
      if (c.levels.length === 0 || c.levels.length > MAX_LEVELS) {
        throw new DatasetSpecError(`${what}: column ${c.name} needs 1 to ${MAX_LEVELS} levels`)
      }
      if (new Set(c.levels).size !== c.levels.length)
        throw new DatasetSpecError(`${what}: column ${c.name} repeats a level`)
      const bad = c.levels.find((l) => l.length === 0 || BAD_NAME.test(l))
      if (bad !== undefined) {
        throw new DatasetSpecError(
          `${what}: column ${c.name}: level "${bad}" is empty or contains a comma, quote or line break`
        )
      }
      if (c.impute !== undefined && !c.levels.includes(c.impute)) {
        throw new DatasetSpecError(`${what}: column ${c.name}: impute value "${c.impute}" is not a level`)
      }
    }
    if (c.kind === 'number' && c.impute !== undefined && !Number.isFinite(c.impute)) {
      throw new DatasetSpecError(`${what}: column ${c.name}: impute value must be finite`)
    }
  }
  const t = schema.target
  if (t !== undefined) {
    const c = schema.columns.find((x) => x.name === t.column)
    if (c?.kind === 'category' && (t.positive === undefined || !c.levels.includes(t.positive))) {
      throw new DatasetSpecError(`${what}: target positive label "${t.positive}" is not one of its levels`)
    }
  }
  if (schema.split !== undefined) {
    const s = schema.split
    if (s.column !== schema.index)
      throw new DatasetSpecError(`${what}: split column "${s.column}" must be the index column`)
    if (!(s.modulus >= 2 && s.testRemainder < s.modulus)) {
      throw new DatasetSpecError(`${what}: split needs modulus >= 2 and 0 <= test < modulus`)
    }
  }
  if (featureLayout(schema).length === 0) throw new DatasetSpecError(`${what}: no feature columns`)
  const ref = schema.reference
  const layout = featureLayout(schema)
  if (ref?.features !== undefined) {
    const names = layout.map((f) => f.name).join(',')
    if (ref.features.map((f) => f.name).join(',') !== names) {
      throw new DatasetSpecError(`${what}: "features" do not match the encoding of the columns`)
    }
  }
  if (ref?.verification !== undefined) {
    const v = ref.verification
    if (v.zRow0.length !== layout.length || v.zRow1.length !== layout.length) {
      throw new DatasetSpecError(`${what}: verification rows must have ${layout.length} values`)
    }
  }
  return schema
}

/**
 * Normalises a parsed spec object (either format) into a `DatasetSchema`. `what` names it in errors.
 *
 * @example
 * const schema = parseDatasetSpec({ columns: [{ name: 'uid', type: 'id' }, { name: 'age', type: 'number' }] })
 */
export function parseDatasetSpec(value: unknown, what = 'dataset spec'): DatasetSchema {
  const cols = (value as { columns?: unknown } | null)?.columns
  const minimal = Array.isArray(cols) && cols.some((c) => c !== null && typeof c === 'object' && 'type' in c)
  if (minimal) {
    const r = MinimalSpec.safeParse(value)
    if (!r.success) throw new DatasetSpecError(`${what} is invalid: ${issues(r.error)}`)
    return checkSchema(fromMinimalSpec(r.data, what), what)
  }
  const r = FullSpec.safeParse(value)
  if (!r.success) throw new DatasetSpecError(`${what} is invalid: ${issues(r.error)}`)
  return checkSchema(fromFullSpec(r.data, what), what)
}

/**
 * Reads a spec file (`.json`, or `.yaml`/`.yml`) and normalises it.
 *
 * @example
 * const schema = loadDatasetSpec('datasets/credit_data/spec.json')
 */
export function loadDatasetSpec(path: string): DatasetSchema {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new DatasetSpecError(
      `cannot read the dataset spec at ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`
    )
  }
  const yaml = /\.ya?ml$/i.test(path)
  let value: unknown
  try {
    value = yaml ? parseYaml(text) : JSON.parse(text)
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0]
    throw new DatasetSpecError(`the dataset spec at ${path} is not valid ${yaml ? 'YAML' : 'JSON'}: ${msg}`)
  }
  return parseDatasetSpec(value, `the dataset spec at ${path}`)
}
