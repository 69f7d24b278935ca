/**
 * Pure protocol state machines (style.md C2). A Machine names its protocol, lists the phase
 * transitions it allows, builds an initial state and steps it with one input at a time. It does no
 * I/O: runners in node/ and coordinator/ move bytes through a Transport, persist what must survive
 * and write the audit log. The same machine therefore runs unchanged over libp2p and the in-process
 * loopback transport, and can be driven directly in tests and benches.
 *
 * A transition table is a list of (from, to) phase pairs; `step` checks every phase change against
 * it before doing anything else and throws {@link PhaseError} otherwise (Flower's `check_stage`,
 * secaggplus_mod.py). Tests enumerate the product of all phases and assert exactly the listed pairs
 * pass (tests/unit/secagg/transitions.test.ts).
 */
import { CohortError } from '../crypto/cohort-error.ts'
import type { ProtocolId } from './ids.ts'

/** One allowed phase change. */
export type Transition = readonly [from: string, to: string]
/** Every phase change a machine allows. */
export type TransitionTable = ReadonlyArray<Transition>

/**
 * A protocol state machine. `step` may throw {@link PhaseError} (input out of phase) or a protocol
 * specific CohortError (a rule was broken); it never performs I/O.
 *
 * States are used linearly: after `step(s, i)` returns, the caller must use the returned state and
 * drop `s` (a machine may reuse or wipe buffers of the old state, e.g. to zero secrets).
 *
 * @example
 * let state = machine.init(params)
 * const { state: next, output } = machine.step(state, input)
 * state = next
 */
export interface Machine<S, In extends { phase: string }, Out> {
  readonly protocol: ProtocolId
  readonly transitions: TransitionTable
  init(params: unknown): S
  step(state: S, input: In): { state: S; output: Out }
}

/** An input arrived in a phase that does not allow it (e.g. `unmask` before `masked-input`). */
export class PhaseError extends CohortError {
  static override readonly name = 'PhaseError'
  readonly from: string
  readonly to: string
  constructor(from: string, to: string, message?: string) {
    super(message ?? `a '${to}' message is not allowed in phase '${from}'`, 'COHORT_PHASE_ERROR')
    this.from = from
    this.to = to
  }
}

/**
 * True when the table lists (from, to).
 *
 * @example
 * isTransitionAllowed([['init', 'advertise-keys']], 'init', 'advertise-keys') // true
 */
export function isTransitionAllowed(table: TransitionTable, from: string, to: string): boolean {
  for (const [f, t] of table) if (f === from && t === to) return true
  return false
}

/**
 * Throws {@link PhaseError} unless the table lists (from, to).
 *
 * @example
 * assertTransition(PARTICIPANT_TRANSITIONS, state.phase, input.phase)
 */
export function assertTransition(table: TransitionTable, from: string, to: string): void {
  if (!isTransitionAllowed(table, from, to)) throw new PhaseError(from, to)
}

/**
 * Every phase named in a table, in first-appearance order.
 *
 * @example
 * phasesOf([['a', 'b'], ['b', 'c']]) // ['a', 'b', 'c']
 */
export function phasesOf(table: TransitionTable): string[] {
  const out: string[] = []
  for (const [f, t] of table) {
    if (!out.includes(f)) out.push(f)
    if (!out.includes(t)) out.push(t)
  }
  return out
}
