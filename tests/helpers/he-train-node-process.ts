/**
 * TEST ONLY: a training node with the he-agg participant as its own OS process, for the
 * separate-process HE job test: opens an initialised node directory (real LevelDB store, identity
 * key, audit log, imported dataset, policy), starts the libp2p host with the membership gater,
 * registers the node's real participants (training, SecAgg+, he-agg — node/participants.ts),
 * prints `READY <multiaddr>` and runs until SIGTERM.
 *
 * usage: node he-train-node-process.ts NODE_DIR MANIFEST
 */
import { openNodeHome } from '../../node/home.ts'
import { registerNodeParticipants } from '../../node/participants.ts'
import { readManifest } from '../../platform/federation/manifest.ts'
import { createHost } from '../../platform/net/libp2p-host.ts'
import { createLibp2pTransport } from '../../platform/net/libp2p-transport.ts'

const [dir, manifestPath] = process.argv.slice(2)
const home = await openNodeHome(dir!)
const manifest = readManifest(manifestPath!)
const host = await createHost({
  privateKey: home.identity.privateKey,
  isMember: (p) => manifest.members.some((m) => m.peerId === p),
  onRefused: () => {}
})
const transport = createLibp2pTransport(host)
const participants = await registerNodeParticipants({
  home,
  transport,
  manifest: () => manifest,
  log: () => {}
})
process.stdout.write(`READY ${host.getMultiaddrs()[0]!.toString()}\n`)
process.on('SIGTERM', async () => {
  await participants.close()
  await host.stop()
  await home.close()
  process.exit(0)
})
