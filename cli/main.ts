#!/usr/bin/env node
/**
 * The `cohort` command. Thin: it parses arguments and calls node/, coordinator/, simulations/ and
 * crypto/. Each command group lives in cli/commands/<group>.ts and exports `register(program)`.
 */
import { Command, CommanderError } from 'commander'
import { fail } from './action.ts'
import { commandGroups } from './commands/index.ts'
import { CohortError } from '../crypto/cohort-error.ts'

const program = new Command('cohort')
  .description('Cohort: privacy-preserving federated learning across companies')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) })

for (const register of commandGroups) register(program)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) process.exit(0)
    // Commander has already printed its one-line message.
    process.exit(2)
  }
  fail(err instanceof Error ? err : new CohortError(String(err), 'COHORT_INTERNAL'))
}
