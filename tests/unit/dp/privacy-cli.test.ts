import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Command } from 'commander'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { privacyCalibrate, privacyEpsilon, register } from '../../../cli/commands/privacy.ts'
import { commandGroups } from '../../../cli/commands/index.ts'

const Q = String(256 / 60000)
const USAGE = expect.objectContaining({ code: 'COHORT_USAGE' })

describe('cohort privacy: command functions', () => {
  it('epsilon gives the RDP accountant result for MNIST DP-SGD', () => {
    const r = privacyEpsilon({ samplingRate: Q, noiseMultiplier: '1.1', steps: '14062', delta: '1e-5' })
    expect(r.epsilon).toBeGreaterThan(2.5)
    expect(r.epsilon).toBeLessThan(2.7)
    expect(Number.isFinite(r.order)).toBe(true)
  })

  it('calibrate inverts epsilon', () => {
    const r = privacyCalibrate({ epsilon: '3', delta: '1e-5', samplingRate: Q, steps: '14062' })
    expect(r.epsilon).toBeLessThanOrEqual(3)
    expect(r.epsilon).toBeGreaterThan(2.97)
    expect(Object.keys(r)).toEqual(['noiseMultiplier', 'epsilon', 'order'])
  })

  it.each([
    ['a missing flag', { noiseMultiplier: '1', steps: '10', delta: '1e-5' }],
    ['q = 0', { samplingRate: '0', noiseMultiplier: '1', steps: '10', delta: '1e-5' }],
    ['q > 1', { samplingRate: '1.5', noiseMultiplier: '1', steps: '10', delta: '1e-5' }],
    ['a word for a number', { samplingRate: 'abc', noiseMultiplier: '1', steps: '10', delta: '1e-5' }],
    ['trailing junk', { samplingRate: '0.1x', noiseMultiplier: '1', steps: '10', delta: '1e-5' }],
    ['fractional steps', { samplingRate: '0.1', noiseMultiplier: '1', steps: '2.5', delta: '1e-5' }],
    ['delta = 1', { samplingRate: '0.1', noiseMultiplier: '1', steps: '10', delta: '1' }],
    ['zero noise', { samplingRate: '0.1', noiseMultiplier: '0', steps: '10', delta: '1e-5' }]
  ])('epsilon refuses %s with COHORT_USAGE', (_name, raw) => {
    expect(() => privacyEpsilon(raw)).toThrow(USAGE)
  })

  it('calibrate refuses a non-positive epsilon with COHORT_USAGE', () => {
    expect(() =>
      privacyCalibrate({ epsilon: '-1', delta: '1e-5', samplingRate: '0.1', steps: '10' })
    ).toThrow(USAGE)
  })
})

describe('cohort privacy: commander wiring', () => {
  afterEach(() => vi.restoreAllMocks())

  async function run(argv: string[]): Promise<{ out: string; err: string; exitCode?: number }> {
    const program = new Command('cohort')
      .exitOverride()
      .configureOutput({ writeErr: () => {}, writeOut: () => {} })
    register(program)
    let out = ''
    let err = ''
    let exitCode: number | undefined
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out += String(s)
      return true
    })
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      err += String(s)
      return true
    })
    vi.spyOn(process, 'exit').mockImplementation((code) => {
      exitCode = Number(code)
      throw new Error('exit')
    })
    try {
      await program.parseAsync(['node', 'cohort', ...argv])
    } catch {
      // exit() or a commander error: inspected below
    }
    vi.restoreAllMocks()
    return { out, err, exitCode }
  }

  it('privacy epsilon prints {epsilon, order} as JSON', async () => {
    const r = await run([
      'privacy',
      'epsilon',
      '--sampling-rate',
      Q,
      '--noise-multiplier',
      '1.1',
      '--steps',
      '14062',
      '--delta',
      '1e-5'
    ])
    const json = JSON.parse(r.out)
    expect(Object.keys(json)).toEqual(['epsilon', 'order'])
    expect(json.epsilon).toBeCloseTo(
      privacyEpsilon({ samplingRate: Q, noiseMultiplier: '1.1', steps: '14062', delta: '1e-5' }).epsilon,
      12
    )
    expect(r.exitCode).toBeUndefined()
  })

  it('privacy calibrate prints {noiseMultiplier, epsilon, order} as JSON', async () => {
    const r = await run([
      'privacy',
      'calibrate',
      '--epsilon',
      '3',
      '--delta',
      '1e-5',
      '--sampling-rate',
      Q,
      '--steps',
      '14062'
    ])
    expect(Object.keys(JSON.parse(r.out))).toEqual(['noiseMultiplier', 'epsilon', 'order'])
  })

  it('a bad value is one stderr line with the code, and exit status 2', async () => {
    const r = await run([
      'privacy',
      'epsilon',
      '--sampling-rate',
      '7',
      '--noise-multiplier',
      '1',
      '--steps',
      '10',
      '--delta',
      '1e-5'
    ])
    expect(r.out).toBe('')
    expect(r.err.trim().split('\n')).toHaveLength(1)
    expect(r.err).toContain('[COHORT_USAGE]')
    expect(r.exitCode).toBe(2)
  })
})

// End-to-end through cli/main.ts, once the lead has registered the group in cli/commands/index.ts.
describe.runIf(commandGroups.includes(register))('cohort privacy: e2e', () => {
  it('node cli/main.ts privacy epsilon ...', () => {
    const main = fileURLToPath(new URL('../../../cli/main.ts', import.meta.url))
    const out = execFileSync(
      process.execPath,
      [
        main,
        'privacy',
        'epsilon',
        '--sampling-rate',
        Q,
        '--noise-multiplier',
        '1.1',
        '--steps',
        '14062',
        '--delta',
        '1e-5'
      ],
      { encoding: 'utf8' }
    )
    expect(JSON.parse(out).epsilon).toBeGreaterThan(2.5)
  })
})
