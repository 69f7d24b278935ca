import { readFileSync } from 'node:fs'
import type { LoadedScenario } from '../../configs/scenario.ts'
import type { SimTable } from '../data/sim-table.ts'
import { SimConfigError, SimUnsupportedError } from '../errors.ts'
import {
  checkPartition,
  columnPartition,
  dirichletPartition,
  iidPartition,
  quantityPartition
} from './partitioners.ts'
import type { Partition } from './partitioners.ts'

// Vertical partitions never reach this horizontal resolver: runScenario hands them to
// simulations/vertical/run-vertical-scenario.ts.
const VERTICAL = 'a vertical partition has no horizontal row split; run it with runScenario (cohort sim run)'

/**
 * The parties of a scenario: its partition file, or a generated split of the dataset's rows.
 *
 * @throws SimConfigError | SimUnsupportedError (vertical partitions)
 * @example
 * const parties = resolvePartition(scenario, table) // { lender_a: [0, 4, ...], ... }
 */
export function resolvePartition(s: LoadedScenario, table: SimTable): Partition {
  const p = s.config.partition
  const seed = s.config.seed
  if ('file' in p) {
    const path = s.resolve(p.file)
    let value: unknown
    try {
      value = JSON.parse(readFileSync(path, 'utf8')) as unknown
    } catch (err) {
      throw new SimConfigError(
        `cannot read the partition file ${path}: ${(err as Error).message.split('\n')[0]}`
      )
    }
    const first = Object.values((value ?? {}) as Record<string, unknown>)[0]
    if (p.overlap !== undefined || (Array.isArray(first) && typeof first[0] === 'string'))
      throw new SimUnsupportedError(VERTICAL)
    return checkPartition(value, table.rows, path)
  }
  switch (p.kind) {
    case 'iid':
      return iidPartition(table.rows, p.parties, seed)
    case 'quantity':
      return quantityPartition(table.rows, p.parties, p.alpha, seed, p.minRows)
    case 'dirichlet':
      return dirichletPartition(
        table.column(p.column ?? table.targetColumn()),
        p.parties,
        p.alpha,
        seed,
        p.minRows
      )
    case 'column':
      return columnPartition(p.column, table.column(p.column))
    case 'vertical':
      throw new SimUnsupportedError(VERTICAL)
  }
}
