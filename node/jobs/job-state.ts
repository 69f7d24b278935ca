import type { RingVector } from '../../crypto/ring.ts'
import type { LocalDataset } from '../training/matrix.ts'

/**
 * What a node keeps in memory about the jobs it takes part in. Nothing here is needed for
 * correctness after a restart (every request carries the job summary, the model and the statistics):
 * it saves reloading the dataset every round, and it remembers what was already released, so a
 * round the coordinator asks for again (after its own restart) is served from the cache instead of
 * being trained and charged to the privacy budget a second time. A node that restarted has lost the
 * cache and trains and charges again, under a new reservation.
 */

/**
 * A summand the node released for a (purpose, round).
 * @example
 * state.released.get('fit/3')
 */
export interface Released {
  /** The quantised summand (with its DP noise share) as it went into secure aggregation. */
  readonly ring: RingVector
  /** The real-valued summand, for plaintext aggregation. */
  readonly summand: Float64Array
  /** How many times it was served (re-requests included). */
  served: number
}

/**
 * One job's in-memory state.
 * @example
 * const s = jobStates.get(jobId)
 */
export interface JobState {
  data?: { key: string; train: LocalDataset; test: LocalDataset }
  released: Map<string, Released>
  /** Serialises the job's requests, so a re-request never races its own first run. */
  queue: Promise<unknown>
}

/**
 * A small LRU of job states.
 * @example
 * const jobs = createJobStates(8)
 * await jobs.serial(jobId, async (state) => { ... })
 */
export interface JobStates {
  serial<T>(jobId: string, fn: (state: JobState) => Promise<T>): Promise<T>
  drop(jobId: string): void
  size(): number
}

/** Rounds of released summands kept per purpose (the current one and the one before). */
const KEEP_ROUNDS = 2

/**
 * Creates the job-state cache.
 * @example
 * const jobs = createJobStates()
 */
export function createJobStates(maxJobs = 8): JobStates {
  const states = new Map<string, JobState>()
  return {
    serial(jobId, fn) {
      let s = states.get(jobId)
      if (s === undefined) {
        s = { released: new Map(), queue: Promise.resolve() }
        while (states.size >= maxJobs) states.delete(states.keys().next().value!)
      } else states.delete(jobId)
      states.set(jobId, s)
      const state = s
      const run = state.queue.then(() => fn(state))
      state.queue = run.catch(() => undefined)
      return run
    },
    drop(jobId) {
      states.delete(jobId)
    },
    size: () => states.size
  }
}

/**
 * Records a released summand and forgets rounds older than the last KEEP_ROUNDS of its purpose.
 * @example
 * remember(state, 'fit', 3, { ring, summand, served: 1 })
 */
export function remember(state: JobState, purpose: string, round: number, r: Released): void {
  state.released.set(`${purpose}/${round}`, r)
  for (const k of [...state.released.keys()]) {
    const [p, n] = k.split('/')
    if (p === purpose && Number(n) <= round - KEEP_ROUNDS) state.released.delete(k)
  }
}
