import { join } from 'node:path'
import type { Command } from 'commander'
import { createAdminApp } from '../../node/api/app.ts'
import { serveAdminApi } from '../../node/api/server.ts'
import { openPersistentKeyring } from '../../node/he/he-services.ts'
import { HOME_FILES, initNodeHome, openNodeHome } from '../../node/home.ts'
import { startNode } from '../../node/node.ts'
import { serveUntilSignal, trapShutdownSignals } from '../../platform/daemon/run-until-signal.ts'
import { action, printJson } from '../action.ts'

export function register(program: Command): void {
  const node = program.command('node').description('create, start and inspect a company node')

  node
    .command('init')
    .description('create a node directory: identity key, config, admin token, store')
    .requiredOption('--dir <dir>', 'node directory to create')
    .requiredOption('--name <org>', 'organisation name')
    .option('--listen <addr...>', 'libp2p listen multiaddrs', ['/ip4/127.0.0.1/tcp/0'])
    .option('--api-port <port>', 'admin API port on 127.0.0.1 (0 = any free port)', '0')
    .option(
      '--federation <path>',
      'federation manifest path (relative to the node directory)',
      'federation.json'
    )
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
          const r = await initNodeHome(o.dir, {
            name: o.name,
            listen: o.listen,
            apiPort: Number(o.apiPort),
            federation: o.federation
          })
          if (o.json === true) return printJson(r)
          process.stdout.write(
            `initialised node ${o.name} in ${r.dir}\n` +
              `peer id:     ${r.peerId}\n` +
              `admin token: ${r.token}\n` +
              '(the token is shown only once; only its SHA-256 is stored. Keep it to call the admin API.)\n'
          )
        }
      )
    )

  node
    .command('start')
    .description('run the node: libp2p (members only) and the admin API, until SIGINT/SIGTERM')
    .requiredOption('--dir <dir>', 'node directory')
    .option(
      '--allow-remote',
      'let the admin API bind a non-loopback host from node.json (put TLS in front of it)'
    )
    .action(
      action(async (o: { dir: string; allowRemote?: boolean }) => {
        const log = (line: string) => process.stderr.write(`[${new Date().toISOString()}] ${line}\n`)
        // Handlers go in first: a signal during start-up must still stop the node cleanly.
        const signals = trapShutdownSignals()
        const running = await startNode(o.dir, { log })
        const app = createAdminApp({ home: running.home, node: running, log })
        await serveUntilSignal({
          log,
          signals,
          serve: () =>
            serveAdminApi(app, {
              host: running.home.config.api.host,
              port: running.home.config.api.port,
              allowRemote: o.allowRemote === true
            }),
          stop: () => running.stop(),
          reconnect: async () => {
            const missing = running.peers().filter((p) => !p.connected && p.addrs.length > 0)
            if (missing.length > 0) await running.connectMembers().catch(() => 0)
          },
          endpointFile: join(running.home.dir, HOME_FILES.endpoint),
          endpoint: (api) => ({
            url: api.url,
            pid: process.pid,
            peerId: running.home.identity.peerId,
            addrs: running.libp2p.getMultiaddrs().map(String)
          }),
          apiName: 'admin API'
        })
      })
    )

  node
    .command('info')
    .description("print a stopped node's identity, config and audit head")
    .requiredOption('--dir <dir>', 'node directory')
    .action(
      action(async (o: { dir: string }) => {
        const home = await openNodeHome(o.dir)
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

  node
    .command('he-key')
    .description(
      'key-holders: print (creating on first use) the HE key id and public-key fingerprint to pin in the manifest (--he-key) and in HE jobs; the node must be stopped'
    )
    .requiredOption('--dir <dir>', 'node directory')
    .option('--rotate', 'generate a new key and make it current (older keys still decrypt their jobs)')
    .action(
      action(async (o: { dir: string; rotate?: boolean }) => {
        const home = await openNodeHome(o.dir)
        try {
          using ring = await openPersistentKeyring(home)
          if (o.rotate === true) await ring.rotate()
          const { keyId, announcement } = ring.current()
          printJson({ keyId, keyFingerprint: announcement.keyFingerprint, keys: [...ring.keys.keys()] })
        } finally {
          await home.close()
        }
      })
    )
}
