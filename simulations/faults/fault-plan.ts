import type { DropoutPhase, FaultConfig, ScenarioConfig } from '../../configs/scenario.ts'
import { SimConfigError } from '../errors.ts'
import { floats, simRandom } from '../rng.ts'

/**
 * A scenario's `faults:` resolved into a concrete, seeded plan before the run starts: which party
 * drops in which round at which phase, who straggles by how much, the loss rate, the malicious
 * parties and the coordinator's scripts. Random dropouts are drawn here, in a fixed order, so the
 * same seed always drops the same parties at the same phases, however the run's messages interleave.
 */

/**
 * The five SecAgg+ phases of the fit's secure sum.
 * @example
 * SECAGG_DROPOUT_PHASES[2] // 'masked-input'
 */
export const SECAGG_DROPOUT_PHASES: readonly DropoutPhase[] = [
  'advertise-keys',
  'share-keys',
  'masked-input',
  'consistency-check',
  'unmask'
]

/**
 * One party's malicious behaviour.
 * @example
 * const m: MaliciousPlan = { kind: 'scale', factor: 100, norm: 100, rounds: undefined }
 */
export interface MaliciousPlan {
  kind: 'scale' | 'random'
  factor: number
  norm: number
  /** Rounds it acts in (undefined = every round). */
  rounds: ReadonlySet<number> | undefined
}

/**
 * The resolved plan.
 * @example
 * plan.dropouts.get(3)?.get('party-07') // 'masked-input'
 */
export interface FaultPlan {
  /** round -> party -> phase. */
  dropouts: Map<number, Map<string, DropoutPhase>>
  /** party -> one-way latency. */
  stragglers: Map<string, { latencyMs: number; jitterMs: number }>
  loss: { rate: number; direction: 'request' | 'response' | 'both' } | undefined
  malicious: Map<string, MaliciousPlan>
  coordinatorScripts: Array<{ script: string; victim: string; round: number }>
}

function checkParty(party: string, parties: ReadonlySet<string>, what: string): void {
  if (!parties.has(party))
    throw new SimConfigError(
      `${what} names party "${party}", which the partition does not have (parties: ${[...parties].slice(0, 10).join(', ')}${parties.size > 10 ? ', …' : ''})`
    )
}

/**
 * Resolves the faults of a scenario for its parties.
 *
 * @throws SimConfigError for an unknown party, a SecAgg+ phase without SecAgg+, loss over libp2p
 * @example
 * const plan = planFaults(scenario.config, Object.keys(parties))
 */
export function planFaults(s: ScenarioConfig, partyList: readonly string[]): FaultPlan {
  const parties = new Set(partyList)
  const secagg = s.secureAggregation === 'secagg+'
  const rounds = s.model.rounds
  const plan: FaultPlan = {
    dropouts: new Map(),
    stragglers: new Map(),
    loss: undefined,
    malicious: new Map(),
    coordinatorScripts: []
  }
  const drop = (round: number, party: string, phase: DropoutPhase) => {
    let m = plan.dropouts.get(round)
    if (m === undefined) {
      m = new Map()
      plan.dropouts.set(round, m)
    }
    if (!m.has(party)) m.set(party, phase)
  }
  const checkPhase = (phase: DropoutPhase, what: string) => {
    if (!secagg && SECAGG_DROPOUT_PHASES.includes(phase))
      throw new SimConfigError(
        `${what}: phase ${phase} is a SecAgg+ phase, but the scenario uses ${s.secureAggregation}`
      )
  }
  // Scheduled dropouts first: a random draw never overrides one.
  for (const f of s.faults) {
    if (!('dropout' in f)) continue
    checkParty(f.dropout.party, parties, 'a dropout')
    checkPhase(f.dropout.phase, 'a dropout')
    drop(f.dropout.round, f.dropout.party, f.dropout.phase)
  }
  // Malicious parties first: a random dropout never hides an attack (the scenario asked for it).
  for (const f of s.faults) if ('malicious' in f) applyOther(f)
  let rateIndex = 0
  for (const f of s.faults) if (!('malicious' in f)) applyOther(f)
  return plan

  function applyOther(f: FaultConfig): void {
    if ('dropoutRate' in f) {
      const r = typeof f.dropoutRate === 'number' ? { rate: f.dropoutRate } : f.dropoutRate
      const phases = r.phases ?? (secagg ? ['fit', ...SECAGG_DROPOUT_PHASES] : ['fit'])
      for (const p of phases) checkPhase(p, 'dropoutRate')
      const draws = floats(simRandom(`${s.seed}/faults/dropout-rate/${rateIndex++}`))
      const sortedParties = [...partyList].sort()
      for (let round = r.fromRound ?? 1; round <= Math.min(rounds, r.toRound ?? rounds); round++) {
        for (const party of sortedParties) {
          const u = draws.uniform()
          const phase = phases[Math.min(phases.length - 1, Math.floor(draws.uniform() * phases.length))]!
          const m = plan.malicious.get(party)
          const attacking = m !== undefined && (m.rounds === undefined || m.rounds.has(round))
          if (u < r.rate && !attacking) drop(round, party, phase)
        }
      }
    } else if ('straggler' in f) {
      const targets = f.straggler.party === '*' ? partyList : [f.straggler.party]
      if (f.straggler.party !== '*') checkParty(f.straggler.party, parties, 'a straggler')
      for (const p of targets)
        plan.stragglers.set(p, { latencyMs: f.straggler.latencyMs, jitterMs: f.straggler.jitterMs })
    } else if ('loss' in f) {
      if (s.transport !== 'loopback')
        throw new SimConfigError(
          'network loss is injected by the loopback transport; use transport: loopback'
        )
      plan.loss = { rate: f.loss.rate, direction: f.loss.direction }
    } else if ('malicious' in f) {
      checkParty(f.malicious.party, parties, 'a malicious party')
      if (s.model.kind === 'kmeans')
        throw new SimConfigError(
          'malicious updates are defined for logreg and mlp models (their updates are model deltas)'
        )
      plan.malicious.set(f.malicious.party, {
        kind: f.malicious.kind,
        factor: f.malicious.factor,
        norm: f.malicious.norm,
        rounds: f.malicious.rounds === undefined ? undefined : new Set(f.malicious.rounds)
      })
    } else if ('maliciousCoordinator' in f) {
      if (!secagg)
        throw new SimConfigError(
          'malicious-coordinator scripts attack SecAgg+; use secureAggregation: secagg+'
        )
      checkParty(f.maliciousCoordinator.victim, parties, 'a malicious-coordinator script')
      plan.coordinatorScripts.push({ ...f.maliciousCoordinator })
    }
  }
}
