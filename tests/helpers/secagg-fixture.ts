/**
 * TEST ONLY: a step-by-step SecAgg round over the machines (no transport), so tests can stop at any
 * phase, inspect states, and alter or withhold requests before a participant sees them.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { RingVector } from '../../crypto/ring.ts'
import { secaggAggregatorMachine } from '../../protocols/secagg/aggregator.ts'
import type { AggregatorOutput, AggregatorState } from '../../protocols/secagg/aggregator.ts'
import { decodeSecaggReply, encodeSecagg } from '../../protocols/secagg/messages.ts'
import type { SecaggReply, SecaggRequest } from '../../protocols/secagg/messages.ts'
import { secaggParticipantMachine, withSignature } from '../../protocols/secagg/participant.ts'
import type {
  ParticipantInput,
  ParticipantOutput,
  ParticipantState
} from '../../protocols/secagg/participant.ts'
import { nextPhase } from '../../protocols/secagg/phases.ts'
import type { SecaggPhase } from '../../protocols/secagg/phases.ts'
import type { DirectParty } from '../../simulations/secagg-direct.ts'
import { seededInput } from '../../simulations/secagg-federation.ts'

/**
 * n fresh parties, sorted by peer id so tests are independent of key order.
 *
 * @example
 * const parties = await makeParties(5)
 */
export async function makeParties(n: number): Promise<DirectParty[]> {
  const out = await Promise.all(
    Array.from({ length: n }, async () => {
      const privateKey = await generateKeyPair('Ed25519')
      return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() }
    })
  )
  return out
}

export interface FixtureOptions {
  n: number
  k?: number
  t?: number
  d?: number
  ringBits?: number
  jobId?: string
  round?: number
  parties?: DirectParty[]
}

export interface RoundFixture {
  parties: DirectParty[]
  ids: string[]
  members: Set<string>
  inputs: Map<string, RingVector>
  states: Map<string, ParticipantState>
  agg: AggregatorState
  /** The current phase's requests, by party. */
  requests: Map<string, SecaggRequest>
  phase: SecaggPhase | 'done' | 'aborted'
  last: AggregatorOutput
  params: { jobId: string; round: number; t: number; k: number; d: number; ringBits: number }
  /** Builds the machine input for a request. */
  inputFor(peer: string, request: SecaggRequest): ParticipantInput
  /** Steps one participant with a request (default: its current one); signs and feeds the aggregator. */
  deliver(peer: string, request?: SecaggRequest): Promise<{ output: ParticipantOutput; reply: SecaggReply }>
  /** Delivers the current requests to every party not in `except`. */
  deliverAll(except?: ReadonlySet<string>): Promise<void>
  /** Advances the aggregator to the next phase. */
  advance(): AggregatorOutput
}

/**
 * A round stopped at advertise-keys (requests built, none delivered).
 *
 * @example
 * const f = await roundFixture({ n: 4 })
 * await f.deliverAll(); f.advance() // now at share-keys
 */
export async function roundFixture(opts: FixtureOptions): Promise<RoundFixture> {
  const parties = opts.parties ?? (await makeParties(opts.n))
  const ids = parties.map((p) => p.peerId)
  const n = ids.length
  const k = opts.k ?? n - 1
  const t = opts.t ?? Math.floor((k + 1) / 2) + 1
  const d = opts.d ?? 16
  const ringBits = opts.ringBits ?? 32
  const jobId = opts.jobId ?? 'job-test'
  const round = opts.round ?? 1
  const members = new Set(ids)
  const keys = new Map(parties.map((p) => [p.peerId, p.privateKey]))
  const inputs = new Map(ids.map((id, i) => [id, seededInput(`fixture-${round}`, i, d, ringBits)]))
  const states = new Map(ids.map((id) => [id, secaggParticipantMachine.init({ self: id, members })]))
  const init = secaggAggregatorMachine.step(
    secaggAggregatorMachine.init({
      jobId,
      round,
      participants: ids,
      t,
      k,
      ringBits,
      d,
      graphSeed: new Uint8Array(32).fill(7)
    }),
    { kind: 'advance', phase: 'advertise-keys' }
  )
  const f: RoundFixture = {
    parties,
    ids,
    members,
    inputs,
    states,
    agg: init.state,
    requests: init.output.kind === 'requests' ? init.output.requests : new Map(),
    phase: 'advertise-keys',
    last: init.output,
    params: { jobId, round, t, k, d, ringBits },
    inputFor(peer, request) {
      if (request.phase === 'masked-input')
        return { phase: 'masked-input', request, input: inputs.get(peer)! }
      return { phase: request.phase, request } as ParticipantInput
    },
    async deliver(peer, request) {
      const req = request ?? f.requests.get(peer)!
      const r = secaggParticipantMachine.step(f.states.get(peer)!, f.inputFor(peer, req))
      f.states.set(peer, r.state)
      let reply = r.output.reply
      if (r.output.toSign !== undefined)
        reply = withSignature(reply, await keys.get(peer)!.sign(r.output.toSign))
      if (f.phase !== 'done' && f.phase !== 'aborted' && reply.phase === f.phase) {
        const decoded = decodeSecaggReply(f.phase, encodeSecagg(reply))
        f.agg = secaggAggregatorMachine.step(f.agg, {
          kind: 'reply',
          phase: f.phase,
          from: peer,
          reply: decoded
        }).state
      }
      return { output: r.output, reply }
    },
    async deliverAll(except) {
      for (const peer of f.requests.keys()) if (except?.has(peer) !== true) await f.deliver(peer)
    },
    advance() {
      if (f.phase === 'done' || f.phase === 'aborted') throw new Error('round is over')
      const r = secaggAggregatorMachine.step(f.agg, { kind: 'advance', phase: nextPhase(f.phase) })
      f.agg = r.state
      f.last = r.output
      if (r.output.kind === 'requests') {
        f.phase = r.output.phase
        f.requests = r.output.requests
      } else {
        f.phase = r.output.kind === 'result' ? 'done' : 'aborted'
        f.requests = new Map()
      }
      return r.output
    }
  }
  return f
}

/**
 * Delivers and advances until the fixture's phase is `phase` (requests built, not delivered).
 *
 * @example
 * await runUntil(f, 'unmask')
 */
export async function runUntil(f: RoundFixture, phase: SecaggPhase | 'done'): Promise<void> {
  while (f.phase !== phase) {
    if (f.phase === 'done' || f.phase === 'aborted')
      throw new Error(`round ended (${f.phase}) before ${phase}`)
    await f.deliverAll()
    f.advance()
  }
}
