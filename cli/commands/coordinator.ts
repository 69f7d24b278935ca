import { join } from 'node:path'
import { Option } from 'commander'
import type { Command } from 'commander'
import { createCoordinatorApp } from '../../coordinator/api/app.ts'
import { startCoordinator } from '../../coordinator/coordinator.ts'
import { COORDINATOR_FILES, initCoordinatorHome, openCoordinatorHome } from '../../coordinator/home.ts'
import { hashToken, newToken } from '../../platform/api/token.ts'
import { serveApi } from '../../platform/api/server.ts'
import { serveUntilSignal, trapShutdownSignals } from '../../platform/daemon/run-until-signal.ts'
import { action, printJson } from '../action.ts'

/** `cohort coordinator init|start|info`. */
export function register(program: Command): void {
  const coordinator = program
    .command('coordinator')
    .description('create and run the coordinator: jobs, rounds and models of a federation')

  coordinator
    .command('init')
    .description('create a coordinator directory: identity key, config, API token, store')
    .requiredOption('--dir <dir>', 'coordinator directory to create')
    .requiredOption('--name <name>', 'name of this coordinator (its org in the federation manifest)')
    .option('--listen <addr...>', 'libp2p listen multiaddrs', ['/ip4/127.0.0.1/tcp/0'])
    .option('--api-port <port>', 'API port on 127.0.0.1 (0 = any free port)', '0')
    .option('--federation <path>', 'federation manifest path (relative to the directory)', 'federation.json')
    .option('--json', 'print JSON')
    .action(
      action(
        async (o: {
          dir: string
          name: string
          listen: string[]
          apiPort: string
          federation: string
          json?: boolean
        }) => {
          const r = await initCoordinatorHome(o.dir, {
            name: o.name,
            listen: o.listen,
            apiPort: Number(o.apiPort),
            federation: o.federation
          })
          if (o.json === true) return printJson(r)
          process.stdout.write(
            `initialised coordinator ${o.name} in ${r.dir}\n` +
              `peer id:   ${r.peerId}\n` +
              `API token: ${r.token}\n` +
              '(the token is shown only once; only its SHA-256 is stored. On this machine, "--dir" works without it.)\n' +
              `add it to the federation with role coordinator:\n` +
              `  cohort federation add-member --file FEDERATION --org ${o.name} --peer-id ${r.peerId} --roles coordinator --multiaddr ADDR\n`
          )
        }
      )
    )

  coordinator
    .command('start')
    .description(
      'run the coordinator: libp2p (members only), the job scheduler and the API, until SIGINT/SIGTERM'
    )
    .requiredOption('--dir <dir>', 'coordinator directory')
    .option(
      '--allow-remote',
      'let the API bind a non-loopback host from coordinator.json (put TLS in front of it)'
    )
    .addOption(
      new Option(
        '--job-runner <module>',
        'module whose runJob export runs jobs (tests and simulations)'
      ).hideHelp()
    )
    .action(
      action(async (o: { dir: string; allowRemote?: boolean; jobRunner?: string }) => {
        const log = (line: string) => process.stderr.write(`[${new Date().toISOString()}] ${line}\n`)
        // Handlers go in first: a signal during start-up must still stop the coordinator cleanly.
        const signals = trapShutdownSignals()
        const running = await startCoordinator(o.dir, { log, runJob: o.jobRunner })
        // A per-start session token for local CLI calls with --dir; it dies with this process.
        const session = newToken()
        const app = createCoordinatorApp({
          home: running.home,
          jobs: running.jobs,
          status: () => running.status(),
          sessionTokenSha256: hashToken(session),
          log
        })
        await serveUntilSignal({
          log,
          signals,
          serve: () =>
            serveApi(app, {
              host: running.home.config.api.host,
              port: running.home.config.api.port,
              allowRemote: o.allowRemote === true
            }),
          stop: () => running.stop(),
          reconnect: async () => {
            const missing = running.status().nodes.filter((n) => !n.connected && n.addrs.length > 0)
            if (missing.length > 0) await running.connectMembers().catch(() => 0)
          },
          endpointFile: join(running.home.dir, COORDINATOR_FILES.endpoint),
          endpoint: (api) => ({
            url: api.url,
            pid: process.pid,
            peerId: running.home.identity.peerId,
            addrs: running.libp2p.getMultiaddrs().map(String),
            token: session
          }),
          apiName: 'coordinator API'
        })
      })
    )

  coordinator
    .command('info')
    .description("print a stopped coordinator's identity, config and audit head")
    .requiredOption('--dir <dir>', 'coordinator directory')
    .action(
      action(async (o: { dir: string }) => {
        const home = await openCoordinatorHome(o.dir)
        try {
          const { tokenSha256: _omit, ...api } = home.config.api
          printJson({
            name: home.config.name,
            peerId: home.identity.peerId,
            listen: home.config.listen,
            api,
            federation: home.federationPath,
            head: await home.audit.head()
          })
        } finally {
          await home.close()
        }
      })
    )
}
