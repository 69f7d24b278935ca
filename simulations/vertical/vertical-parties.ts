/**
 * The parties of a vertical scenario: column groups (a `kind: vertical` partition or a
 * datasets/<name>/partitions/vertical.json file) and, optionally, which customers each party holds
 * (`overlap`: party -> ids, e.g. vertical_overlap.json; the PSI then finds the shared ones). Without
 * an overlap every party holds every row, and the PSI aligns them all.
 */
import type { SimTable } from '../data/sim-table.ts'
import { SimConfigError } from '../errors.ts'
import { groupFeatures, holdsLabel, partySchema } from './party-schema.ts'
import type { VerticalPartyData } from './vertical-federation.ts'

/**
 * The vertical split of a table.
 * @example
 * const { parties, label, features } = verticalSplit(table, groups)
 */
export interface VerticalSplit {
  parties: Record<string, VerticalPartyData>
  /** The party holding the label (it leads the PSI and the session). */
  label: string
  /** Feature columns per party. */
  features: Record<string, string[]>
  /** Rows (0-based data lines) each party holds. */
  rows: Record<string, number[]>
}

/**
 * Splits `table` by column groups (and an optional id overlap).
 *
 * @throws SimConfigError when no or several groups hold the label, or an overlap names an unknown party
 * @example
 * verticalSplit(table, { lender: ['uid', 'Status', 'Time'], retailer: ['uid', 'Age'] })
 */
export function verticalSplit(
  table: SimTable,
  groups: Record<string, readonly string[]>,
  overlap?: Record<string, readonly string[]>
): VerticalSplit {
  const schema = table.schema
  const names = Object.keys(groups)
  if (names.length < 2) throw new SimConfigError('a vertical partition needs at least two parties')
  const labelled = names.filter((n) => holdsLabel(schema, groups[n]!))
  if (labelled.length !== 1)
    throw new SimConfigError(
      `exactly one party's columns must hold the label ${schema.target?.column ?? '(the dataset has none)'}; ${labelled.length === 0 ? 'none does' : `${labelled.join(', ')} do`}`
    )
  const label = labelled[0]!
  const all = Array.from({ length: table.rows }, (_, i) => i)
  let rowsOf = (_party: string) => all
  if (overlap !== undefined) {
    const unknown = Object.keys(overlap).filter((p) => !names.includes(p))
    if (unknown.length > 0)
      throw new SimConfigError(`the overlap names parties without columns: ${unknown.join(', ')}`)
    const ids = table.column(schema.id)
    const at = new Map(ids.map((id, i) => [id, i]))
    rowsOf = (party) => {
      const list = overlap[party]
      if (list === undefined) return all
      const rows = list.map((id) => {
        const r = at.get(id)
        if (r === undefined) throw new SimConfigError(`the overlap of ${party} names unknown id ${id}`)
        return r
      })
      return rows.sort((a, b) => a - b)
    }
  }
  const parties: Record<string, VerticalPartyData> = {}
  const features: Record<string, string[]> = {}
  const rows: Record<string, number[]> = {}
  for (const n of names) {
    features[n] = groupFeatures(schema, groups[n]!)
    if (features[n].length === 0) throw new SimConfigError(`party ${n} holds no feature column`)
    rows[n] = rowsOf(n)
    parties[n] = { schema: partySchema(schema, features[n], n === label), csv: table.csvOf(rows[n]) }
  }
  return { parties, label, features, rows }
}
