/**
 * The protocol participants a running node serves to its coordinator: training
 * (`/cohort/train/1.0.0`, node/runners/train-participant.ts) and SecAgg+ (`/cohort/secagg/2.0.0`).
 * The training participant leaves each round's quantised summand in a shared input stash; the
 * SecAgg participant takes it from there as its masked input (node/jobs/input-stash.ts).
 */
import type { FederationManifest } from '../configs/federation.ts'
import type { NodePolicy } from '../configs/node-config.ts'
import type { ProtocolId } from '../protocols/ids.ts'
import { PROTOCOLS } from '../protocols/ids.ts'
import type { Transport } from '../protocols/transport.ts'
import type { NodeHome } from './home.ts'
import { budgetCapFor, secaggFloor } from './jobs/dataset-policy.ts'
import { createInputStash } from './jobs/input-stash.ts'
import type { InputStash } from './jobs/input-stash.ts'
import { createLedger } from './ledger/ledger.ts'
import type { Ledger } from './ledger/ledger.ts'
import { readPolicy } from './policy/policy-store.ts'
import { registerHeServices } from './he/he-services.ts'
import type { HeServices } from './he/he-services.ts'
import { registerSecaggParticipant } from './runners/secagg-participant.ts'
import type { SecaggParticipantHandle } from './runners/secagg-participant.ts'
import { registerTrainParticipant } from './runners/train-participant.ts'
import type { TrainParticipantHandle } from './runners/train-participant.ts'
import { registerVerticalParticipant } from './runners/vertical-participant.ts'
import type { VerticalParticipantHandle } from './runners/vertical-participant.ts'

/** What the participants need from the running node. */
export interface ParticipantsDeps {
  home: NodeHome
  transport: Transport
  /** The current manifest (read on every request, so reloads apply at once). */
  manifest: () => FederationManifest
  log: (line: string) => void
}

/** The registered participants; close them before stopping libp2p. */
export interface NodeParticipants {
  readonly secagg: SecaggParticipantHandle
  readonly train: TrainParticipantHandle
  /** Homomorphic aggregation: the he-agg participant, and the key-holder on a `keyholder` node. */
  readonly he: HeServices
  /** Vertical jobs (`/cohort/vertical-job/1.0.0`) and the node's PSI party (docs/vertical.md). */
  readonly vertical: VerticalParticipantHandle
  /** Where training leaves each round's quantised summand for SecAgg+. */
  readonly stash: InputStash
  /** The node's privacy ledger (caps from the current policy). */
  readonly ledger: Ledger
  close(): Promise<void>
}

/**
 * A view of `transport` whose handler for `protocol` first runs `before` (awaited), so a handler
 * that reads state synchronously sees it fresh for every request.
 */
function refreshingBefore(
  transport: Transport,
  protocol: ProtocolId,
  before: () => Promise<void>
): Transport {
  return {
    self: transport.self,
    handle: (p, handler, init) =>
      transport.handle(
        p,
        p !== protocol
          ? handler
          : async (body, from, options) => {
              await before()
              return handler(body, from, options)
            },
        init
      ),
    unhandle: (p) => transport.unhandle(p),
    request: (peer, p, body, options) => transport.request(peer, p, body, options)
  }
}

/**
 * Registers the node's participants on its transport: training first, then SecAgg+ with the
 * training participant's inputs. The policy is re-read from the store before every training
 * request, so a change through the admin API (`PUT /v1/policy`) applies to the next request.
 * `startNode` calls this after libp2p starts.
 *
 * @example
 * const participants = await registerNodeParticipants({ home, transport, manifest: () => m, log })
 * await participants.close()
 */
export async function registerNodeParticipants(deps: ParticipantsDeps): Promise<NodeParticipants> {
  const { home, transport, manifest, log } = deps
  let policy: NodePolicy = await readPolicy(home.store, home.config.policy)
  const currentPolicy = () => policy
  const refreshPolicy = async () => {
    policy = await readPolicy(home.store, home.config.policy)
  }
  const stash = createInputStash()
  const ledger = createLedger(home.store, home.audit, budgetCapFor(currentPolicy))
  const train = await registerTrainParticipant(refreshingBefore(transport, PROTOCOLS.train, refreshPolicy), {
    identity: home.identity,
    store: home.store,
    audit: home.audit,
    ledger,
    policy: currentPolicy,
    manifest,
    stash,
    log
  })
  let secagg: SecaggParticipantHandle
  try {
    secagg = await registerSecaggParticipant(transport, {
      identity: home.identity,
      audit: home.audit,
      manifest,
      inputProvider: stash.inputProvider,
      minParticipants: (id) => secaggFloor(currentPolicy(), stash.roundOf(id))
    })
  } catch (err) {
    await train.close()
    throw err
  }
  let he: HeServices
  try {
    he = await registerHeServices({
      home,
      transport,
      manifest,
      stash,
      minParticipants: () => policy.minParticipants,
      log
    })
  } catch (err) {
    await Promise.allSettled([secagg.close(), train.close()])
    throw err
  }
  let vertical: VerticalParticipantHandle
  try {
    vertical = await registerVerticalParticipant(
      refreshingBefore(transport, PROTOCOLS.verticalJob, refreshPolicy),
      {
        identity: home.identity,
        store: home.store,
        audit: home.audit,
        ledger,
        policy: currentPolicy,
        manifest,
        log
      }
    )
  } catch (err) {
    await Promise.allSettled([secagg.close(), train.close(), he.close()])
    throw err
  }
  return {
    secagg,
    train,
    he,
    vertical,
    stash,
    ledger,
    async close() {
      await Promise.allSettled([secagg.close(), train.close(), he.close(), vertical.close()])
    }
  }
}
