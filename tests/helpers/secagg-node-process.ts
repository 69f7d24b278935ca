/**
 * A SecAgg participant as its own OS process, for the separate-process acceptance test: opens an
 * initialised node directory (real LevelDB store, real identity key, real audit log), starts the
 * libp2p host with the membership gater, registers the participant with a seeded test input, prints
 * `READY <multiaddr>` and runs until SIGTERM.
 *
 * usage: node secagg-node-process.ts NODE_DIR MANIFEST INDEX DIM
 */
import { openNodeHome } from '../../node/home.ts'
import { registerSecaggParticipant } from '../../node/runners/secagg-participant.ts'
import { readManifest } from '../../platform/federation/manifest.ts'
import { createHost } from '../../platform/net/libp2p-host.ts'
import { createLibp2pTransport } from '../../platform/net/libp2p-transport.ts'
import { seededInput } from '../../simulations/secagg-federation.ts'

const [dir, manifestPath, index, dim] = process.argv.slice(2)
const home = await openNodeHome(dir!)
const manifest = readManifest(manifestPath!)
const host = await createHost({
  privateKey: home.identity.privateKey,
  isMember: (p) => manifest.members.some((m) => m.peerId === p),
  onRefused: () => {}
})
const handle = await registerSecaggParticipant(createLibp2pTransport(host), {
  identity: home.identity,
  audit: home.audit,
  manifest: () => manifest,
  inputProvider: async (_jobId, round) => seededInput(`proc-${round}`, Number(index), Number(dim), 32)
})
process.stdout.write(`READY ${host.getMultiaddrs()[0]!.toString()}\n`)
process.on('SIGTERM', async () => {
  await handle.close()
  await host.stop()
  await home.close()
  process.exit(0)
})
