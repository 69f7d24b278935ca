import { pack, unpack } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { CohortError } from '../../crypto/cohort-error.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import { runVerticalLrFeature, runVerticalLrLabel } from '../../protocols/vertical/lr/index.ts'
import type { VerticalLrOptions } from '../../protocols/vertical/lr/index.ts'
import { acceptFeatureMessage } from '../../protocols/vertical/lr/machine.ts'
import type { VlrFeatureState } from '../../protocols/vertical/lr/machine.ts'
import type { Transport } from '../../protocols/transport.ts'
import type { VerticalParty, VerticalSlice } from '../../protocols/vertical/types.ts'
import { createLoopbackNetwork } from '../../simulations/loopback-transport.ts'
import { seededRandom } from '../helpers/seeded-random.ts'
import type { VerticalTestData } from '../helpers/vertical-data.ts'
import { runLrSession } from '../helpers/vertical-lr-session.ts'

/** A small synthetic vertical split: label party 3 columns, feature parties 4 and 5. */
function synthetic(rows: number, featureParties: number): VerticalTestData {
  const rng = seededRandom('vlr-faults')
  const normal = () => {
    const u = (rng.bits(32) + 1) / 2 ** 32
    const v = rng.bits(32) / 2 ** 32
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }
  const widths = [3, 4, 5].slice(0, featureParties + 1)
  const xs = widths.map((d) => Float64Array.from({ length: rows * d }, normal))
  const y = new Uint8Array(rows)
  for (let i = 0; i < rows; i++) {
    let z = 0
    widths.forEach((d, p) => {
      for (let j = 0; j < d; j++) z += xs[p]![i * d + j]! * (j % 2 === 0 ? 0.8 : -0.5)
    })
    y[i] = rng.bits(32) / 2 ** 32 < 1 / (1 + Math.exp(-z)) ? 1 : 0
  }
  const parties = widths.map((d, p) => {
    const slice: VerticalSlice = {
      rows,
      cols: d,
      x: xs[p]!,
      featureNames: Array.from({ length: d }, (_, j) => `p${p}f${j}`),
      ...(p === 0 ? { y } : {})
    }
    return {
      name: p === 0 ? 'label' : `feature-${p}`,
      role: p === 0 ? ('label' as const) : ('feature' as const),
      slice
    }
  })
  return {
    name: 'synthetic',
    parties,
    rows,
    rowIndex: Uint32Array.from({ length: rows }, (_, i) => i),
    testRows: Uint8Array.from({ length: rows }, (_, i) => (i % 5 === 0 ? 1 : 0)),
    pooled: { x: new Float64Array(0), cols: 0, featureNames: [], y },
    baselines: {}
  }
}

const OPTIONS: VerticalLrOptions = { epochs: 1, batchSize: 160, learningRate: 0.1, seed: 'faults' }
const code = (c: string) => expect.objectContaining({ code: c })

describe('vertical LR feature party refuses bad messages', () => {
  it('malformed, oversized, wrong session, wrong sender and out-of-order requests; then an abort ends it', async () => {
    const data = synthetic(50, 2)
    const net = createLoopbackNetwork()
    const parties: VerticalParty[] = data.parties.map((p) => ({ peer: p.name, name: p.name, role: p.role }))
    const feature = runVerticalLrFeature({
      transport: net.transport('feature-1'),
      sessionId: 'vlr-faults-01',
      parties,
      slice: data.parties[1]!.slice
    })
    const outcome = feature.then(
      () => undefined,
      (e: unknown) => e
    )
    const label = net.transport('label')
    const other = net.transport('feature-2')
    const send = (t = label, msg: object) =>
      t.request('feature-1', PROTOCOLS.verticalLr, pack({ v: 1, sessionId: 'vlr-faults-01', ...msg }))
    // the feature party registers its handler once its HE context is ready
    for (let i = 0; i < 100; i++) {
      const e = await label
        .request('feature-1', PROTOCOLS.verticalLr, new Uint8Array([0xc1, 1, 2]))
        .catch((x: unknown) => x)
      if ((e as { code?: string }).code !== 'COHORT_PROTOCOL_NOT_SUPPORTED') break
      await new Promise((r) => setTimeout(r, 100))
    }
    await expect(
      label.request('feature-1', PROTOCOLS.verticalLr, new Uint8Array([0xc1, 1, 2]))
    ).rejects.toThrow(code('COHORT_MALFORMED_MESSAGE'))
    await expect(send(label, { phase: 'gradient', step: 0 })).rejects.toThrow(
      code('COHORT_MALFORMED_MESSAGE')
    )
    await expect(send(label, { phase: 'done', extra: 1 })).rejects.toThrow(code('COHORT_MALFORMED_MESSAGE'))
    await expect(
      label.request('feature-1', PROTOCOLS.verticalLr, new Uint8Array(25 * 1024 * 1024))
    ).rejects.toThrow(code('COHORT_MESSAGE_TOO_LARGE'))
    await expect(send(label, { phase: 'done', sessionId: 'another-session' })).rejects.toThrow(
      code('COHORT_VLR_WRONG_SESSION')
    )
    await expect(send(other, { phase: 'evaluate' })).rejects.toThrow(code('COHORT_VLR_SENDER'))
    await expect(send(label, { phase: 'gradient', step: 0, partial: new Uint8Array(8) })).rejects.toThrow(
      code('COHORT_VLR_REPLAY')
    )
    await expect(send(label, { phase: 'evaluate' })).rejects.toThrow(code('COHORT_VLR_REPLAY'))
    await send(label, { phase: 'abort', code: 'COHORT_TEST', reason: 'test over' })
    const err = await outcome
    expect(err).toBeInstanceOf(CohortError)
    expect(err).toMatchObject({ code: 'COHORT_VLR_ABORTED', causeCode: 'COHORT_TEST' })
  }, 60_000)

  it('the session machine refuses replayed, skipped and early steps', () => {
    const s0: VlrFeatureState = {
      sessionId: 's-000001',
      label: 'L',
      phase: 'keys',
      step: -1,
      totalSteps: 2,
      multiFeature: false
    }
    const m = (phase: 'gradient' | 'update' | 'evaluate' | 'prepare', step?: number) => ({
      phase,
      step,
      from: 'L',
      sessionId: 's-000001'
    })
    expect(() => acceptFeatureMessage(s0, m('gradient', 1))).toThrow(code('COHORT_VLR_REPLAY'))
    expect(() => acceptFeatureMessage(s0, m('update', 0))).toThrow(code('COHORT_VLR_REPLAY'))
    expect(() => acceptFeatureMessage(s0, m('evaluate'))).toThrow(code('COHORT_VLR_REPLAY'))
    expect(() => acceptFeatureMessage(s0, { ...m('gradient', 0), from: 'X' })).toThrow(
      code('COHORT_VLR_SENDER')
    )
    const s1 = acceptFeatureMessage(s0, m('gradient', 0))
    expect(() => acceptFeatureMessage(s1, m('gradient', 0))).toThrow(code('COHORT_VLR_REPLAY'))
    const s2 = acceptFeatureMessage(s1, m('update', 0))
    expect(() => acceptFeatureMessage(s2, m('update', 0))).toThrow(code('COHORT_VLR_REPLAY'))
    expect(() => acceptFeatureMessage(s2, m('gradient', 2))).toThrow(code('COHORT_VLR_REPLAY'))
    const s3 = acceptFeatureMessage(acceptFeatureMessage(s2, m('gradient', 1)), m('update', 1))
    expect(() => acceptFeatureMessage(s3, m('gradient', 2))).toThrow(code('COHORT_VLR_REPLAY'))
    expect(acceptFeatureMessage(s3, m('evaluate')).phase).toBe('evaluate')
    const multi = { ...s0, multiFeature: true }
    expect(() => acceptFeatureMessage(multi, m('gradient', 0))).toThrow(code('COHORT_VLR_REPLAY'))
    expect(acceptFeatureMessage(acceptFeatureMessage(multi, m('prepare', 0)), m('gradient', 0)).step).toBe(0)
  })
})

describe('vertical LR sessions with faults (synthetic data, loopback)', () => {
  it('a replayed gradient request mid-session is refused and the session still completes', async () => {
    const data = synthetic(400, 1)
    let recorded: Uint8Array | undefined
    let replay: Promise<unknown[]> | undefined
    const netRef: { label?: Transport; stranger?: Transport } = {}
    const attempt = (t: Transport, bytes: Uint8Array) =>
      t.request('feature-1', PROTOCOLS.verticalLr, bytes).then(
        () => 'accepted',
        (err: unknown) => err
      )
    const run = runLrSession(data, OPTIONS, {
      hooks: {
        tamper: (e, bytes) => {
          if (e.direction !== 'request' || e.from !== 'label' || e.protocol !== PROTOCOLS.verticalLr)
            return bytes
          const phase = (unpack(bytes) as { phase: string }).phase
          if (phase === 'gradient' && recorded === undefined) recorded = Uint8Array.from(bytes)
          if (phase === 'update' && replay === undefined && recorded !== undefined)
            replay = Promise.all([attempt(netRef.label!, recorded), attempt(netRef.stranger!, recorded)])
          return bytes
        }
      },
      onNetwork: (net) => {
        netRef.label = net.transport('label')
        netRef.stranger = net.transport('stranger')
      }
    })
    const result = await run
    const [asLabel, asStranger] = (await replay)!
    expect(asLabel).toMatchObject({ code: 'COHORT_VLR_REPLAY' })
    expect(asStranger).toMatchObject({ code: 'COHORT_VLR_SENDER' })
    expect(result.label.test.n).toBe(80)
  }, 120_000)

  it('a gradient request without Enc(c) (one feature party) is refused and the session aborts', async () => {
    const data = synthetic(400, 1)
    const err = await runLrSession(data, OPTIONS, {
      hooks: {
        tamper: (e, bytes) => {
          if (e.direction !== 'request' || e.protocol !== PROTOCOLS.verticalLr) return bytes
          const msg = unpack(bytes) as { phase: string; slope?: Uint8Array }
          if (msg.phase !== 'gradient') return bytes
          delete msg.slope
          return pack(msg)
        }
      }
    }).then(
      () => undefined,
      (e: unknown) => e
    )
    // whichever party fails first, the refusal travels in the abort reason
    expect(err).toMatchObject({ code: 'COHORT_VLR_ABORTED' })
    expect(String((err as Error).message)).toMatch(/COHORT_VLR_BAD_INPUT.*gradient must carry Enc\(c\)/)
  }, 60_000)

  it('a feature party that drops out fails the session cleanly at every party', async () => {
    const data = synthetic(400, 2)
    let gradients = 0
    const netRef: { net?: import('../../simulations/loopback-transport.ts').LoopbackNetwork } = {}
    const started = performance.now()
    const err = await runLrSession(
      data,
      { ...OPTIONS, epochs: 2 },
      {
        timeoutMs: 3000,
        hooks: {
          tamper: (e, bytes) => {
            if (
              e.direction === 'request' &&
              e.protocol === PROTOCOLS.verticalLr &&
              (unpack(bytes) as { phase: string }).phase === 'gradient'
            ) {
              gradients++
              if (gradients === 3) netRef.net!.setDown('feature-2', true)
            }
            return bytes
          }
        },
        onNetwork: (net) => {
          netRef.net = net
        }
      }
    ).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(err).toMatchObject({ code: 'COHORT_VLR_ABORTED' })
    expect(String((err as Error).message)).toMatch(/feature-2/)
    expect(performance.now() - started).toBeLessThan(60_000)
  }, 120_000)

  it('a feature party that declines the plan (policy) aborts the session', async () => {
    const data = synthetic(100, 1)
    const net = createLoopbackNetwork()
    const parties: VerticalParty[] = data.parties.map((p) => ({ peer: p.name, name: p.name, role: p.role }))
    class PolicyError extends CohortError {
      constructor() {
        super('we do not train with label parties that hold more than 2 columns', 'COHORT_TEST_POLICY')
      }
    }
    const feature = runVerticalLrFeature({
      transport: net.transport('feature-1'),
      sessionId: 'vlr-policy-01',
      parties,
      slice: data.parties[1]!.slice,
      acceptPlan: async (plan) => {
        if (plan.labelCols > 3) throw new PolicyError()
      }
    }).then(
      () => undefined,
      (e: unknown) => e
    )
    const label = runVerticalLrLabel({
      transport: net.transport('label'),
      sessionId: 'vlr-policy-01',
      parties,
      slice: data.parties[0]!.slice,
      testRows: data.testRows,
      options: { ...OPTIONS, batchSize: 50 }
    })
    await expect(label).rejects.toMatchObject({ code: 'COHORT_VLR_ABORTED', causeCode: 'COHORT_TEST_POLICY' })
    expect(await feature).toMatchObject({ code: 'COHORT_VLR_ABORTED' })
  }, 60_000)
})
