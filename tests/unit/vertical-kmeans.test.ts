/**
 * Vertical k-means, protocol level: the masked argmin (CKKS chain with the last hop's scales) equals
 * the plaintext argmin; the member machine refuses replays, skips, wrong senders and bad shapes; the
 * wire refuses malformed and oversized frames; sessions over the loopback transport compute the
 * pooled k-means assignment exactly, survive a replayed message, refuse messages of other sessions,
 * and fail cleanly at every party when a party drops out or refuses the plan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isCohortError } from '../../crypto/cohort-error.ts'
import { generateKeys, getHeContext } from '../../crypto/he/index.ts'
import type { HeContext, HeKeySet } from '../../crypto/he/index.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import { addOwn, decryptWire, encryptToWire } from '../../protocols/vertical/kmeans/chain-he.ts'
import { runVerticalKMeansLead, runVerticalKMeansMember } from '../../protocols/vertical/kmeans/index.ts'
import { VKM_MAX_FRAME_BYTES } from '../../protocols/vertical/kmeans/limits.ts'
import { argminFromGaps, partialGaps } from '../../protocols/vertical/kmeans/lloyd.ts'
import { drawScales, scaleWeights } from '../../protocols/vertical/kmeans/mask.ts'
import { vkmMemberMachine, vkmPhaseOf } from '../../protocols/vertical/kmeans/member-machine.ts'
import type { VkmMemberState } from '../../protocols/vertical/kmeans/member-machine.ts'
import { decodeVkmRequest, encodeVkm } from '../../protocols/vertical/kmeans/messages.ts'
import type { VkmRequest } from '../../protocols/vertical/kmeans/messages.ts'
import type { VerticalParty, VerticalSlice } from '../../protocols/vertical/types.ts'
import { createLoopbackNetwork } from '../../simulations/loopback-transport.ts'
import type { LoopbackHooks } from '../../simulations/loopback-transport.ts'
import { seededRandom } from '../helpers/seeded-random.ts'

const PARTIES: VerticalParty[] = [
  { peer: 'p-feature-a', name: 'a', role: 'feature' },
  { peer: 'p-label', name: 'bank', role: 'label' },
  { peer: 'p-feature-b', name: 'b', role: 'feature' }
]
const LEAD = 'p-label'
const [M1, M2] = ['p-feature-a', 'p-feature-b']

function normal(rng: ReturnType<typeof seededRandom>): number {
  let s = 0
  for (let i = 0; i < 12; i++) s += rng.bits(30) / 2 ** 30
  return s - 6
}

/** Three blobs in 6 dimensions, columns split 2 / 2 / 2 over lead, M1, M2. */
function blobs(rows: number, seed: string): { slices: Map<string, VerticalSlice>; train: Uint8Array } {
  const rng = seededRandom(seed)
  const centers = [
    [3, 0, -2, 1, 0, 2],
    [-3, 1, 2, -1, 0, -2],
    [0, -3, 0, 2, 3, 0]
  ]
  const x = Array.from({ length: rows }, (_, i) => centers[i % 3]!.map((c) => c + normal(rng)))
  const slice = (cols: number[]): VerticalSlice => ({
    rows,
    cols: cols.length,
    x: Float64Array.from(x.flatMap((r) => cols.map((c) => r[c]!))),
    featureNames: cols.map((c) => `f${c}`)
  })
  return {
    slices: new Map([
      [LEAD, slice([0, 1])],
      [M1, slice([2, 3])],
      [M2, slice([4, 5])]
    ]),
    train: Uint8Array.from({ length: rows }, (_, i) => (i % 5 === 0 ? 0 : 1))
  }
}

const code = (err: unknown) => (isCohortError(err) ? err.code : String(err))
const cause = (err: unknown) => (err as { causeCode?: string }).causeCode

describe('masked argmin', () => {
  let he: HeContext
  let keys: HeKeySet
  beforeAll(async () => {
    he = await getHeContext('ckks-8192')
    keys = generateKeys(he)
  })
  afterAll(() => keys.dispose())

  it('equals the plaintext argmin on random data, and the lead sees only scaled gaps', () => {
    const rng = seededRandom('masked-argmin')
    const rows = 1500
    const k = 5
    const parts = [3, 4, 2].map((cols) => {
      const x = Float64Array.from({ length: rows * cols }, () => 4 * normal(rng))
      const c = Float64Array.from({ length: k * cols }, () => 4 * normal(rng))
      return { slice: { rows, cols, x, featureNames: [] } as VerticalSlice, c }
    })
    const all = Int32Array.from({ length: rows }, (_, i) => i)
    const gaps = parts.map((p) => {
      const g = new Float64Array(rows * (k - 1))
      partialGaps(p.slice, all, p.c, k, g, 0)
      return g
    })
    // Plaintext argmin of the full squared distances.
    const expected = new Uint8Array(rows)
    const total = new Float64Array(rows * (k - 1))
    for (let i = 0; i < rows; i++) {
      let best = 0
      let bestD = Number.POSITIVE_INFINITY
      for (let c = 0; c < k; c++) {
        let s = 0
        for (const p of parts)
          for (let f = 0; f < p.slice.cols; f++)
            s += (p.slice.x[i * p.slice.cols + f]! - p.c[c * p.slice.cols + f]!) ** 2
        if (s < bestD) {
          bestD = s
          best = c
        }
      }
      expected[i] = best
    }
    for (const g of gaps) for (let j = 0; j < g.length; j++) total[j]! += g[j]!
    const scales = drawScales(rows, rng)
    const hop1 = addOwn(he, keys.publicKey, encryptToWire(keys.publicKey, gaps[0]!), gaps[1]!)
    const back = addOwn(he, keys.publicKey, hop1, gaps[2]!, scaleWeights(scales, k - 1, 0, total.length))
    const seen = decryptWire(he, keys.secretKey, back, total.length)
    expect(Array.from(argminFromGaps(seen, k))).toEqual(Array.from(expected))
    expect(Array.from(argminFromGaps(total, k))).toEqual(Array.from(expected))
    // What the lead decrypts is each row's gap vector times that row's secret scale (up to CKKS error).
    let worst = 0
    seen.forEach((v, j) => {
      const g = Math.floor(j / (k - 1))
      worst = Math.max(worst, Math.abs(v - scales[g]! * total[j]!) / scales[g]!)
    })
    console.info(`masked argmin: largest CKKS error ${worst.toExponential(2)} (per unit scale)`)
    expect(worst).toBeLessThan(1e-6)
    expect(Math.max(...scales) / Math.min(...scales)).toBeGreaterThan(100)
  })
})

describe('member machine and wire', () => {
  const rows = 40
  const train = Uint8Array.from({ length: rows }, (_, i) => (i % 5 === 0 ? 0 : 1))
  const head = (iteration: number) => ({ v: 1 as const, sessionId: 's-1', iteration })
  const vector = (length: number) => ({ scheme: 'ckks' as const, length, chunks: [new Uint8Array(8)] })
  const plan: VkmRequest = {
    ...head(0),
    phase: 'plan',
    lead: LEAD,
    parties: PARTIES.map((p) => ({ ...p })),
    chain: [M1, M2],
    rows,
    train,
    k: 3,
    nInit: 2,
    maxIterations: 5,
    seed: 'seed',
    hePreset: 'ckks-8192',
    publicKey: new Uint8Array(4),
    dp: null
  }
  const m = 32
  const distances = (iteration: number, over: Partial<Record<string, unknown>> = {}): VkmRequest =>
    ({
      ...head(iteration),
      phase: 'distances',
      scope: 'train',
      candidates: [0, 1],
      batch: 0,
      batches: 1,
      vector: vector(2 * m * 2),
      ...over
    }) as VkmRequest
  const update = (iteration: number): VkmRequest => ({
    ...head(iteration),
    phase: 'update',
    candidates: [0, 1],
    assignments: new Uint8Array(2 * m),
    inertia: vector(2)
  })
  const step = (s: VkmMemberState, from: string, request: VkmRequest) =>
    vkmMemberMachine.step(s, { phase: vkmPhaseOf(request), from, request }).state
  const refusal = (s: VkmMemberState, from: string, request: VkmRequest): string => {
    try {
      step(s, from, request)
    } catch (err) {
      return code(err)
    }
    return 'accepted'
  }
  const init = (self: string) => vkmMemberMachine.init({ self, parties: PARTIES, rows, slots: 4096 })

  it('follows the chain: the first member hears the lead, the second the first', () => {
    const a = init(M1)
    const b = init(M2)
    expect([a.prev, a.next, b.prev, b.next]).toEqual([LEAD, M2, M1, null])
    expect(refusal(a, M2, plan)).toBe('COHORT_VKMEANS_NOT_PARTY')
    const a1 = step(a, LEAD, plan)
    expect(refusal(a1, M2, distances(0))).toBe('COHORT_VKMEANS_NOT_PARTY')
    expect(refusal(step(b, LEAD, plan), LEAD, distances(0))).toBe('COHORT_VKMEANS_NOT_PARTY')
  })

  it('refuses replays, skips, out-of-phase messages and bad shapes', () => {
    let s = step(init(M1), LEAD, plan)
    expect(refusal(s, LEAD, plan)).toBe('COHORT_PHASE_ERROR')
    expect(refusal(s, LEAD, update(0))).toBe('COHORT_PHASE_ERROR')
    expect(refusal(s, LEAD, distances(1))).toBe('COHORT_VKMEANS_SEQUENCE')
    expect(refusal(s, LEAD, distances(0, { scope: 'all', candidates: [0] }))).toBe('COHORT_VKMEANS_SEQUENCE')
    expect(refusal(s, LEAD, distances(0, { vector: vector(5) }))).toBe('COHORT_VKMEANS_PLAN')
    expect(refusal(s, LEAD, distances(0, { batches: 2 }))).toBe('COHORT_VKMEANS_PLAN')
    expect(refusal(s, LEAD, distances(0, { candidates: [1, 0] }))).toBe('COHORT_VKMEANS_PLAN')
    expect(refusal(s, LEAD, distances(0, { candidates: [2] }))).toBe('COHORT_VKMEANS_PLAN')
    s = step(s, LEAD, distances(0))
    expect(refusal(s, LEAD, distances(0))).toBe('COHORT_VKMEANS_SEQUENCE')
    const bad = { ...update(0), assignments: new Uint8Array(2 * m).fill(3) } as VkmRequest
    expect(refusal(s, LEAD, bad)).toBe('COHORT_VKMEANS_PLAN')
    expect(refusal(s, LEAD, { ...update(0), candidates: [0] } as VkmRequest)).toBe('COHORT_VKMEANS_PLAN')
    s = step(s, LEAD, update(0))
    expect(refusal(s, LEAD, update(0))).toBe('COHORT_PHASE_ERROR')
    expect(refusal(s, LEAD, distances(0))).toBe('COHORT_VKMEANS_SEQUENCE')
    expect(refusal(s, LEAD, distances(2))).toBe('COHORT_VKMEANS_SEQUENCE')
    // Restarts only ever stop; the final round has one candidate over every row.
    const one = step(s, LEAD, distances(1, { candidates: [1], vector: vector(m * 2) }))
    expect(
      refusal(
        step(one, LEAD, {
          ...update(1),
          candidates: [1],
          assignments: new Uint8Array(m),
          inertia: vector(1)
        } as VkmRequest),
        LEAD,
        distances(2)
      )
    ).toBe('COHORT_VKMEANS_PLAN')
    const final = distances(1, { scope: 'all', candidates: [0], vector: vector(rows * 2) })
    const f = step(s, LEAD, final)
    const finish: VkmRequest = {
      ...head(1),
      phase: 'finish',
      candidate: 0,
      assignments: new Uint8Array(rows),
      sizes: [1, 2, 3],
      inertia: vector(1)
    }
    expect(refusal(f, LEAD, { ...finish, candidate: 1 } as VkmRequest)).toBe('COHORT_VKMEANS_PLAN')
    expect(refusal(f, LEAD, { ...finish, assignments: new Uint8Array(rows - 1) } as VkmRequest)).toBe(
      'COHORT_VKMEANS_PLAN'
    )
    const done = step(f, LEAD, finish)
    expect(refusal(done, LEAD, { ...head(1), phase: 'abort', code: 'COHORT_X', reason: '' })).toBe(
      'COHORT_PHASE_ERROR'
    )
    expect(refusal(s, 'p-outsider', { ...head(1), phase: 'abort', code: 'COHORT_X', reason: '' })).toBe(
      'COHORT_VKMEANS_NOT_PARTY'
    )
  })

  it('refuses plans that contradict the member view', () => {
    const s = init(M1)
    const other = { ...plan, parties: [...PARTIES].reverse().map((p) => ({ ...p })) } as VkmRequest
    expect(refusal(s, LEAD, other)).toBe('COHORT_VKMEANS_PLAN')
    expect(refusal(s, LEAD, { ...plan, rows: rows + 1 } as VkmRequest)).toBe('COHORT_VKMEANS_PLAN')
    expect(refusal(s, LEAD, { ...plan, chain: [M2, M1] } as VkmRequest)).toBe('COHORT_VKMEANS_PLAN')
    expect(refusal(s, LEAD, { ...plan, train: new Uint8Array(rows).fill(2) } as VkmRequest)).toBe(
      'COHORT_VKMEANS_PLAN'
    )
    expect(refusal(s, LEAD, { ...plan, train: new Uint8Array(rows) } as VkmRequest)).toBe(
      'COHORT_VKMEANS_PLAN'
    )
  })

  it('decodes only well-formed, bounded frames', () => {
    expect(decodeVkmRequest(encodeVkm(plan)).phase).toBe('plan')
    const refused = (bytes: Uint8Array) => {
      try {
        decodeVkmRequest(bytes)
      } catch (err) {
        return code(err)
      }
      return 'accepted'
    }
    expect(refused(Uint8Array.of(0xc1, 0xff))).toBe('COHORT_MALFORMED_MESSAGE')
    expect(refused(encodeVkm({ ...plan, extra: 1 }))).toBe('COHORT_MALFORMED_MESSAGE')
    expect(refused(encodeVkm({ ...plan, k: 1 }))).toBe('COHORT_MALFORMED_MESSAGE')
    expect(refused(encodeVkm({ ...distances(0), vector: { ...vector(3), scheme: 'bfv' } }))).toBe(
      'COHORT_MALFORMED_MESSAGE'
    )
    expect(refused(encodeVkm({ ...head(0), phase: 'nope' }))).toBe('COHORT_MALFORMED_MESSAGE')
    expect(refused(new Uint8Array(VKM_MAX_FRAME_BYTES + 1))).toBe('COHORT_MESSAGE_TOO_LARGE')
  })
})

describe('sessions over the loopback transport', () => {
  const rows = 300
  const { slices, train } = blobs(rows, 'vkm-unit-blobs')
  const options = { k: 3, seed: 'unit', nInit: 2, maxIterations: 10 }

  /** Waits until `peer` runs its member runner (it registers after loading the HE context). */
  async function registered(
    t: ReturnType<ReturnType<typeof createLoopbackNetwork>['transport']>,
    peer: string
  ) {
    const probe = encodeVkm({
      v: 1,
      sessionId: 'probe',
      iteration: 0,
      phase: 'abort',
      code: 'COHORT_X',
      reason: ''
    })
    for (let i = 0; i < 100; i++) {
      const c = await t.request(peer, PROTOCOLS.verticalKmeans, probe).then(() => 'ok', code)
      if (c !== 'COHORT_PROTOCOL_NOT_SUPPORTED') return
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  function start(
    sessionId: string,
    hooks: LoopbackHooks = {},
    extra: { lead?: Record<string, unknown>; member?: Record<string, unknown> } = {}
  ) {
    const net = createLoopbackNetwork(hooks)
    const members = [M1, M2].map((peer) =>
      runVerticalKMeansMember({
        transport: net.transport(peer),
        sessionId,
        parties: PARTIES,
        slice: slices.get(peer)!,
        timeoutMs: 5000,
        idleMs: 4000,
        ...extra.member
      })
    )
    for (const m of members) m.catch(() => undefined)
    const lead = (more: Record<string, unknown> = {}) =>
      runVerticalKMeansLead({
        transport: net.transport(LEAD),
        sessionId,
        parties: PARTIES,
        slice: slices.get(LEAD)!,
        trainRows: train,
        options,
        timeoutMs: 5000,
        ...extra.lead,
        ...more
      })
    return { net, members, lead }
  }

  it('assigns every row to its nearest pooled centroid and reports the pooled inertia', async () => {
    const s = start('vkm-unit-exact')
    const lead = await s.lead()
    const members = await Promise.all(s.members)
    const models = new Map([
      [LEAD, lead.model],
      [M1, members[0]!.model],
      [M2, members[1]!.model]
    ])
    let inertia = 0
    for (let i = 0; i < rows; i++) {
      const d = [0, 1, 2].map((c) => {
        let sum = 0
        for (const [peer, slice] of slices) {
          const cen = models.get(peer)!.centroids[c]!
          for (let f = 0; f < slice.cols; f++) sum += (slice.x[i * slice.cols + f]! - cen[f]!) ** 2
        }
        return sum
      })
      expect(lead.assignments[i]).toBe(d.indexOf(Math.min(...d)))
      if (train[i] === 1) inertia += Math.min(...d)
    }
    expect(lead.inertia).toBeCloseTo(inertia, 4)
    for (const m of members) expect(Array.from(m.assignments)).toEqual(Array.from(lead.assignments))
    // Three well-separated blobs: the segments are the blobs.
    const byBlob = [0, 1, 2].map((b) => new Set(Array.from(lead.assignments).filter((_, i) => i % 3 === b)))
    for (const s of byBlob) expect(s.size).toBe(1)
    expect(lead.profile.sizes).toEqual([100, 100, 100])
  })

  it('refuses a replayed message without disturbing the session', async () => {
    let first: Uint8Array | undefined
    const s = start('vkm-unit-replay', {
      tamper: (e, bytes) => {
        if (e.direction === 'request' && e.from === LEAD && e.to === M1 && first === undefined) {
          if (decodeVkmRequest(bytes).phase === 'distances') first = bytes.slice()
        }
        return bytes
      }
    })
    let replay: Promise<unknown> | undefined
    const lead = await s.lead.call(undefined, {
      onProgress: (e: { phase: string; step: number }) => {
        // After the update of iteration 0, the lead's first distances batch arrives again.
        if (e.phase === 'lloyd' && e.step === 1)
          replay = s.net.transport(LEAD).request(M1, PROTOCOLS.verticalKmeans, first!)
      }
    })
    const members = await Promise.all(s.members)
    await expect(replay).rejects.toMatchObject({ code: 'COHORT_VKMEANS_SEQUENCE' })
    expect(lead.iterations).toBeGreaterThan(1)
    expect(Array.from(members[1]!.assignments)).toEqual(Array.from(lead.assignments))
    // After the session nobody serves it any more.
    await expect(s.net.transport(LEAD).request(M1, PROTOCOLS.verticalKmeans, first!)).rejects.toMatchObject({
      code: 'COHORT_PROTOCOL_NOT_SUPPORTED'
    })
  })

  it('refuses messages of another session, malformed and oversized frames', async () => {
    const s = start('vkm-unit-session')
    const t = s.net.transport(LEAD)
    await registered(t, M1)
    const other = encodeVkm({
      v: 1,
      sessionId: 'another',
      iteration: 0,
      phase: 'abort',
      code: 'COHORT_X',
      reason: ''
    })
    await expect(t.request(M1, PROTOCOLS.verticalKmeans, other)).rejects.toMatchObject({
      code: 'COHORT_VKMEANS_UNKNOWN_SESSION'
    })
    await expect(t.request(M1, PROTOCOLS.verticalKmeans, Uint8Array.of(1, 2, 3))).rejects.toMatchObject({
      code: 'COHORT_MALFORMED_MESSAGE'
    })
    await expect(
      t.request(M1, PROTOCOLS.verticalKmeans, new Uint8Array(VKM_MAX_FRAME_BYTES + 10))
    ).rejects.toMatchObject({ code: 'COHORT_MESSAGE_TOO_LARGE' })
    // None of that disturbed the session.
    const lead = await s.lead()
    expect(lead.assignments.length).toBe(rows)
    await Promise.all(s.members)
  })

  it('fails cleanly at every party when a member drops out', async () => {
    const s = start('vkm-unit-drop', {}, { member: { idleMs: 1500 } })
    const started = performance.now()
    const lead = runVerticalKMeansLead({
      transport: s.net.transport(LEAD),
      sessionId: 'vkm-unit-drop',
      parties: PARTIES,
      slice: slices.get(LEAD)!,
      trainRows: train,
      options,
      timeoutMs: 2000,
      onProgress: (e) => {
        if (e.phase === 'lloyd' && e.step === 1) s.net.setDown(M2, true)
      }
    })
    const err = await lead.then(
      () => undefined,
      (e: unknown) => e
    )
    expect(code(err)).toBe('COHORT_VKMEANS_ABORTED')
    expect(cause(err)).toBe('COHORT_PEER_UNREACHABLE')
    const [m1, m2] = await Promise.all(
      s.members.map((m) =>
        m.then(
          () => undefined,
          (e: unknown) => e
        )
      )
    )
    expect(code(m1)).toBe('COHORT_VKMEANS_ABORTED')
    expect(cause(m1)).toBe('COHORT_PEER_UNREACHABLE')
    expect(code(m2)).toBe('COHORT_VKMEANS_ABORTED')
    expect(cause(m2)).toBe('COHORT_TIMEOUT')
    expect(performance.now() - started).toBeLessThan(15_000)
  })

  it('fails cleanly when a member refuses the plan, and members time out without a lead', async () => {
    const refuse = async () => {
      throw Object.assign(new Error('no'), { code: 'COHORT_POLICY_MODEL' })
    }
    const s = start('vkm-unit-refuse', {}, { member: { acceptPlan: refuse } })
    const err = await s.lead().then(
      () => undefined,
      (e: unknown) => e
    )
    expect(code(err)).toBe('COHORT_VKMEANS_ABORTED')
    expect(cause(err)).toBe('COHORT_POLICY_MODEL')
    for (const m of s.members) await expect(m).rejects.toMatchObject({ causeCode: 'COHORT_POLICY_MODEL' })

    const lonely = start('vkm-unit-lonely', {}, { member: { idleMs: 300 } })
    for (const m of lonely.members) await expect(m).rejects.toMatchObject({ causeCode: 'COHORT_TIMEOUT' })
    // A lead whose members run another session gives up after its plan deadline.
    const wrong = start('vkm-unit-wrong', {}, { lead: { sessionId: 'vkm-unit-other', timeoutMs: 400 } })
    await expect(wrong.lead()).rejects.toMatchObject({ causeCode: 'COHORT_VKMEANS_UNKNOWN_SESSION' })
  })
})
