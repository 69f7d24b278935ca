import type { Command } from 'commander'
import { CohortError } from '../../crypto/cohort-error.ts'
import { type Calibration, calibrate, dpSgdEpsilon } from '../../crypto/dp/accountants/calibrate.ts'
import type { EpsilonAtOrder } from '../../crypto/dp/accountants/rdp-conversion.ts'
import { action, printJson } from '../action.ts'

/**
 * `cohort privacy …`: DP-SGD planning with the RDP accountant (crypto/dp).
 *
 *   cohort privacy epsilon   --sampling-rate Q --noise-multiplier Z --steps T --delta D  -> {epsilon, order}
 *   cohort privacy calibrate --epsilon E --delta D --sampling-rate Q --steps T           -> {noiseMultiplier, epsilon, order}
 *
 * The command functions below are pure (options in, JSON-able value out) so tests call them directly.
 */

/**
 * Raw commander options: every value is the string the user typed.
 * @example
 * privacyEpsilon({ samplingRate: '0.01', noiseMultiplier: '1', steps: '100', delta: '1e-5' } satisfies RawOptions)
 */
export type RawOptions = Record<string, unknown>

/**
 * `cohort privacy epsilon`: epsilon of `steps` Poisson-sampled Gaussian steps at `delta`.
 *
 * @throws CohortError COHORT_USAGE on a missing or malformed flag.
 * @example
 * privacyEpsilon({ samplingRate: '0.0042667', noiseMultiplier: '1.1', steps: '14062', delta: '1e-5' })
 * // { epsilon: 2.6, order: 8 }
 */
export function privacyEpsilon(raw: RawOptions): EpsilonAtOrder {
  const q = samplingRate(raw)
  const noiseMultiplier = number(raw, 'noiseMultiplier', '--noise-multiplier', (x) => x > 0, 'a number > 0')
  const steps = integer(raw, 'steps', '--steps')
  const d = delta(raw)
  const r = dpSgdEpsilon({ q, noiseMultiplier, steps, delta: d })
  return { epsilon: r.epsilon, order: r.order }
}

/**
 * `cohort privacy calibrate`: the smallest noise multiplier meeting `epsilon` at `delta`.
 *
 * @throws CohortError COHORT_USAGE on a missing or malformed flag.
 * @example
 * privacyCalibrate({ epsilon: '3', delta: '1e-5', samplingRate: '0.0042667', steps: '14062' })
 * // { noiseMultiplier: 1.01, epsilon: 2.9997, order: 7 }
 */
export function privacyCalibrate(raw: RawOptions): Calibration {
  const epsilon = number(raw, 'epsilon', '--epsilon', (x) => x > 0, 'a number > 0')
  const d = delta(raw)
  const q = samplingRate(raw)
  const steps = integer(raw, 'steps', '--steps')
  const r = calibrate({ epsilon, delta: d, q, steps })
  return { noiseMultiplier: r.noiseMultiplier, epsilon: r.epsilon, order: r.order }
}

/**
 * Adds the `privacy` group to `program`.
 *
 * @example
 * register(program) // then: cohort privacy epsilon --sampling-rate 0.01 --noise-multiplier 1 --steps 1000 --delta 1e-5
 */
export function register(program: Command): void {
  const privacy = program.command('privacy').description('differential-privacy planning (RDP accountant)')
  privacy
    .command('epsilon')
    .description('epsilon of DP-SGD: T Poisson-sampled Gaussian steps, at a target delta')
    .requiredOption('--sampling-rate <q>', 'Poisson sampling rate, batch size / dataset size, in (0, 1]')
    .requiredOption('--noise-multiplier <sigma>', 'noise standard deviation / clipping norm, > 0')
    .requiredOption('--steps <t>', 'number of training steps, an integer >= 1')
    .requiredOption('--delta <d>', 'target delta, in (0, 1)')
    .action(
      action((opts: RawOptions) => {
        printJson(privacyEpsilon(opts))
      })
    )
  privacy
    .command('calibrate')
    .description('smallest noise multiplier for which DP-SGD meets a target (epsilon, delta)')
    .requiredOption('--epsilon <e>', 'target epsilon, > 0')
    .requiredOption('--delta <d>', 'target delta, in (0, 1)')
    .requiredOption('--sampling-rate <q>', 'Poisson sampling rate, in (0, 1]')
    .requiredOption('--steps <t>', 'number of training steps, an integer >= 1')
    .action(
      action((opts: RawOptions) => {
        printJson(privacyCalibrate(opts))
      })
    )
}

const NUMBER_SYNTAX = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i

function usage(message: string): CohortError {
  return new CohortError(message, 'COHORT_USAGE')
}

function number(
  raw: RawOptions,
  key: string,
  flag: string,
  ok: (x: number) => boolean,
  what: string
): number {
  const s = raw[key]
  if (s === undefined) throw usage(`missing ${flag}: expected ${what}`)
  const x = typeof s === 'string' && NUMBER_SYNTAX.test(s.trim()) ? Number(s.trim()) : Number.NaN
  if (!Number.isFinite(x) || !ok(x)) throw usage(`${flag} must be ${what}, got '${String(s)}'`)
  return x
}

function integer(raw: RawOptions, key: string, flag: string): number {
  return number(raw, key, flag, (x) => Number.isSafeInteger(x) && x >= 1, 'an integer >= 1')
}

function samplingRate(raw: RawOptions): number {
  return number(raw, 'samplingRate', '--sampling-rate', (x) => x > 0 && x <= 1, 'a number in (0, 1]')
}

function delta(raw: RawOptions): number {
  return number(raw, 'delta', '--delta', (x) => x > 0 && x < 1, 'a number in (0, 1)')
}
