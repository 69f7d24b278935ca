import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { ConfigError } from './errors.ts'
import { JobConfig, ModelConfig } from './job.ts'
import { DatasetPolicy } from './node-config.ts'
import { describeIssues } from './load.ts'
import { DatasetSource, PartitionConfig, PartyName as Party } from './scenario-data.ts'
import { FaultConfig } from './scenario-faults.ts'

export { DatasetSource, PartitionConfig, SyntheticConfig } from './scenario-data.ts'
export { COORDINATOR_SCRIPTS, DropoutPhase, DROPOUT_PHASES, FaultConfig } from './scenario-faults.ts'

/**
 * A simulation scenario (`cohort sim run SCENARIO`): one file that describes a whole federation —
 * dataset, how it is split into parties, the training job (its `model:` block is a job's, unchanged),
 * secure aggregation, DP, faults, transport and seed. docs/simulations.md documents every key.
 * Paths are relative to the scenario file.
 */

const Name = z.string().min(1).max(100)

const JobShape = JobConfig.shape

/**
 * The scenario file.
 * @example
 * const s = ScenarioConfig.parse(parseYaml(text))
 */
export const ScenarioConfig = z
  .object({
    name: Name,
    description: z.string().max(2000).optional(),
    seed: z.number().int().nonnegative().default(1),
    dataset: DatasetSource,
    partition: PartitionConfig,
    /** Exactly a job's `model:` block (configs/job.ts ModelConfig). */
    model: ModelConfig,
    secureAggregation: JobShape.secureAggregation,
    dp: JobShape.dp,
    faults: z.array(FaultConfig).max(1000).default([]),
    transport: z.enum(['loopback', 'libp2p']).default('loopback'),
    /** Encoded feature names to train on. @default every feature */
    features: z.array(z.string()).optional(),
    minParticipants: JobShape.minParticipants,
    secagg: JobShape.secagg,
    /** A job's `statistics:`; `ranges: auto` takes each numeric column's min/max from the data. */
    statistics: z
      .object({
        ranges: z
          .union([z.literal('auto'), z.record(z.string(), z.tuple([z.number(), z.number()]))])
          .optional(),
        noiseMultiplier: z.number().positive().max(1000).default(10)
      })
      .strict()
      .default({ noiseMultiplier: 10 }),
    evaluation: JobShape.evaluation,
    deadlines: z
      .object({
        phaseMs: z.number().int().min(100).default(30_000),
        trainMs: z.number().int().min(100).default(120_000)
      })
      .strict()
      .default({ phaseMs: 30_000, trainMs: 120_000 }),
    /** Node policy of every party (configs/node-config.ts), and per-party overrides. */
    policy: DatasetPolicy.extend({ parties: z.record(Party, DatasetPolicy).default({}) })
      .strict()
      .default({ parties: {} }),
    baselines: z
      .object({ centralized: z.boolean().default(true), localOnly: z.boolean().default(true) })
      .strict()
      .default({ centralized: true, localOnly: true }),
    /**
     * The coordinator's sanity check on the unmasked fit sum: the mean update's L2 norm must stay
     * within `maxUpdateNorm` (plus the DP noise), else the round is discarded.
     * @default maxUpdateNorm = dp.clipNorm for update-level DP; off otherwise
     */
    sanityCheck: z
      .object({ maxUpdateNorm: z.number().positive().optional(), enabled: z.boolean().default(true) })
      .strict()
      .default({ enabled: true })
  })
  .strict()
/** @example const s: ScenarioConfig = loadScenario('configs/scenarios/credit-natural.yaml').config */
export type ScenarioConfig = z.infer<typeof ScenarioConfig>

/**
 * A validated scenario with its file paths resolved.
 * @example
 * const { config, dir } = loadScenario('configs/scenarios/credit-natural.yaml')
 */
export interface LoadedScenario {
  config: ScenarioConfig
  /** The scenario file (absolute), or undefined for an in-memory scenario. */
  path: string | undefined
  /** Directory relative paths are resolved against. */
  dir: string
  /** Absolute path of a relative or absolute path in the scenario. */
  resolve(p: string): string
}

/**
 * Parses a `--set`/`--param` value: numbers, `inf`/`infinity`, booleans, `null`, JSON arrays and
 * objects; anything else stays a string.
 *
 * @example
 * parseParamValue('0.5') // 0.5
 * parseParamValue('inf') // Infinity
 */
export function parseParamValue(text: string): unknown {
  const t = text.trim()
  if (/^[+]?inf(inity)?$/i.test(t)) return Number.POSITIVE_INFINITY
  if (t === 'true' || t === 'false') return t === 'true'
  if (t === 'null') return null
  if (t !== '' && Number.isFinite(Number(t))) return Number(t)
  if (t.startsWith('[') || t.startsWith('{')) {
    try {
      return JSON.parse(t) as unknown
    } catch {
      throw new ConfigError(`"${t}" looks like JSON but does not parse`)
    }
  }
  return t
}

/**
 * Sets a dotted key of a raw (unvalidated) scenario object. `dp.epsilon` is special: `inf` means
 * no DP (`dp: none`), and a number turns `dp: none` into `{ epsilon }` with the defaults.
 *
 * @example
 * const raw = applyParam({ dp: 'none' }, 'dp.epsilon', 2) // { dp: { epsilon: 2 } }
 */
export function applyParam(
  raw: Record<string, unknown>,
  key: string,
  value: unknown
): Record<string, unknown> {
  const out = structuredClone(raw)
  const parts = key.split('.')
  if (parts.some((p) => p === '' || p === '__proto__' || p === 'constructor' || p === 'prototype'))
    throw new ConfigError(`"${key}" is not a scenario key`)
  if (parts[0] === 'dp' && parts.length === 2) {
    if (parts[1] === 'epsilon' && value === Number.POSITIVE_INFINITY) {
      out.dp = 'none'
      return out
    }
    if (typeof out.dp !== 'object' || out.dp === null) out.dp = {}
    const dp = out.dp as Record<string, unknown>
    if (parts[1] === 'epsilon') delete dp.noiseMultiplier
    if (parts[1] === 'noiseMultiplier') delete dp.epsilon
  }
  let node: Record<string, unknown> = out
  for (const p of parts.slice(0, -1)) {
    const next = node[p]
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[p] = {}
    node = node[p] as Record<string, unknown>
  }
  node[parts.at(-1)!] = value
  return out
}

/**
 * Validates a raw scenario object.
 * @throws ConfigError naming the first bad fields
 * @example
 * const cfg = parseScenario({ name: 's', dataset: { synthetic: { rows: 1000 } }, partition: { kind: 'iid', parties: 3 }, model: { kind: 'logreg' } })
 */
export function parseScenario(raw: unknown, what = 'scenario'): ScenarioConfig {
  const r = ScenarioConfig.safeParse(raw)
  if (!r.success) throw new ConfigError(`${what} is invalid: ${describeIssues(r.error)}`)
  const s = r.data
  const job = JobConfig.safeParse({
    name: s.name,
    model: s.model,
    data: { dataset: 'x' },
    dp: s.dp,
    minParticipants: s.minParticipants,
    secagg: s.secagg
  })
  if (!job.success) throw new ConfigError(`${what} is invalid: ${describeIssues(job.error)}`)
  return s
}

/**
 * Reads the raw object of a scenario file (YAML or JSON).
 * @throws ConfigError
 * @example
 * const raw = readScenarioFile('configs/scenarios/credit-natural.yaml')
 */
export function readScenarioFile(path: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(
      `cannot read the scenario at ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`
    )
  }
  let value: unknown
  try {
    value = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text)
  } catch (err) {
    throw new ConfigError(`the scenario at ${path} does not parse: ${(err as Error).message.split('\n')[0]}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(`the scenario at ${path} must be a mapping of keys`)
  return value as Record<string, unknown>
}

/**
 * Loads, overrides (`key=value` pairs, as `--set` gives them) and validates a scenario file.
 *
 * @throws ConfigError
 * @example
 * const s = loadScenario('configs/scenarios/credit-natural.yaml', { 'model.rounds': 3 })
 */
export function loadScenario(path: string, overrides: Record<string, unknown> = {}): LoadedScenario {
  const abs = resolve(path)
  let raw = readScenarioFile(abs)
  for (const [k, v] of Object.entries(overrides)) raw = applyParam(raw, k, v)
  return scenarioFrom(raw, dirname(abs), abs)
}

/**
 * A scenario from a raw object, relative paths resolved against `dir`.
 * @example
 * const s = scenarioFrom({ ... }, process.cwd())
 */
export function scenarioFrom(raw: unknown, dir: string, path?: string): LoadedScenario {
  const config = parseScenario(raw, path === undefined ? 'scenario' : `the scenario at ${path}`)
  return {
    config,
    path,
    dir,
    resolve: (p) => (isAbsolute(p) ? p : resolve(dir, p))
  }
}
