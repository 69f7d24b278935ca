import type { RandomSource } from '../../crypto/dp/random.ts'
import type { EvalInstruction, FitInstruction, FleetView } from '../training/instructions.ts'
import type { PeerRef } from '../transport.ts'
import { AggregateMismatchError, NotEnoughParticipantsError } from './errors.ts'

/**
 * Server-side federated learning logic (Flower's Strategy, style.md C2). A strategy never sees an
 * individual update: only `AggregateResult`s, the (secure) sum of the selected nodes' vectors.
 *
 * How a node's `LocalUpdate { vector, weight }` becomes an aggregate: the node releases
 * `toSummand(update)` = [vector ‖ weight]; secure aggregation sums these over the survivors; the
 * runner calls `fromSummand(sum, survivors)`. So the weights (sample counts under FedAvg's
 * 'samples' weighting) are themselves securely aggregated: the coordinator learns Σ n, not any n.
 */

/**
 * Named numbers a round reports.
 * @example
 * const m: Metrics = { auc: 0.84, participants: 3 }
 */
export type Metrics = Record<string, number>

/**
 * The unmasked sum of the selected nodes' summands.
 * @example
 * const agg: AggregateResult = { sum, weight: 3563, participants: ['a', 'b', 'c'] }
 */
export interface AggregateResult {
  /** Σ vector over the participants (fit: the update vectors; evaluate: the evaluation vectors). */
  readonly sum: Float64Array
  /** Σ weight over the participants. */
  readonly weight: number
  /** The parties whose inputs are in the sum (survivors of secure aggregation). */
  readonly participants: readonly PeerRef[]
}

/**
 * A federated strategy over model parameters P.
 * @example
 * const s: Strategy<NamedParams> = createFedAvg({ spec, fit })
 */
export interface Strategy<P> {
  readonly name: string
  /** Which nodes train this round, and how. */
  configureFit(round: number, global: P, fleet: FleetView): FitInstruction[]
  /** New global parameters from the round's aggregate. */
  aggregateFit(round: number, agg: AggregateResult, global: P): { global: P; metrics: Metrics }
  /** Which nodes evaluate, and how. */
  configureEvaluate(round: number, global: P, fleet: FleetView): EvalInstruction[]
  /** Metrics from the aggregate of the nodes' evaluation vectors. */
  aggregateEvaluate(round: number, agg: AggregateResult): Metrics
  /** Length of each node's fit vector (without the weight coordinate `toSummand` appends). */
  readonly fitLength: number
  /** Length of each node's evaluation vector (without the weight coordinate). */
  readonly evalLength: number
}

/**
 * The vector a node feeds into secure aggregation: [vector ‖ weight].
 * @example
 * const summand = toSummand(update) // Float64Array(update.vector.length + 1)
 */
export function toSummand(update: { vector: Float64Array; weight: number }): Float64Array {
  const out = new Float64Array(update.vector.length + 1)
  out.set(update.vector)
  out[update.vector.length] = update.weight
  return out
}

/**
 * The AggregateResult of a (decoded) sum of summands.
 * @example
 * const agg = fromSummand(decodedSum, survivors)
 */
export function fromSummand(sum: Float64Array, participants: readonly PeerRef[]): AggregateResult {
  if (!(sum instanceof Float64Array) || sum.length < 1)
    throw new AggregateMismatchError('the sum must be a non-empty Float64Array')
  return Object.freeze({
    sum: sum.slice(0, sum.length - 1),
    weight: sum[sum.length - 1]!,
    participants: Object.freeze([...participants])
  })
}

/**
 * Checks an aggregate's length and values before a strategy uses it.
 * @throws AggregateMismatchError
 * @example
 * checkAggregate(agg, spec.layout.length)
 */
export function checkAggregate(agg: AggregateResult, length: number): void {
  if (!(agg.sum instanceof Float64Array))
    throw new AggregateMismatchError('the aggregate sum must be a Float64Array')
  if (agg.sum.length !== length) {
    throw new AggregateMismatchError(
      `the aggregate has ${agg.sum.length} values, the strategy expects ${length}`
    )
  }
  for (let i = 0; i < agg.sum.length; i++) {
    if (!Number.isFinite(agg.sum[i]!)) throw new AggregateMismatchError(`aggregate value ${i} is not finite`)
  }
  if (!Number.isFinite(agg.weight)) throw new AggregateMismatchError('the aggregate weight is not finite')
  if (agg.participants.length === 0) throw new AggregateMismatchError('the aggregate has no participants')
}

/**
 * Options of {@link selectParticipants}.
 * @example
 * const s: Selection = { fraction: 0.5, min: 3 }
 */
export interface Selection {
  /** Fraction of the available nodes to select (rounded up). @default 1 */
  fraction?: number
  /** Fewest nodes a round may have. @default 1 */
  min?: number
}

/**
 * Selects round participants: all available nodes, or a uniform random subset of
 * max(min, ceil(fraction · n)) of them (partial Fisher–Yates with `rng`), in fleet order.
 *
 * @throws NotEnoughParticipantsError when fewer than `min` are available
 * @example
 * selectParticipants(fleet, { fraction: 0.3, min: 3 }, createRandomSource())
 */
export function selectParticipants(fleet: FleetView, selection: Selection, rng: RandomSource): PeerRef[] {
  const available = [...fleet.available]
  const min = selection.min ?? 1
  const fraction = selection.fraction ?? 1
  if (available.length < min) {
    throw new NotEnoughParticipantsError(
      `${available.length} nodes are available, the round needs at least ${min}`
    )
  }
  if (fraction >= 1) return available
  const want = Math.min(available.length, Math.max(min, Math.ceil(fraction * available.length)))
  const idx = available.map((_, i) => i)
  for (let i = 0; i < want; i++) {
    const j = i + rng.uniformInt(idx.length - i)
    const t = idx[i]!
    idx[i] = idx[j]!
    idx[j] = t
  }
  return idx
    .slice(0, want)
    .sort((a, b) => a - b)
    .map((i) => available[i]!)
}
