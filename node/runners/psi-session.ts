/**
 * One PSI session at one party: the machine (protocols/psi/party.ts) plus everything it may not do
 * itself: the blinding key, the id permutation, curve work in the worker pool, lanes to the next
 * hops, the buffers of the leader and the shuffler, audit entries and result storage.
 *
 * Every machine step runs through one queue per session, and its audit records are appended before
 * the reply leaves. Heavy work runs per chain, in order, outside that queue: a batch is acknowledged
 * once it is blinded and handed to the next lane, so backpressure travels up each chain without one
 * chain waiting for another.
 */
import { psiKeygen, PSI_POINT_BYTES } from '../../crypto/psi/blind.ts'
import { PsiAbortedError } from '../../protocols/psi/errors.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import { encodePsi, packPositions, PSI_WIRE_VERSION } from '../../protocols/psi/messages.ts'
import type {
  PsiAbort,
  PsiBatch,
  PsiDone,
  PsiRequest,
  PsiResult,
  PsiStart,
  PsiUnshuffle
} from '../../protocols/psi/messages.ts'
import { psiPartyMachine } from '../../protocols/psi/party.ts'
import type { PsiPartyInput, PsiPartyOutput, PsiPartyState } from '../../protocols/psi/party-state.ts'
import { batchCount } from '../../protocols/psi/plan.ts'
import type { PsiPlan } from '../../protocols/psi/plan.ts'
import { permutePacked, randomPermutation } from '../../protocols/psi/permutation.ts'
import { psiResultOps } from '../psi/result-store.ts'
import { prepareIds } from '../psi/prepare-ids.ts'
import { createLane } from './psi-lane.ts'
import type { Lane } from './psi-lane.ts'
import type { PsiPartyResult, SessionContext, SessionInput } from './psi-session-types.ts'

export type { PsiPartyResult, SessionContext, SessionInput } from './psi-session-types.ts'

const ACK = encodePsi({ v: PSI_WIRE_VERSION })

function deferred<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => undefined)
  return { promise, resolve, reject }
}

/**
 * A PSI session at one party. Created on `open` (or by the leader's driver).
 * @example
 * const s = new PsiSession(ctx, input); await s.open(from, openRequest)
 */
export class PsiSession {
  readonly ctx: SessionContext
  readonly input: SessionInput
  readonly controller = new AbortController()
  state: PsiPartyState | undefined
  plan: PsiPlan | undefined
  #key = psiKeygen()
  #unique: string[] = []
  #uniqueRows: Uint32Array = new Uint32Array(0)
  #perm: Uint32Array = new Uint32Array(0)
  #queue: Promise<unknown> = Promise.resolve()
  #chainWork = new Map<number, Promise<void>>()
  #workError: unknown
  #lanes = new Map<string, Lane>()
  #timer: ReturnType<typeof setTimeout> | undefined
  readonly started = deferred<void>()
  readonly chainsDone = deferred<void>()
  readonly result = deferred<PsiPartyResult>()
  /** Leader: the fully blinded set of each chain. Shuffler: index 0 buffers the leader's set. */
  readonly finals = new Map<number, Uint8Array>()
  #sigma: Uint32Array | undefined
  #positions: Uint32Array[] = []
  #ended = false

  constructor(ctx: SessionContext, input: SessionInput) {
    this.ctx = ctx
    this.input = input
    this.arm()
  }

  get sessionId(): string | undefined {
    return this.plan?.sessionId
  }

  get ended(): boolean {
    return this.#ended
  }

  arm(): void {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(
      () => void this.fail(new PsiAbortedError('the PSI session expired')),
      this.ctx.ttlMs
    )
    this.#timer.unref?.()
  }

  /** Runs one machine step in the session's queue and appends its audit records. */
  step(input: PsiPartyInput): Promise<PsiPartyOutput> {
    const run = this.#queue.then(async () => {
      if (this.#ended && input.phase !== 'aborted') throw new PsiAbortedError('the PSI session has ended')
      this.arm()
      const out = psiPartyMachine.step(this.state!, input)
      this.state = out.state
      for (const rec of out.output.audit) {
        if (rec.kind !== 'psi-done') await this.ctx.audit.append(rec.kind, rec.body, { actor: input.from })
      }
      return out.output
    })
    this.#queue = run.catch(() => undefined)
    return run
  }

  /** Handles `open` (also the leader's own). Returns our set size. */
  async open(from: string, req: Extract<PsiRequest, { phase: 'open' }>): Promise<number> {
    const { unique, rows } = prepareIds(this.input.ids, req.normalisation)
    this.#unique = unique
    this.#uniqueRows = rows
    this.state = psiPartyMachine.init({ ...this.input.local, setSize: unique.length })
    const out = await this.step({ phase: 'open', from, request: req })
    this.plan = this.state.plan
    return out.setSize!
  }

  /** Handles `start`; production of our own chain begins once `produce()` is called. */
  async start(from: string, req: PsiStart): Promise<string> {
    const out = await this.step({ phase: 'start', from, request: req })
    const n = this.plan!.parties.length
    const self = this.state!.selfIndex
    if (self === 0)
      for (let c = 0; c < n; c++) this.finals.set(c, new Uint8Array(req.sizes[c]! * PSI_POINT_BYTES))
    if (self === n - 1) this.finals.set(0, new Uint8Array(req.sizes[0]! * PSI_POINT_BYTES))
    this.#perm = randomPermutation(this.#unique.length)
    this.started.resolve()
    if (
      self === 0 &&
      this.state!.chains.size > 0 &&
      [...this.state!.chains.values()].every((c) => c.total === 0)
    ) {
      this.chainsDone.resolve()
    }
    return out.produceTo!
  }

  lane(chain: number, to: string): Lane {
    const key = `${chain}\u0000${to}`
    let lane = this.#lanes.get(key)
    if (lane === undefined) {
      lane = createLane({
        transport: this.ctx.transport,
        protocol: PROTOCOLS.psi,
        to,
        timeoutMs: this.ctx.requestTimeoutMs,
        signal: this.controller.signal,
        onError: (err) => void this.fail(err)
      })
      this.#lanes.set(key, lane)
    }
    return lane
  }

  #batchFrame(chain: number, seq: number, points: Uint8Array): Uint8Array {
    return encodePsi({
      v: PSI_WIRE_VERSION,
      sessionId: this.plan!.sessionId,
      phase: 'batch',
      chain,
      seq,
      points
    })
  }

  /** Hashes, blinds and streams our own set (in our secret order) to the first hop. */
  async produce(to: string): Promise<void> {
    try {
      const plan = this.plan!
      const chain = this.state!.selfIndex
      const lane = this.lane(chain, to)
      const total = this.#unique.length
      for (let seq = 0; seq * plan.batchPoints < total; seq++) {
        const count = batchCount(total, plan.batchPoints, seq)
        const ids = new Array<string>(count)
        for (let i = 0; i < count; i++) ids[i] = this.#unique[this.#perm[seq * plan.batchPoints + i]!]!
        const points = await this.ctx.pool.hashAndBlind(ids, this.input.local.salt, this.#key)
        this.controller.signal.throwIfAborted()
        await lane.push(this.#batchFrame(chain, seq, points))
      }
      await lane.drain()
    } catch (err) {
      await this.fail(err)
    }
  }

  /** Handles a batch: validate, then blind and dispatch in chain order; resolves when handed on. */
  async batch(from: string, req: PsiBatch): Promise<Uint8Array> {
    await this.started.promise
    const out = await this.step({ phase: 'batch', from, request: req })
    const action = out.batch!
    const previous = this.#chainWork.get(action.chain) ?? Promise.resolve()
    const work = previous.then(async () => {
      const points = action.kind === 'home' ? req.points : await this.ctx.pool.blind(this.#key, req.points)
      if (action.kind === 'relay') {
        await this.lane(action.chain, action.to).push(this.#batchFrame(action.chain, action.seq, points))
      } else {
        this.finals.get(action.chain)!.set(points, action.offset * PSI_POINT_BYTES)
      }
    })
    // Recorded first (reactions run in registration order), so no later check can miss it.
    work.catch((err: unknown) => {
      this.#workError ??= err
    })
    // The next batch of this chain waits for this one; a failure fails the session, not the chain.
    this.#chainWork.set(
      action.chain,
      work.catch(() => undefined)
    )
    await work
    if (action.kind === 'shuffle' && action.complete) void this.#sendHome()
    if (action.allComplete && this.state!.selfIndex === 0) {
      await Promise.all(this.#chainWork.values())
      if (this.#workError === undefined && !this.#ended) this.chainsDone.resolve()
    }
    return ACK
  }

  /** Shuffler: permutes the leader's fully blinded set and streams it to the leader. */
  async #sendHome(): Promise<void> {
    try {
      const plan = this.plan!
      const buf = this.finals.get(0)!
      const n = buf.length / PSI_POINT_BYTES
      this.#sigma = randomPermutation(n)
      const shuffled = permutePacked(buf, this.#sigma, PSI_POINT_BYTES)
      this.finals.delete(0)
      const lane = this.lane(0, plan.parties[0]!)
      for (let seq = 0; seq * plan.batchPoints < n; seq++) {
        const from = seq * plan.batchPoints * PSI_POINT_BYTES
        const to = from + batchCount(n, plan.batchPoints, seq) * PSI_POINT_BYTES
        await lane.push(this.#batchFrame(0, seq, shuffled.subarray(from, to)))
      }
      await lane.drain()
    } catch (err) {
      await this.fail(err)
    }
  }

  /** Handles a result chunk (positions in our permuted set). */
  async resultChunk(from: string, req: PsiResult): Promise<Uint8Array> {
    const out = await this.step({ phase: 'result', from, request: req })
    this.#positions.push(out.positions!.values)
    return ACK
  }

  /** Shuffler: maps positions in the permuted leader set back to the leader's order. */
  async unshuffle(from: string, req: PsiUnshuffle): Promise<Uint8Array> {
    const out = await this.step({ phase: 'unshuffle', from, request: req })
    const sigma = this.#sigma!
    const mapped = out.positions!.values.map((q) => sigma[q]!)
    return encodePsi({ v: PSI_WIRE_VERSION, positions: packPositions(mapped) })
  }

  /** Rows of our dataset for positions in our permuted set. */
  rowsOf(positions: Uint32Array): Uint32Array {
    return positions.map((p) => this.#uniqueRows[this.#perm[p]!]!)
  }

  /** Handles `done` (also the leader's own): stores the result with its audit entry. */
  async done(from: string, req: PsiDone, leaderIndex?: Uint32Array): Promise<PsiPartyResult> {
    const out = await this.step({ phase: 'done', from, request: req })
    const plan = this.plan!
    const state = this.state!
    const self = state.selfIndex
    const learned = plan.reveal[self]!
    let index: Uint32Array | undefined
    if (learned === 'intersection') {
      if (self === 0) index = leaderIndex
      else {
        const all = new Uint32Array(out.finished!.intersectionSize)
        let at = 0
        for (const part of this.#positions) {
          all.set(part, at)
          at += part.length
        }
        index = this.rowsOf(all)
      }
    }
    const n = plan.parties.length
    const result: PsiPartyResult = {
      sessionId: plan.sessionId,
      jobId: plan.jobId,
      role: self === 0 ? 'leader' : self === n - 1 ? 'shuffler' : 'party',
      learned,
      parties: [...plan.parties],
      setSizes: [...state.sizes!],
      intersectionSize: out.finished!.intersectionSize,
      index,
      dataset: this.input.dataset
    }
    const body = { ...out.audit[0]!.body, dataset: this.input.dataset, rowsStored: index?.length ?? 0 }
    const ops =
      this.ctx.store === undefined
        ? []
        : await psiResultOps(
            this.ctx.store,
            {
              sessionId: result.sessionId,
              jobId: result.jobId,
              dataset: result.dataset,
              parties: result.parties,
              setSizes: result.setSizes,
              intersectionSize: result.intersectionSize,
              learned
            },
            index
          )
    await this.ctx.audit.append('psi-done', body, { actor: from, with: ops })
    this.#end()
    this.result.resolve(result)
    return result
  }

  /** Handles an `abort` from a party. */
  async aborted(from: string, req: PsiAbort): Promise<void> {
    if (this.#ended) return
    try {
      await this.step({ phase: 'aborted', from, request: req })
    } finally {
      this.#end()
      const err = new PsiAbortedError(`PSI session aborted by ${from}: ${req.reason}`, req.code)
      this.started.reject(err)
      this.chainsDone.reject(err)
      this.result.reject(err)
    }
    // The leader passes an abort on to every other party.
    const plan = this.plan
    if (plan !== undefined && plan.parties[0] === this.ctx.transport.self) {
      const frame = encodePsi({ ...req, v: PSI_WIRE_VERSION })
      const others = plan.parties.slice(1).filter((p) => p !== from)
      await Promise.all(
        others.map((p) =>
          this.ctx.transport.request(p, PROTOCOLS.psi, frame, { timeoutMs: 5000 }).catch(() => undefined)
        )
      )
    }
  }

  /**
   * Local failure: logs the abort, zeroes the key, tells the others (the leader tells everyone, a
   * party tells the leader) and rejects every waiter with the error.
   */
  async fail(err: unknown): Promise<void> {
    if (this.#ended) return
    const code = (err as { code?: string })?.code ?? 'COHORT_INTERNAL'
    const reason = String((err as Error)?.message ?? err).slice(0, 300)
    const self = this.ctx.transport.self
    const sessionId = this.plan?.sessionId
    if (this.state !== undefined && this.state.phase !== 'done' && this.state.phase !== 'aborted') {
      const request = { v: 1 as const, sessionId: sessionId ?? '-', phase: 'abort' as const, code, reason }
      await this.step({ phase: 'aborted', from: self, request }).catch(() => undefined)
    }
    this.#end()
    this.started.reject(err)
    this.chainsDone.reject(err)
    this.result.reject(err)
    const plan = this.plan
    if (plan === undefined) return
    const targets = plan.parties[0] === self ? plan.parties.slice(1) : [plan.parties[0]!]
    const frame = encodePsi({ v: PSI_WIRE_VERSION, sessionId: plan.sessionId, phase: 'abort', code, reason })
    await Promise.all(
      targets.map((p) =>
        this.ctx.transport.request(p, PROTOCOLS.psi, frame, { timeoutMs: 5000 }).catch(() => undefined)
      )
    )
  }

  #end(): void {
    if (this.#ended) return
    this.#ended = true
    clearTimeout(this.#timer)
    this.#key.fill(0)
    this.controller.abort(new PsiAbortedError('the PSI session ended'))
    if (this.plan !== undefined) this.ctx.onEnd(this.plan.sessionId)
  }
}
