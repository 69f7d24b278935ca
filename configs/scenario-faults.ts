/**
 * The `faults:` block of a scenario (configs/scenario.ts): dropouts, stragglers, message loss,
 * malicious parties and a malicious coordinator (docs/simulations.md "Faults").
 */
import { z } from 'zod'
import { PartyName as Party } from './scenario-data.ts'

const Rate = z.number().min(0).max(1)

/**
 * Where in a round a party can be made to drop. SecAgg+ phases are those of the fit's secure sum.
 * @example
 * DROPOUT_PHASES.includes('masked-input') // true
 */
export const DROPOUT_PHASES = [
  'fit',
  'advertise-keys',
  'share-keys',
  'masked-input',
  'consistency-check',
  'unmask',
  'eval'
] as const
/** @example DropoutPhase.parse('unmask') */
export const DropoutPhase = z.enum(DROPOUT_PHASES)
/** @example const p: DropoutPhase = 'fit' */
export type DropoutPhase = z.infer<typeof DropoutPhase>

/**
 * Malicious-coordinator scripts against the SecAgg+ participants' checks.
 * @example
 * COORDINATOR_SCRIPTS // ['swap-key', 'unmask-overlap', 'unmask-inconsistent']
 */
export const COORDINATOR_SCRIPTS = ['swap-key', 'unmask-overlap', 'unmask-inconsistent'] as const

/**
 * One fault of a scenario (docs/simulations.md "Faults").
 * @example
 * FaultConfig.parse({ dropout: { party: 'lender_a', round: 3, phase: 'masked-input' } })
 */
export const FaultConfig = z.union([
  z
    .object({
      /** One party crashes at (round, phase) and is unreachable until the coordinator's next request. */
      dropout: z
        .object({ party: Party, round: z.number().int().min(1), phase: DropoutPhase.default('masked-input') })
        .strict()
    })
    .strict(),
  z
    .object({
      /** Every round, each party drops with this probability, at a phase drawn from `phases`. */
      dropoutRate: z.union([
        Rate,
        z
          .object({
            rate: Rate,
            /** @default fit and the five SecAgg+ phases (fit only without SecAgg+) */
            phases: z.array(DropoutPhase).min(1).optional(),
            fromRound: z.number().int().min(1).optional(),
            toRound: z.number().int().min(1).optional()
          })
          .strict()
      ])
    })
    .strict(),
  z
    .object({
      /** Added one-way latency on every message to and from `party` ('*' = every party). */
      straggler: z
        .object({
          party: Party,
          latencyMs: z.number().int().min(0).max(600_000),
          jitterMs: z.number().int().min(0).default(0)
        })
        .strict()
    })
    .strict(),
  z
    .object({
      /** Loopback only: each message is lost with this probability (the sender waits for its deadline). */
      loss: z
        .object({ rate: Rate, direction: z.enum(['request', 'response', 'both']).default('both') })
        .strict()
    })
    .strict(),
  z
    .object({
      /**
       * A party whose fit update is scaled by `factor` or replaced by noise of L2 norm `norm` (in
       * update units) before masking; secure aggregation hides who sent it.
       */
      malicious: z
        .object({
          party: Party,
          kind: z.enum(['scale', 'random']),
          factor: z.number().int().min(-1_000_000).max(1_000_000).default(100),
          norm: z.number().positive().default(100),
          /** @default every round */
          rounds: z.array(z.number().int().min(1)).optional()
        })
        .strict()
    })
    .strict(),
  z
    .object({
      /** The coordinator deviates from SecAgg+ towards `victim` in `round`'s fit sum. */
      maliciousCoordinator: z
        .object({
          script: z.enum(COORDINATOR_SCRIPTS),
          victim: Party,
          round: z.number().int().min(1)
        })
        .strict()
    })
    .strict()
])
/** @example const f: FaultConfig = { dropoutRate: 0.1 } */
export type FaultConfig = z.infer<typeof FaultConfig>
