import { Command } from 'commander'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { register } from '../../../cli/commands/secagg.ts'

afterEach(() => vi.restoreAllMocks())

async function run(args: string[]): Promise<string> {
  let out = ''
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk)
    return true
  })
  const program = new Command('cohort').exitOverride()
  register(program)
  await program.parseAsync(['node', 'cohort', ...args])
  return out
}

describe('cohort secagg dev-round', () => {
  it('runs a round over loopback and reports the sum check as JSON', async () => {
    const report = JSON.parse(
      await run(['secagg', 'dev-round', '--parties', '12', '--dropout', '0.25', '--dim', '40', '--json'])
    )
    expect(report).toMatchObject({ parties: 12, d: 40, graph: 'plus', sumMatches: true })
    expect(Object.values(report.droppedAt as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(3)
    expect(report.timings.roundMs).toBeGreaterThan(0)
  })

  it('prints a readable report with the complete graph', async () => {
    const text = await run(['secagg', 'dev-round', '--parties', '6', '--graph', 'full', '--dim', '10'])
    expect(text).toContain('complete graph')
    expect(text).toContain('sum check:      OK')
  })
})
