import type { Command } from 'commander'
import { coordinatorClient, resolveEndpoint } from '../coordinator/api/client.ts'
import type { CoordinatorClient } from '../coordinator/api/client.ts'

/** The options every command that talks to a coordinator takes. */
export interface TargetOptions {
  api?: string
  token?: string
  dir?: string
}

/**
 * Adds `--dir`, `--api` and `--token` to a command that talks to a running coordinator.
 *
 * @example
 * withTarget(job.command('status <id>')).action(...)
 */
export function withTarget(cmd: Command): Command {
  return cmd
    .option('--dir <dir>', 'directory of a coordinator running on this machine')
    .option('--api <url>', "the coordinator's API URL (with --token)")
    .option('--token <token>', 'API token (default: $COHORT_TOKEN; not needed with --dir)')
}

/**
 * The API client for the target options.
 *
 * @example
 * const client = clientFor({ dir: './coord' })
 */
export function clientFor(o: TargetOptions): CoordinatorClient {
  const { url, token } = resolveEndpoint(o)
  return coordinatorClient(url, token)
}
