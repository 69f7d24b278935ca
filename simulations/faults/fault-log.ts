/**
 * The faults that actually fired during a run, for the report. Entries are recorded as concurrent
 * code meets them and listed in a canonical order (round, kind, party, phase, attempt), so the
 * report does not depend on how the run's messages interleaved.
 */

/**
 * What kind of fault fired.
 * @example
 * const k: FaultKind = 'dropout'
 */
export type FaultKind =
  | 'dropout'
  | 'straggler'
  | 'loss'
  | 'malicious-update'
  | 'malicious-coordinator'
  | 'sanity-check'

/**
 * One fired fault.
 * @example
 * const f: FiredFault = { round: 3, kind: 'dropout', party: 'party-07', phase: 'masked-input', attempt: 1 }
 */
export interface FiredFault {
  round: number
  kind: FaultKind
  party?: string
  phase?: string
  /** Which attempt of the round's fit (the runner retries a failed secure sum). */
  attempt?: number
  detail?: Record<string, string | number | boolean>
}

/**
 * A fault recorder.
 * @example
 * const log = createFaultLog(); log.record({ round: 1, kind: 'dropout', party: 'a' }); log.all()
 */
export interface FaultLog {
  record(f: FiredFault): void
  /** Adds `n` to a per-round counter fault (message loss). */
  count(round: number, kind: FaultKind, key: string, n?: number): void
  all(): FiredFault[]
}

const str = (v: unknown) => (v === undefined ? '' : String(v))

function compare(a: FiredFault, b: FiredFault): number {
  return (
    a.round - b.round ||
    a.kind.localeCompare(b.kind) ||
    str(a.party).localeCompare(str(b.party)) ||
    str(a.phase).localeCompare(str(b.phase)) ||
    (a.attempt ?? 0) - (b.attempt ?? 0) ||
    JSON.stringify(a.detail ?? {}).localeCompare(JSON.stringify(b.detail ?? {}))
  )
}

/**
 * Creates an empty log.
 * @example
 * const log = createFaultLog()
 */
export function createFaultLog(): FaultLog {
  const entries: FiredFault[] = []
  const counters = new Map<string, { round: number; kind: FaultKind; key: string; n: number }>()
  return {
    record(f) {
      entries.push(f)
    },
    count(round, kind, key, n = 1) {
      const k = `${round}\u0000${kind}\u0000${key}`
      const c = counters.get(k)
      if (c === undefined) counters.set(k, { round, kind, key, n })
      else c.n += n
    },
    all() {
      const counted: FiredFault[] = [...counters.values()].map((c) => ({
        round: c.round,
        kind: c.kind,
        detail: { [c.key]: c.n }
      }))
      return [...entries, ...counted].sort(compare)
    }
  }
}
