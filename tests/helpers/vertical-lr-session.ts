/**
 * TEST HELPER: runs one vertical LR session over a loopback network (label party + feature parties
 * in this process) on a dataset split by vertical-data.ts.
 */
import { unpack } from 'msgpackr'
import { createLoopbackNetwork } from '../../simulations/loopback-transport.ts'
import type { LoopbackHooks, LoopbackNetwork } from '../../simulations/loopback-transport.ts'
import {
  runVerticalLrFeature,
  runVerticalLrLabel,
  scoreVerticalLabel,
  serveVerticalScores
} from '../../protocols/vertical/lr/index.ts'
import type {
  VerticalLrLabelResult,
  VerticalLrModel,
  VerticalLrOptions
} from '../../protocols/vertical/lr/index.ts'
import type { VerticalCharge, VerticalParty } from '../../protocols/vertical/types.ts'
import type { VerticalTestData } from './vertical-data.ts'

/** Outcome of {@link runLrSession}. */
export interface LrSessionResult {
  label: VerticalLrLabelResult
  features: Array<{ model: VerticalLrModel }>
  net: LoopbackNetwork
  parties: VerticalParty[]
  ms: number
  /** Phase of every vertical-LR request the label party sent, in order. */
  sent: string[]
}

/** Runs a full session; rejects with the label party's error. */
export async function runLrSession(
  data: VerticalTestData,
  options: VerticalLrOptions,
  extra: {
    charge?: VerticalCharge
    hooks?: LoopbackHooks
    sessionId?: string
    timeoutMs?: number
    sent?: string[]
    onNetwork?: (net: LoopbackNetwork) => void
  } = {}
): Promise<LrSessionResult> {
  const sent: string[] = extra.sent ?? []
  const labelPeer = data.parties[0]!.name
  const hooks: LoopbackHooks = {
    ...extra.hooks,
    tamper: (e, bytes) => {
      if (e.direction === 'request' && e.from === labelPeer && e.protocol === '/cohort/vertical-lr/1.0.0') {
        try {
          sent.push(String((unpack(bytes) as { phase?: unknown }).phase))
        } catch {
          sent.push('?')
        }
      }
      return extra.hooks?.tamper?.(e, bytes) ?? bytes
    }
  }
  const net = createLoopbackNetwork(hooks)
  extra.onNetwork?.(net)
  const parties: VerticalParty[] = data.parties.map((p) => ({ peer: p.name, name: p.name, role: p.role }))
  const sessionId = extra.sessionId ?? 'vlr-session-0001'
  const t0 = performance.now()
  const features = data.parties.slice(1).map((p) =>
    runVerticalLrFeature({
      transport: net.transport(p.name),
      sessionId,
      parties,
      slice: p.slice,
      timeoutMs: extra.timeoutMs
    })
  )
  const label = runVerticalLrLabel({
    transport: net.transport(labelPeer),
    sessionId,
    parties,
    slice: data.parties[0]!.slice,
    testRows: data.testRows,
    options,
    charge: extra.charge,
    timeoutMs: extra.timeoutMs
  })
  const [l, ...f] = await Promise.all([label, ...features])
  return { label: l, features: f, net, parties, ms: performance.now() - t0, sent }
}

/**
 * Federated scoring of the held-out rows with a finished session's models (every feature party
 * serves its partial scores, the label party combines): probabilities and labels, row for row.
 */
export async function scoreTestRows(
  data: VerticalTestData,
  run: LrSessionResult
): Promise<{ probs: Float64Array; labels: number[] }> {
  const stops = await Promise.all(
    data.parties.slice(1).map((p, i) =>
      serveVerticalScores({
        transport: run.net.transport(p.name),
        sessionId: 'score',
        parties: run.parties,
        slice: p.slice,
        model: run.features[i]!.model
      })
    )
  )
  const rows = Uint32Array.from([...data.testRows.keys()].filter((i) => data.testRows[i] === 1))
  try {
    const probs = await scoreVerticalLabel({
      transport: run.net.transport(data.parties[0]!.name),
      sessionId: 'score',
      parties: run.parties,
      slice: data.parties[0]!.slice,
      model: run.label.model,
      rows
    })
    return { probs, labels: Array.from(rows, (r) => data.parties[0]!.slice.y![r]!) }
  } finally {
    await Promise.all(stops.map((s) => s()))
  }
}
