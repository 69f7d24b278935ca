import { x25519Keygen } from '../../crypto/agreement.ts'
import { isCohortError } from '../../crypto/cohort-error.ts'
import { PeerUnreachableError } from '../../protocols/errors.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import { decodeSecaggRequest, encodeSecagg } from '../../protocols/secagg/messages.ts'
import type { SecaggRequest } from '../../protocols/secagg/messages.ts'
import type { Transport } from '../../protocols/transport.ts'
import {
  bytesToF64,
  decodeTrainReply,
  decodeTrainRequest,
  encodeTrain,
  f64ToBytes
} from '../../protocols/training/wire.ts'
import type { TrainRequest } from '../../protocols/training/wire.ts'
import type { FaultLog } from './fault-log.ts'
import type { FaultPlan } from './fault-plan.ts'
import { poisonPlain } from './malicious-input.ts'

/**
 * The coordinator's view of the network in a simulation: a Transport wrapped around the
 * coordinator's own, through which every request of the real job runner passes. It reads each
 * request (train and SecAgg+ messages are decoded, never trusted) to know the round and phase, and
 * there it injects the scenario's faults: a party that drops is unreachable from that phase until
 * the coordinator's next training request to it (the next gather: a retry, the evaluation or the
 * next round); a scripted malicious coordinator rewrites one SecAgg+ request to its victim; a
 * malicious party's plaintext summand is replaced in its reply. It also counts bytes per party
 * (everything crosses the coordinator: SecAgg+ is a star) and tracks attempts of each round's fit.
 */

/**
 * What the tap knows and counts.
 * @example
 * tap.bytesByParty.get('lender_a')
 */
export interface CoordinatorTap extends Transport {
  /** Bytes sent to and received from each party (requests and replies). */
  readonly bytesByParty: Map<string, number>
  /** Bytes per round: 0 = offer and statistics, -1 = publishing the model. */
  readonly bytesByRound: Map<number, number>
  bytesTotal(): number
  /** The round of the last training request (0 = statistics / before round 1). */
  currentRound(): number
}

/**
 * Options of {@link createCoordinatorTap}.
 * @example
 * createCoordinatorTap(fed.coordinator.transport, { plan, log, orgOf: fed.orgOf, seed: 1 })
 */
export interface TapOptions {
  plan: FaultPlan
  log: FaultLog
  orgOf: (peer: string) => string
  seed: number | string
  /** Apply straggler latency here (libp2p; loopback adds it in its hooks). @default false */
  stragglersHere?: boolean
}

type Info =
  | { kind: 'train'; req: TrainRequest }
  | { kind: 'secagg'; req: SecaggRequest; purpose: string }
  | { kind: 'other' }

function classify(protocol: string, body: Uint8Array): Info {
  try {
    if (protocol === PROTOCOLS.train) return { kind: 'train', req: decodeTrainRequest(body) }
    if (protocol === PROTOCOLS.secagg) {
      const req = decodeSecaggRequest(body)
      return { kind: 'secagg', req, purpose: req.jobId.split('/').at(-2) ?? '' }
    }
  } catch {
    // Not ours to judge: the node will refuse it.
  }
  return { kind: 'other' }
}

const SCRIPT_PHASE: Record<string, string> = {
  'swap-key': 'share-keys',
  'unmask-overlap': 'unmask',
  'unmask-inconsistent': 'unmask'
}

function mutate(script: string, req: SecaggRequest, victim: string): SecaggRequest {
  if (script === 'swap-key' && req.phase === 'share-keys') {
    const other = req.bundles.find((b) => b.peer !== victim)
    if (other === undefined) return req
    return {
      ...req,
      bundles: req.bundles.map((b) => (b === other ? { ...b, cPk: x25519Keygen().publicKey } : b))
    }
  }
  if (req.phase === 'unmask') {
    const target = req.survivors.find((p) => p !== victim)
    if (target === undefined) return req
    // Overlap: a survivor also listed as dropped (asking for both of its secrets).
    if (script === 'unmask-overlap') return { ...req, dropped: [...req.dropped, target] }
    // Inconsistent: a peer the victim signed as a survivor is now said to have dropped.
    return { ...req, survivors: req.survivors.filter((p) => p !== target), dropped: [...req.dropped, target] }
  }
  return req
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Wraps the coordinator's transport.
 *
 * @example
 * const tap = createCoordinatorTap(fed.coordinator.transport, { plan, log, orgOf: fed.orgOf, seed })
 * await runJob({ ...ctx, transport: tap }, jobId)
 */
export function createCoordinatorTap(inner: Transport, o: TapOptions): CoordinatorTap {
  const bytesByParty = new Map<string, number>()
  const bytesByRound = new Map<number, number>()
  let bucket = 0
  const add = (org: string, n: number, at: number) => {
    bytesByParty.set(org, (bytesByParty.get(org) ?? 0) + n)
    bytesByRound.set(at, (bytesByRound.get(at) ?? 0) + n)
  }
  const down = new Set<string>()
  const fired = new Set<string>()
  const scriptsFired = new Set<number>()
  const poisoned = new Set<string>()
  const attempts = new Map<string, string[]>()
  let round = 0

  const attemptOf = (r: number, secaggId: string | null | undefined): number => {
    if (secaggId === null || secaggId === undefined) return 1
    const key = String(r)
    let ids = attempts.get(key)
    if (ids === undefined) {
      ids = []
      attempts.set(key, ids)
    }
    if (!ids.includes(secaggId)) ids.push(secaggId)
    return ids.indexOf(secaggId) + 1
  }
  const fitAttempt = new Map<string, number>()

  function phaseOf(info: Info): { round: number; phase: string; attempt: number } | undefined {
    if (info.kind === 'train') {
      const req = info.req
      if (req.kind === 'fit') {
        const attempt = attemptOf(req.round, req.secaggId)
        if (req.secaggId !== null) fitAttempt.set(req.secaggId, attempt)
        return { round: req.round, phase: 'fit', attempt }
      }
      if (req.kind === 'eval') return { round: req.round, phase: 'eval', attempt: 1 }
      return undefined
    }
    if (info.kind === 'secagg' && info.purpose === 'fit')
      return { round: info.req.round, phase: info.req.phase, attempt: fitAttempt.get(info.req.jobId) ?? 1 }
    return undefined
  }

  return {
    self: inner.self,
    bytesByParty,
    bytesByRound,
    bytesTotal: () => [...bytesByParty.values()].reduce((a, b) => a + b, 0),
    currentRound: () => round,
    handle: (p, h, i) => inner.handle(p, h, i),
    unhandle: (p) => inner.unhandle(p),
    async request(peer, protocol, body, options) {
      const org = o.orgOf(peer)
      const info = classify(protocol, body)
      if (info.kind === 'train') {
        const r = info.req
        if (r.kind === 'fit' || r.kind === 'eval') round = bucket = r.round
        else if (r.kind === 'stats' || r.kind === 'offer') round = bucket = 0
        else bucket = -1
        // A dropped party is back for the coordinator's next gather.
        down.delete(org)
      }
      const at0 = bucket
      if (down.has(org)) throw new PeerUnreachableError(`cannot reach ${org} (simulated dropout)`)
      const at = phaseOf(info)
      if (at !== undefined) {
        const planned = o.plan.dropouts.get(at.round)?.get(org)
        const key = `${at.round}/${org}`
        if (planned === at.phase && !fired.has(key)) {
          fired.add(key)
          down.add(org)
          o.log.record({ round: at.round, kind: 'dropout', party: org, phase: at.phase, attempt: at.attempt })
          throw new PeerUnreachableError(`cannot reach ${org} (simulated dropout at ${at.phase})`)
        }
      }
      let send = body
      let script: { script: string; index: number } | undefined
      if (info.kind === 'secagg' && info.purpose === 'fit') {
        const index = o.plan.coordinatorScripts.findIndex(
          (s, i) =>
            !scriptsFired.has(i) &&
            s.victim === org &&
            s.round === info.req.round &&
            SCRIPT_PHASE[s.script] === info.req.phase
        )
        if (index >= 0) {
          const s = o.plan.coordinatorScripts[index]!
          scriptsFired.add(index)
          script = { script: s.script, index }
          send = encodeSecagg(mutate(s.script, info.req, peer))
        }
      }
      add(org, send.length, at0)
      const straggler = o.stragglersHere === true ? o.plan.stragglers.get(org) : undefined
      if (straggler !== undefined) await sleep(2 * straggler.latencyMs)
      let reply: Uint8Array
      try {
        reply = await inner.request(peer, protocol, send, options)
      } catch (err) {
        if (script !== undefined) {
          o.log.record({
            round: info.kind === 'secagg' ? info.req.round : round,
            kind: 'malicious-coordinator',
            party: org,
            phase: SCRIPT_PHASE[script.script]!,
            detail: {
              script: script.script,
              refused: true,
              code: isCohortError(err) ? err.code : 'COHORT_INTERNAL'
            }
          })
        }
        throw err
      }
      add(org, reply.length, at0)
      if (script !== undefined && info.kind === 'secagg')
        o.log.record({
          round: info.req.round,
          kind: 'malicious-coordinator',
          party: org,
          phase: SCRIPT_PHASE[script.script]!,
          detail: { script: script.script, refused: false }
        })
      const m = o.plan.malicious.get(org)
      if (m !== undefined && info.kind === 'train' && info.req.kind === 'fit' && info.req.secaggId === null) {
        const r = info.req.round
        if (m.rounds === undefined || m.rounds.has(r)) {
          const rep = decodeTrainReply(reply, ['ready', 'declined'], info.req.jobId)
          if (rep.kind === 'ready' && rep.vector !== undefined) {
            const v = poisonPlain(bytesToF64(rep.vector, rep.length), m, `${o.seed}/malicious/${org}/${r}`)
            if (!poisoned.has(`${r}/${org}`))
              o.log.record({ round: r, kind: 'malicious-update', party: org, detail: { update: m.kind } })
            poisoned.add(`${r}/${org}`)
            return encodeTrain({ ...rep, vector: f64ToBytes(v) })
          }
        }
      }
      return reply
    }
  }
}
