import { SimConfigError } from '../errors.ts'
import { floats, simRandom } from '../rng.ts'

/**
 * Horizontal partitioners: each returns `{party: [row, ...]}` with sorted, disjoint row lists that
 * cover every row (train and test rows alike: each party trains on its rows of the training split
 * and is evaluated on its rows of the test split). Seeded, so a scenario's seed fixes the split.
 * Party names are `party-01`, `party-02`, … (zero-padded to sort), or `<column>=<value>` for a
 * split by a column.
 */

/**
 * `{party: sorted row indices}`.
 * @example
 * const p: Partition = { 'party-1': [0, 2], 'party-2': [1] }
 */
export type Partition = Record<string, number[]>

/** Attempts before a skewed partition that keeps leaving a party too small is given up. */
const MAX_DRAWS = 200

/**
 * Party names for n parties.
 * @example
 * partyNames(3) // ['party-1', 'party-2', 'party-3']; partyNames(12)[0] // 'party-01'
 */
export function partyNames(n: number): string[] {
  const w = String(n).length
  return Array.from({ length: n }, (_, i) => `party-${String(i + 1).padStart(w, '0')}`)
}

function sorted(p: Record<string, number[]>): Partition {
  for (const k of Object.keys(p)) p[k]!.sort((a, b) => a - b)
  return p
}

function checkCount(rows: number, parties: number, minRows = 1): void {
  if (parties * minRows > rows)
    throw new SimConfigError(`${parties} parties of at least ${minRows} rows cannot share ${rows} rows`)
}

/**
 * IID: a seeded shuffle dealt into equal shares (sizes differ by at most one).
 *
 * @example
 * iidPartition(4454, 10, 'seed-1')
 */
export function iidPartition(rows: number, parties: number, seed: string | number): Partition {
  checkCount(rows, parties)
  const f = floats(simRandom(`partition/iid/${seed}`))
  const perm = f.shuffle(Array.from({ length: rows }, (_, i) => i))
  const names = partyNames(parties)
  const out: Partition = Object.fromEntries(names.map((n) => [n, []]))
  for (let i = 0; i < rows; i++) out[names[i % parties]!]!.push(perm[i]!)
  return sorted(out)
}

/**
 * Quantity skew: party shares ~ Dirichlet(alpha) over a shuffled row order, redrawn until every
 * party has at least `minRows` rows.
 *
 * @throws SimConfigError when no draw gives every party minRows rows
 * @example
 * quantityPartition(10000, 5, 0.5, 'seed-1')
 */
export function quantityPartition(
  rows: number,
  parties: number,
  alpha: number,
  seed: string | number,
  minRows = 10
): Partition {
  checkCount(rows, parties, minRows)
  const f = floats(simRandom(`partition/quantity/${seed}`))
  const names = partyNames(parties)
  for (let attempt = 0; attempt < MAX_DRAWS; attempt++) {
    const p = f.dirichlet(parties, alpha)
    const perm = f.shuffle(Array.from({ length: rows }, (_, i) => i))
    const cuts = cutsOf(p, rows)
    if (names.some((_, k) => cuts[k + 1]! - cuts[k]! < minRows)) continue
    return sorted(Object.fromEntries(names.map((n, k) => [n, perm.slice(cuts[k], cuts[k + 1])])))
  }
  throw new SimConfigError(
    `quantity skew with alpha ${alpha} keeps leaving a party with fewer than ${minRows} rows; raise alpha or lower minRows`
  )
}

/**
 * Label (or any column's) skew: for each value c, the rows holding c are shuffled and cut by
 * shares ~ Dirichlet(alpha) (Hsu, Qi and Brown 2019; the algorithm of datasets/*\/partitions'
 * horizontal_dirichlet.json). Redrawn until every party has at least `minRows` rows.
 *
 * @throws SimConfigError when no draw gives every party minRows rows
 * @example
 * dirichletPartition(table.column('Status'), 5, 0.5, 'seed-1')
 */
export function dirichletPartition(
  values: readonly string[],
  parties: number,
  alpha: number,
  seed: string | number,
  minRows = 10
): Partition {
  checkCount(values.length, parties, minRows)
  const f = floats(simRandom(`partition/dirichlet/${seed}`))
  const byValue = new Map<string, number[]>()
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    let rows = byValue.get(v)
    if (rows === undefined) {
      rows = []
      byValue.set(v, rows)
    }
    rows.push(i)
  }
  const classes = [...byValue.keys()].sort()
  const names = partyNames(parties)
  for (let attempt = 0; attempt < MAX_DRAWS; attempt++) {
    const out: Partition = Object.fromEntries(names.map((n) => [n, []]))
    for (const c of classes) {
      const p = f.dirichlet(parties, alpha)
      const perm = f.shuffle([...byValue.get(c)!])
      const cuts = cutsOf(p, perm.length)
      names.forEach((n, k) => {
        const mine = out[n]!
        for (let i = cuts[k]!; i < cuts[k + 1]!; i++) mine.push(perm[i]!)
      })
    }
    if (names.every((n) => out[n]!.length >= minRows)) return sorted(out)
  }
  throw new SimConfigError(
    `Dirichlet(${alpha}) skew keeps leaving a party with fewer than ${minRows} rows; raise alpha or lower minRows`
  )
}

/**
 * One party per distinct value of a column (the natural split of a shared dataset), named
 * `<column>=<value>`; empty values form `<column>=missing`.
 *
 * @example
 * columnPartition('Job', table.column('Job')) // { 'Job=fixed': [...], 'Job=freelance': [...], ... }
 */
export function columnPartition(column: string, values: readonly string[]): Partition {
  const out: Partition = {}
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    const name = `${column}=${v === '' ? 'missing' : v}`.slice(0, 100)
    let rows = out[name]
    if (rows === undefined) {
      rows = []
      out[name] = rows
    }
    rows.push(i)
  }
  return Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((k) => [k, out[k]!])
  )
}

/**
 * Checks a partition read from a file: row lists of integers in [0, rows), disjoint, none empty.
 *
 * @throws SimConfigError naming the first problem
 * @example
 * const p = checkPartition(JSON.parse(text), table.rows, 'horizontal_natural.json')
 */
export function checkPartition(value: unknown, rows: number, what: string): Partition {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new SimConfigError(`${what} must map each party to its rows`)
  const seen = new Uint8Array(rows)
  const out: Partition = {}
  for (const [party, list] of Object.entries(value as Record<string, unknown>)) {
    if (!Array.isArray(list) || list.length === 0)
      throw new SimConfigError(`${what}: party ${party} must list at least one row`)
    for (const r of list) {
      if (!Number.isSafeInteger(r) || (r as number) < 0 || (r as number) >= rows)
        throw new SimConfigError(`${what}: party ${party} lists row ${String(r)}, outside [0, ${rows})`)
      if (seen[r as number] === 1)
        throw new SimConfigError(`${what}: row ${String(r)} belongs to two parties`)
      seen[r as number] = 1
    }
    out[party] = [...(list as number[])].sort((a, b) => a - b)
  }
  if (Object.keys(out).length === 0) throw new SimConfigError(`${what} names no party`)
  return out
}

/** Cut points 0 = c_0 ≤ … ≤ c_n = total from shares p (floor of the cumulative sums). */
function cutsOf(p: readonly number[], total: number): number[] {
  const cuts = [0]
  let acc = 0
  for (let k = 0; k < p.length - 1; k++) {
    acc += p[k]!
    cuts.push(Math.min(total, Math.floor(acc * total)))
  }
  cuts.push(total)
  return cuts
}
