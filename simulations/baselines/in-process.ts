import type { RandomSource } from '../../crypto/dp/random.ts'
import type { LocalDataset } from '../../node/training/matrix.ts'
import type { LocalUpdate, Trainer } from '../../node/training/trainer.ts'
import type { FitConfig } from '../../protocols/training/instructions.ts'
import type { NamedParams } from '../../protocols/training/model-spec.ts'
import { fromSummand, toSummand } from '../../protocols/strategies/strategy.ts'
import type { Metrics, Strategy } from '../../protocols/strategies/strategy.ts'
import type { DpEvent } from '../../crypto/dp/events.ts'

/**
 * Federated training in one process with *plain* sums in place of secure aggregation: the same
 * trainer, strategy, summand and aggregate code the network runs, minus transport, masking,
 * quantisation and distributed noise. It checks the trainer + strategy math against centralized
 * training before any network exists, and is what simulation reports use for "federated without
 * secure aggregation".
 */

/**
 * One party of an in-process federation.
 * @example
 * const p: SimParty = { name: 'lender_a', train, test }
 */
export interface SimParty {
  readonly name: string
  readonly train: LocalDataset
  /** The party's own test rows (federated evaluation sums over the parties' test rows). */
  readonly test: LocalDataset
}

/**
 * Options of {@link runInProcess}.
 * @example
 * await runInProcess({ strategy, trainer, parties, rounds: 20, global: spec.init(seed) })
 */
export interface InProcessOptions {
  strategy: Strategy<NamedParams>
  trainer: Trainer<NamedParams>
  parties: readonly SimParty[]
  rounds: number
  global: NamedParams
  /** Evaluate every this many rounds (and after the last). @default 1 */
  evalEvery?: number
  /** Per-party randomness (batching, DP noise). */
  rngFor?: (party: string, round: number) => RandomSource
  /** Lets a party adjust its instruction (e.g. its own calibrated noise multiplier). */
  configFor?: (party: string, config: FitConfig) => FitConfig
  onRound?: (r: RoundRecord) => void
}

/**
 * What one round produced.
 * @example
 * rounds.at(-1)!.evaluation?.auc
 */
export interface RoundRecord {
  round: number
  fit: Metrics
  evaluation?: Metrics
  wallMs: number
}

/**
 * Runs `rounds` rounds of configureFit → local fits → Σ summands → aggregateFit (→ evaluation).
 *
 * @example
 * const { global, rounds, events } = await runInProcess(options)
 */
export async function runInProcess(
  o: InProcessOptions
): Promise<{ global: NamedParams; rounds: RoundRecord[]; events: Map<string, DpEvent[]> }> {
  const byName = new Map(o.parties.map((p) => [p.name, p]))
  const fleet = { available: o.parties.map((p) => p.name) }
  const evalEvery = o.evalEvery ?? 1
  const events = new Map<string, DpEvent[]>(o.parties.map((p) => [p.name, []]))
  const rounds: RoundRecord[] = []
  let global = o.global
  for (let round = 1; round <= o.rounds; round++) {
    const started = performance.now()
    const instructions = o.strategy.configureFit(round, global, fleet)
    const updates: Array<{ peer: string; update: LocalUpdate }> = []
    for (const ins of instructions) {
      const party = byName.get(ins.peer)!
      const config = o.configFor?.(party.name, ins.config) ?? ins.config
      const rng = o.rngFor?.(party.name, round)
      const update = await o.trainer.fit(global, party.train, config, rng === undefined ? {} : { rng })
      events.get(party.name)!.push(update.event)
      updates.push({ peer: party.name, update })
    }
    const agg = fromSummand(
      sumAll(updates.map((u) => toSummand(u.update))),
      updates.map((u) => u.peer)
    )
    const next = o.strategy.aggregateFit(round, agg, global)
    global = next.global
    const record: RoundRecord = { round, fit: next.metrics, wallMs: 0 }
    if (round % evalEvery === 0 || round === o.rounds)
      record.evaluation = await evaluateInProcess(o.strategy, o.trainer, o.parties, global, round)
    record.wallMs = performance.now() - started
    rounds.push(record)
    o.onRound?.(record)
  }
  return { global, rounds, events }
}

/**
 * A federated evaluation with plain sums: every party's evaluation vector, summed, then the
 * strategy's aggregateEvaluate.
 *
 * @example
 * const m = await evaluateInProcess(strategy, trainer, parties, global, 20) // m.auc
 */
export async function evaluateInProcess(
  strategy: Strategy<NamedParams>,
  trainer: Trainer<NamedParams>,
  parties: readonly SimParty[],
  global: NamedParams,
  round: number
): Promise<Metrics> {
  const byName = new Map(parties.map((p) => [p.name, p]))
  const ins = strategy.configureEvaluate(round, global, { available: parties.map((p) => p.name) })
  const vectors: Float64Array[] = []
  for (const i of ins) {
    const v = await trainer.evaluationVector(global, byName.get(i.peer)!.test, i.config)
    vectors.push(toSummand({ vector: v, weight: 1 }))
  }
  return strategy.aggregateEvaluate(
    round,
    fromSummand(
      sumAll(vectors),
      ins.map((i) => i.peer)
    )
  )
}

function sumAll(vs: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(vs[0]!.length)
  for (const v of vs) for (let i = 0; i < v.length; i++) out[i]! += v[i]!
  return out
}
