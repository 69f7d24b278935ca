import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { describe, expect, it } from 'vitest'
import { JobConfig } from '../../../configs/job.ts'
import {
  applyParam,
  loadScenario,
  parseParamValue,
  parseScenario,
  ScenarioConfig,
  scenarioFrom
} from '../../../configs/scenario.ts'

const REPO = resolve(import.meta.dirname, '../../..')

/** The block of issue 6, verbatim: these keys must work exactly as shown. */
const ISSUE_EXAMPLE = `
name: credit-horizontal
seed: 1
dataset: { csv: ../../datasets/credit_data/data.csv, spec: ../../datasets/credit_data/spec.json }
partition: { file: ../../datasets/credit_data/partitions/horizontal_natural.json }
# or: { kind: dirichlet, parties: 5, alpha: 0.5 } | { kind: iid, parties: 10 } | { kind: column, column: Job }
model: { kind: logreg, rounds: 20, localEpochs: 1, batchSize: 64, learningRate: 0.1 }
# or: { kind: kmeans, k: 4, rounds: 10 } | { kind: mlp, hidden: [32], rounds: 20, ... }
secureAggregation: secagg+      # or he, none
dp: none                        # or { epsilon: 1, delta: 1.0e-5, clipNorm: 1.0 }
faults: []                      # or [{ dropout: { party: p2, round: 3, phase: masked-input } }, { dropoutRate: 0.1 }]
transport: loopback             # or libp2p
`

const raw = () => parseYaml(ISSUE_EXAMPLE) as Record<string, unknown>

describe('scenario schema: the keys of the issue', () => {
  it('parses the issue example as written, paths relative to the scenario file', () => {
    const dir = join(REPO, 'configs/scenarios')
    const s = scenarioFrom(raw(), dir, join(dir, 'example.yaml'))
    expect(s.config).toMatchObject({
      name: 'credit-horizontal',
      seed: 1,
      secureAggregation: 'secagg+',
      dp: 'none',
      faults: [],
      transport: 'loopback',
      model: { kind: 'logreg', rounds: 20, localEpochs: 1, batchSize: 64, learningRate: 0.1 }
    })
    const ds = s.config.dataset as { csv: string; spec: string }
    expect(s.resolve(ds.csv)).toBe(join(REPO, 'datasets/credit_data/data.csv'))
    expect(s.resolve('/abs/file.csv')).toBe('/abs/file.csv')
  })

  it.each([
    [{ kind: 'dirichlet', parties: 5, alpha: 0.5 }],
    [{ kind: 'iid', parties: 10 }],
    [{ kind: 'column', column: 'Job' }],
    [{ kind: 'quantity', parties: 4, alpha: 1 }],
    [{ file: 'vertical.json', overlap: 'vertical_overlap.json' }]
  ])('accepts the partition alternative %j', (partition) => {
    expect(parseScenario({ ...raw(), partition }).partition).toMatchObject(partition)
  })

  it.each([[{ kind: 'kmeans', k: 4, rounds: 10 }], [{ kind: 'mlp', hidden: [32], rounds: 20 }]])(
    'accepts the model alternative %j, which is a job model block unchanged',
    (model) => {
      const s = parseScenario({ ...raw(), model })
      expect(s.model).toMatchObject(model)
      expect(JobConfig.parse({ name: 'j', model: s.model, data: { dataset: 'd' } }).model).toEqual(s.model)
    }
  )

  it('accepts he / none, a DP object, the fault examples and libp2p', () => {
    for (const secureAggregation of ['he', 'none', 'secagg+'])
      expect(parseScenario({ ...raw(), secureAggregation }).secureAggregation).toBe(secureAggregation)
    expect(parseScenario({ ...raw(), dp: { epsilon: 1, delta: 1.0e-5, clipNorm: 1.0 } }).dp).toEqual({
      mode: 'record',
      epsilon: 1,
      delta: 1e-5,
      clipNorm: 1
    })
    const faults = parseScenario({
      ...raw(),
      faults: [{ dropout: { party: 'p2', round: 3, phase: 'masked-input' } }, { dropoutRate: 0.1 }]
    }).faults
    expect(faults).toEqual([
      { dropout: { party: 'p2', round: 3, phase: 'masked-input' } },
      { dropoutRate: 0.1 }
    ])
    expect(parseScenario({ ...raw(), transport: 'libp2p' }).transport).toBe('libp2p')
  })

  it('refuses unknown keys, bad values and a DP block the job schema refuses, as ConfigError', () => {
    const bad = [
      { ...raw(), partitions: {} },
      { ...raw(), transport: 'carrier-pigeon' },
      { ...raw(), partition: { kind: 'dirichlet', parties: 5 } },
      { ...raw(), faults: [{ dropout: { party: 'p2', round: 0 } }] },
      { ...raw(), dp: { epsilon: 1, noiseMultiplier: 1 } },
      { ...raw(), model: { kind: 'logreg', rounds: 20, epochs: 3 } }
    ]
    for (const b of bad)
      expect(() => parseScenario(b)).toThrow(expect.objectContaining({ code: 'COHORT_CONFIG_INVALID' }))
  })
})

describe('parameter overrides (--set, --param)', () => {
  it('parses values', () => {
    expect(parseParamValue('0.5')).toBe(0.5)
    expect(parseParamValue('inf')).toBe(Number.POSITIVE_INFINITY)
    expect(parseParamValue('Infinity')).toBe(Number.POSITIVE_INFINITY)
    expect(parseParamValue('true')).toBe(true)
    expect(parseParamValue('[1,2]')).toEqual([1, 2])
    expect(parseParamValue('full')).toBe('full')
  })

  it('dp.epsilon=inf means no DP; a finite one turns dp: none into a DP block', () => {
    expect(applyParam({ dp: { epsilon: 1 } }, 'dp.epsilon', Number.POSITIVE_INFINITY).dp).toBe('none')
    expect(applyParam({ dp: 'none' }, 'dp.epsilon', 2).dp).toEqual({ epsilon: 2 })
    expect(applyParam({ dp: { noiseMultiplier: 1 } }, 'dp.epsilon', 2).dp).toEqual({ epsilon: 2 })
    const r = { model: { kind: 'logreg', rounds: 20 } }
    expect(applyParam(r, 'model.rounds', 3)).toEqual({ model: { kind: 'logreg', rounds: 3 } })
    expect(r.model.rounds).toBe(20)
    expect(() => applyParam({}, '__proto__.x', 1)).toThrow(
      expect.objectContaining({ code: 'COHORT_CONFIG_INVALID' })
    )
  })

  it('loadScenario applies overrides before validating', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cohort-scenario-'))
    const file = join(dir, 's.yaml')
    writeFileSync(file, ISSUE_EXAMPLE)
    const s = loadScenario(file, { 'model.rounds': 3, seed: 9, 'dp.epsilon': 4 })
    expect(s.config.model.rounds).toBe(3)
    expect(s.config.seed).toBe(9)
    expect(s.config.dp).toMatchObject({ epsilon: 4 })
    expect(() => loadScenario(file, { 'model.rounds': 0 })).toThrow(
      expect.objectContaining({ code: 'COHORT_CONFIG_INVALID' })
    )
    expect(() => loadScenario(join(dir, 'missing.yaml'))).toThrow(
      expect.objectContaining({ code: 'COHORT_CONFIG_INVALID' })
    )
  })
})

describe('configs/scenarios', () => {
  const files = readdirSync(join(REPO, 'configs/scenarios')).filter((f) => /\.(ya?ml|json)$/.test(f))

  it('has horizontal natural, horizontal Dirichlet and k-means scenarios for each shared dataset', () => {
    for (const d of ['credit', 'wa-churn', 'lending-club'])
      for (const kind of ['natural', 'dirichlet', 'kmeans']) expect(files).toContain(`${d}-${kind}.yaml`)
  })

  it.each(files)('%s is valid and its files exist', (f) => {
    const s = loadScenario(join(REPO, 'configs/scenarios', f))
    expect(ScenarioConfig.safeParse(s.config).success).toBe(true)
    const paths: string[] = []
    if ('csv' in s.config.dataset) paths.push(s.config.dataset.csv, s.config.dataset.spec)
    if ('file' in s.config.partition) paths.push(s.config.partition.file)
    for (const p of paths) expect(readdirSync(resolve(s.resolve(p), '..'))).toContain(p.split('/').at(-1))
  })
})
