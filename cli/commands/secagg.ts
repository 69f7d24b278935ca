import type { Command } from 'commander'
import { CohortError } from '../../crypto/cohort-error.ts'
import { runSecaggDevRound } from '../../simulations/secagg-dev-round.ts'
import type { SecaggDevRoundReport } from '../../simulations/secagg-dev-round.ts'
import { action, printJson } from '../action.ts'

function int(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new CohortError(`--${name} must be an integer in [${min}, ${max}], got "${value}"`, 'COHORT_USAGE')
  }
  return n
}

function printReport(r: SecaggDevRoundReport): void {
  const ms = (x: number | undefined) => (x === undefined ? '-' : `${x.toFixed(1)} ms`)
  const dropped = Object.entries(r.droppedAt)
    .map(([phase, count]) => `${count} at ${phase}`)
    .join(', ')
  const lines = [
    `secagg dev round: ${r.parties} parties, ${r.graph === 'full' ? 'complete graph' : `SecAgg+ graph k=${r.k}`}, t=${r.t}, d=${r.d}, Z_2^${r.ringBits}`,
    `  dropped:        ${dropped === '' ? 'none' : dropped}`,
    `  survivors:      ${r.survivors} (inputs in the sum)`,
    `  sum check:      ${r.sumMatches ? 'OK, unmasked sum == plaintext ring sum' : 'MISMATCH'}`,
    `  round:          ${ms(r.timings.roundMs)} (setup ${ms(r.timings.setupMs)})`,
    ...['advertise-keys', 'share-keys', 'masked-input', 'consistency-check', 'unmask'].map(
      (p) => `    ${p.padEnd(18)} ${ms(r.timings[p])}`
    ),
    `  unmask (coord): ${ms(r.timings.unmaskMs)} (Shamir ${ms(r.timings.shamirMs)}, PRG ${ms(r.timings.prgMs)})`,
    `  plaintext sum:  ${ms(r.timings.plainSumMs)}`,
    `  bytes:          ${r.bytes.perParty} per party, ${r.bytes.coordinator} from the coordinator, ${r.bytes.total} total`,
    `  audit entries:  ${r.auditEntries} across all parties`
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}

/** `cohort secagg ...`: secure-aggregation developer tools. */
export function register(program: Command): void {
  const secagg = program.command('secagg').description('secure aggregation (SecAgg+) developer tools')

  secagg
    .command('dev-round')
    .description(
      'run one SecAgg+ round with N in-process parties (seeded test vectors) over the loopback transport and check the unmasked sum'
    )
    .requiredOption('--parties <n>', 'number of parties, 3..1000')
    .option('--dropout <fraction>', 'fraction of parties that drop, spread over the five phases', '0')
    .option(
      '--transport <kind>',
      'loopback (a round across separate node processes needs running nodes)',
      'loopback'
    )
    .option('--dim <d>', 'vector length', '1000')
    .option('--graph <kind>', 'plus (SecAgg+ neighbourhoods, k ~ 2 log2 n) or full (complete graph)', 'plus')
    .option('--neighbours <k>', 'neighbourhood size for --graph plus')
    .option('--threshold <t>', 'Shamir threshold (must exceed half of k + 1)')
    .option('--ring-bits <bits>', 'ring Z_2^bits', '32')
    .option('--seed <seed>', 'seed of the test vectors and of the dropout choice', 'cohort-dev')
    .option('--latency-ms <ms>', 'one-way loopback latency', '0')
    .option('--json', 'print the report as JSON')
    .action(
      action(
        async (o: {
          parties: string
          dropout: string
          transport: string
          dim: string
          graph: string
          neighbours?: string
          threshold?: string
          ringBits: string
          seed: string
          latencyMs: string
          json?: boolean
        }) => {
          if (o.transport !== 'loopback') {
            throw new CohortError(
              `--transport ${o.transport} is not available here: only loopback runs in one process; start nodes with "cohort node start" for libp2p rounds`,
              'COHORT_USAGE'
            )
          }
          if (o.graph !== 'plus' && o.graph !== 'full') {
            throw new CohortError(`--graph must be plus or full, got "${o.graph}"`, 'COHORT_USAGE')
          }
          const dropout = Number(o.dropout)
          if (!(dropout >= 0 && dropout < 1)) {
            throw new CohortError(
              `--dropout must be a fraction in [0, 1), got "${o.dropout}"`,
              'COHORT_USAGE'
            )
          }
          const report = await runSecaggDevRound({
            parties: int('parties', o.parties, 3, 1000)!,
            dim: int('dim', o.dim, 1, 16_777_216),
            dropout,
            graph: o.graph,
            k: int('neighbours', o.neighbours, 2, 999),
            t: int('threshold', o.threshold, 2, 1000),
            ringBits: int('ring-bits', o.ringBits, 1, 62),
            seed: o.seed,
            latencyMs: int('latency-ms', o.latencyMs, 0, 10_000)
          })
          if (o.json === true) printJson(report)
          else printReport(report)
          if (!report.sumMatches) {
            throw new CohortError(
              'the unmasked sum does not equal the plaintext ring sum',
              'COHORT_SECAGG_SUM_MISMATCH'
            )
          }
        }
      )
    )
}
