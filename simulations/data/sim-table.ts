import { readFileSync } from 'node:fs'
import { basename, dirname } from 'node:path'
import type { LoadedScenario } from '../../configs/scenario.ts'
import { parseDatasetSpec } from '../../node/data/spec.ts'
import { columnByName } from '../../node/data/schema.ts'
import type { DatasetSchema } from '../../node/data/schema.ts'
import { SimConfigError } from '../errors.ts'
import { generateSynthetic } from './synthetic.ts'

/**
 * A scenario's dataset as the simulation handles it before any node sees it: the CSV's header and
 * data lines (row i = data line i, which is what partition files list), the parsed spec, and the
 * raw values of a column when a partitioner needs them. Each party's rows go to its node as CSV
 * bytes, through the node's own import.
 */

/**
 * The dataset of a scenario.
 * @example
 * const t = loadSimTable(scenario); t.rows // 4454
 */
export interface SimTable {
  /** Dataset name on every node. */
  readonly name: string
  readonly schema: DatasetSchema
  /** The spec as written (for the pooled import). */
  readonly specValue: unknown
  readonly header: string
  readonly lines: readonly string[]
  readonly rows: number
  /** Raw string values of a column, one per row. @throws SimConfigError for an unknown column */
  column(name: string): string[]
  /** The target's raw values (the default column of label skew). */
  targetColumn(): string
  /** Numeric columns' [min, max] over every row (`statistics.ranges: auto`). */
  numericRanges(): Record<string, [number, number]>
  /** Header plus the given rows, as CSV bytes. */
  csvOf(rows: readonly number[]): Uint8Array
}

/**
 * Loads (or generates) the scenario's dataset.
 *
 * @throws SimConfigError | ConfigError | DatasetSpecError
 * @example
 * const table = loadSimTable(loadScenario('configs/scenarios/credit-natural.yaml'))
 */
export function loadSimTable(s: LoadedScenario): SimTable {
  const src = s.config.dataset
  let header: string
  let lines: string[]
  let specValue: unknown
  let name: string
  if ('synthetic' in src) {
    const d = generateSynthetic(src.synthetic, s.config.seed)
    header = d.header
    lines = d.lines
    specValue = d.spec
    name = src.name ?? 'synthetic'
  } else {
    const csvPath = s.resolve(src.csv)
    const specPath = s.resolve(src.spec)
    let text: string
    try {
      text = readFileSync(csvPath, 'utf8')
      specValue = JSON.parse(readFileSync(specPath, 'utf8')) as unknown
    } catch (err) {
      throw new SimConfigError(
        `cannot read the scenario's dataset (${csvPath}, ${specPath}): ${(err as Error).message.split('\n')[0]}`
      )
    }
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    const all = text.split('\n')
    if (all.at(-1) === '') all.pop()
    header = all[0]!.replace(/\r$/, '')
    lines = all.slice(1).map((l) => l.replace(/\r$/, ''))
    const declared = (specValue as { dataset?: unknown }).dataset
    name = src.name ?? (typeof declared === 'string' ? declared : basename(dirname(csvPath)))
  }
  const schema = parseDatasetSpec(specValue, `the spec of dataset ${name}`)
  return makeTable(name, schema, specValue, header, lines)
}

function makeTable(
  name: string,
  schema: DatasetSchema,
  specValue: unknown,
  header: string,
  lines: string[]
): SimTable {
  const names = header.split(',')
  const cache = new Map<string, string[]>()
  const column = (col: string): string[] => {
    let v = cache.get(col)
    if (v !== undefined) return v
    const j = names.indexOf(col)
    if (j < 0)
      throw new SimConfigError(`dataset ${name} has no column "${col}" (columns: ${names.join(', ')})`)
    v = lines.map((l) => l.split(',')[j] ?? '')
    cache.set(col, v)
    return v
  }
  const enc = new TextEncoder()
  return {
    name,
    schema,
    specValue,
    header,
    lines,
    rows: lines.length,
    column,
    targetColumn() {
      const t = schema.target?.column
      if (t === undefined) throw new SimConfigError(`dataset ${name} has no target column to skew by`)
      return t
    },
    numericRanges() {
      const out: Record<string, [number, number]> = {}
      for (const c of schema.columns) {
        if (c.kind !== 'number' || c.role !== 'feature') continue
        let lo = Number.POSITIVE_INFINITY
        let hi = Number.NEGATIVE_INFINITY
        for (const v of column(c.name)) {
          if (v === '') continue
          const x = Number(v)
          if (!Number.isFinite(x)) continue
          if (x < lo) lo = x
          if (x > hi) hi = x
        }
        if (lo <= hi) out[c.name] = [lo, hi > lo ? hi : lo + 1]
      }
      return out
    },
    csvOf(rows) {
      const parts = [header]
      for (const r of rows) parts.push(lines[r]!)
      return enc.encode(`${parts.join('\n')}\n`)
    }
  }
}

/**
 * True when `col` is a column the spec knows (a feature, target, id or index).
 * @example
 * hasSpecColumn(table.schema, 'Job') // true
 */
export function hasSpecColumn(schema: DatasetSchema, col: string): boolean {
  return columnByName(schema, col) !== undefined || schema.ignored.includes(col)
}
