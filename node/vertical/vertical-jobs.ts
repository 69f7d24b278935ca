/**
 * The node's vertical jobs in memory, phase by phase: accepted → psi → aligned → training → done (or
 * failed). The PSI hook admits a session only for an accepted job, led by that job's label node; the
 * training step loads the aligned slice and runs the node's protocol party in the background while
 * the coordinator polls `status`. Serving partial scores for a stored model (the label node's
 * federated scoring) is kept here too. A node restart forgets running jobs: the coordinator sees the
 * job unknown and fails it.
 */
import { createHash } from 'node:crypto'
import type { FederationManifest } from '../../configs/federation.ts'
import type { NodePolicy } from '../../configs/node-config.ts'
import { isCohortError } from '../../crypto/cohort-error.ts'
import type { AuditLog } from '../../platform/audit/audit-log.ts'
import type { NodeStore } from '../../platform/storage/db.ts'
import type { PsiJobInput, PsiPartyHandle } from '../runners/psi-party.ts'
import type { Transport } from '../../protocols/transport.ts'
import type { VerticalJobSummary, VerticalPhase } from '../../protocols/vertical/job-wire.ts'
import type { VerticalLrModel } from '../../protocols/vertical/lr/index.ts'
import type { VerticalParty } from '../../protocols/vertical/types.ts'
import { trainingScope } from '../jobs/budget-state.ts'
import { effectivePolicy } from '../jobs/dataset-policy.ts'
import type { Ledger } from '../ledger/ledger.ts'
import { readDatasetIds } from '../psi/dataset-ids.ts'
import { getHeContext } from '../../crypto/he/context.ts'
import { CKKS_8192 } from '../../crypto/he/presets.ts'
import { loadAlignedSlice } from './aligned-slice.ts'
import type { AlignedSlice } from './aligned-slice.ts'
import { ledgerCharge } from './charge.ts'
import { VerticalDataError, VerticalPeerError, VerticalStateError } from './errors.ts'
import { getVerticalModel, packParams, storeVerticalModel } from './model-store.ts'
import { verticalKMeans, verticalLr } from './protocols.ts'
import { runVerticalParty } from './run-party.ts'
import { scoreVerticalModel } from './vertical-score.ts'
import type { VerticalScoreResult } from './vertical-score.ts'

/**
 * The job's PSI salt: both sides derive it from the job id, so no party picks it for the others.
 * @example
 * psiSalt('job-20250101-abcdefgh').length // 32
 */
export function psiSalt(jobId: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`cohort/vertical/psi-salt/v1\u0000${jobId}`).digest())
}

/** Parties as the protocols take them. @example partiesOf(summary)[0].role // 'label' */
export function partiesOf(s: { parties: VerticalJobSummary['parties'] }): VerticalParty[] {
  return s.parties.map((p) => ({ peer: p.peerId, name: p.org, role: p.role }))
}

interface Job {
  summary: VerticalJobSummary
  coordinator: string
  features: string[]
  idColumn: string
  phase: VerticalPhase
  intersectionSize?: number
  metrics?: Record<string, number>
  error?: { code: string; message: string }
  controller: AbortController
}

/** What the table needs. */
export interface VerticalJobsDeps {
  identity: { readonly peerId: string }
  store: NodeStore
  audit: Pick<AuditLog, 'append'>
  ledger: Ledger
  policy: () => NodePolicy
  manifest: () => FederationManifest
  transport: Transport
  psi: PsiPartyHandle
  log: (line: string) => void
  timeoutMs?: number
}

const SERVE_TTL_MS = 10 * 60_000
const errorOf = (err: unknown) => ({
  code: isCohortError(err) ? err.code : 'COHORT_INTERNAL',
  message: String((err as Error)?.message ?? err).slice(0, 500)
})

/**
 * Creates the table.
 * @example
 * const jobs = createVerticalJobs({ identity, store, audit, ledger, policy, manifest, transport, psi, log })
 */
export function createVerticalJobs(deps: VerticalJobsDeps) {
  const self = deps.identity.peerId
  const jobs = new Map<string, Job>()
  const serving = new Map<
    string,
    { stop: () => Promise<void>; label: string; jobId: string; timer: NodeJS.Timeout }
  >()
  const pending = new Set<Promise<unknown>>()
  const background = (p: Promise<unknown>) => {
    const q = p.catch(() => undefined).finally(() => pending.delete(q))
    pending.add(q)
  }

  function job(jobId: string, from: string, summary?: VerticalJobSummary): Job {
    const j = jobs.get(jobId)
    if (j === undefined) throw new VerticalStateError(`vertical job ${jobId} was not accepted by this node`)
    if (j.coordinator !== from)
      throw new VerticalPeerError(`vertical job ${jobId} was offered by another coordinator`)
    if (summary !== undefined && JSON.stringify(summary) !== JSON.stringify(j.summary))
      throw new VerticalStateError(
        `the request's job summary differs from the one this node accepted for ${jobId}`
      )
    return j
  }

  async function fail(jobId: string, j: Job, err: unknown): Promise<void> {
    j.phase = 'failed'
    j.error = errorOf(err)
    deps.log(`vertical job ${jobId} failed here: ${j.error.message} [${j.error.code}]`)
    await deps.audit.append('vertical-failed', { jobId, ...j.error }, { actor: j.coordinator })
  }

  /** Loads the aligned slice and warms the protocol code, so the party starts at once afterwards. */
  async function prepare(jobId: string, j: Job) {
    const s = j.summary
    const aligned = await loadAlignedSlice(deps.store, {
      jobId,
      dataset: s.dataset,
      features: j.features,
      label: s.role === 'label' && s.model === 'logreg',
      split: s.role === 'label',
      signal: j.controller.signal
    })
    if (aligned.slice.rows !== j.intersectionSize)
      throw new VerticalDataError(
        `the aligned slice has ${aligned.slice.rows} rows, the PSI found ${j.intersectionSize}`
      )
    await (s.model === 'logreg' ? verticalLr() : verticalKMeans())
    await getHeContext(CKKS_8192.id)
    return aligned
  }

  async function train(jobId: string, j: Job, aligned: AlignedSlice): Promise<void> {
    const s = j.summary
    const policy = effectivePolicy(deps.policy(), s.dataset)
    let spent = 0
    const charge =
      s.dp === null
        ? undefined
        : ledgerCharge({
            ledger: deps.ledger,
            scope: trainingScope(s.dataset),
            jobId,
            actor: j.coordinator,
            capDelta: policy.delta,
            onCharged: (t) => {
              spent = t.epsilon
            }
          })
    const running = runVerticalParty(
      {
        transport: deps.transport,
        sessionId: jobId,
        parties: partiesOf(s),
        slice: aligned.slice,
        signal: j.controller.signal,
        ...(deps.timeoutMs === undefined ? {} : { timeoutMs: deps.timeoutMs }),
        ...(charge === undefined ? {} : { charge }),
        onProgress: (e) => deps.log(`vertical ${jobId} ${e.phase} ${e.step}/${e.of}`)
      },
      s,
      aligned.testRows
    )
    await deps.audit.append(
      'vertical-started',
      { jobId, role: s.role, model: s.model, rows: aligned.slice.rows, features: aligned.slice.cols },
      { actor: j.coordinator }
    )
    const out = await running
    const packed = packParams(out.params)
    await storeVerticalModel(deps.store, deps.audit, {
      jobId,
      version: 1,
      name: s.name,
      descriptor: {
        kind: out.kind,
        role: s.role,
        features: aligned.slice.cols,
        ...(out.k === undefined ? {} : { k: out.k })
      },
      ...packed,
      prep: { features: [...aligned.slice.featureNames], ...aligned.prep },
      dataset: s.dataset,
      model: out.model,
      parties: s.parties,
      sessionId: jobId,
      metrics: out.metrics,
      coordinator: j.coordinator,
      receivedAt: new Date().toISOString()
    })
    // What left this node: its protocol messages to the other parties (their kinds are the
    // protocol's; no row or id), and for the label party the aggregate metrics to the coordinator.
    await deps.audit.append(
      'vertical-released',
      {
        jobId,
        role: s.role,
        model: s.model,
        to: s.parties.filter((p) => p.peerId !== self).map((p) => p.org),
        rows: aligned.slice.rows,
        features: aligned.slice.cols,
        dp: s.dp === null ? null : { epsilonCharged: spent, delta: s.dp.delta },
        metricsToCoordinator: Object.keys(out.metrics)
      },
      { actor: j.coordinator }
    )
    j.metrics = out.metrics
    j.phase = 'done'
    deps.log(`vertical job ${jobId} done here (${s.role})`)
  }

  return {
    size: () => jobs.size,
    accept(
      jobId: string,
      summary: VerticalJobSummary,
      coordinator: string,
      features: string[],
      idColumn: string
    ) {
      const j = jobs.get(jobId)
      if (j !== undefined && (j.phase === 'psi' || j.phase === 'training')) {
        if (JSON.stringify(j.summary) !== JSON.stringify(summary))
          throw new VerticalStateError(`vertical job ${jobId} is already running here with another summary`)
        return
      }
      j?.controller.abort()
      jobs.set(jobId, {
        summary,
        coordinator,
        features,
        idColumn,
        phase: 'accepted',
        controller: new AbortController()
      })
    },

    /** The PSI session hook: our ids for a session of an accepted job led by its label node. */
    async psiInput(r: {
      jobId: string
      sessionId: string
      leader: string
    }): Promise<PsiJobInput | undefined> {
      const j = jobs.get(r.jobId)
      if (j === undefined) return undefined
      const label = j.summary.parties.find((p) => p.role === 'label')!
      if (r.leader !== label.peerId) return undefined
      if (r.leader !== self) {
        if (j.phase !== 'accepted' && j.phase !== 'aligned' && j.phase !== 'failed') return undefined
        j.phase = 'psi'
        delete j.error
        deps.psi.result(r.sessionId).then(
          (res) => {
            j.intersectionSize = res.intersectionSize
            j.phase = 'aligned'
          },
          (err) => void fail(r.jobId, j, err)
        )
      } else if (j.phase !== 'psi') return undefined
      return {
        salt: psiSalt(r.jobId),
        ids: await readDatasetIds(deps.store, j.summary.dataset, j.idColumn),
        othersMayLearn: 'intersection',
        dataset: j.summary.dataset
      }
    },

    async startPsi(jobId: string, summary: VerticalJobSummary, from: string, _ids: string[]) {
      const j = job(jobId, from, summary)
      if (summary.role !== 'label') throw new VerticalStateError('only the label node leads the PSI')
      if (j.phase === 'psi' || j.phase === 'aligned' || j.phase === 'training' || j.phase === 'done') return
      j.phase = 'psi'
      delete j.error
      const label = summary.parties.find((p) => p.role === 'label')!
      const others = summary.parties.filter((p) => p.peerId !== label.peerId).map((p) => p.peerId)
      background(
        deps.psi
          .lead({
            jobId,
            parties: [self, ...others],
            reveal: 'intersection',
            normalisation: summary.normalisation,
            signal: j.controller.signal
          })
          .then(
            (r) => {
              j.intersectionSize = r.intersectionSize
              j.phase = 'aligned'
            },
            (err) => fail(jobId, j, err)
          )
      )
    },

    async startTraining(jobId: string, summary: VerticalJobSummary, from: string) {
      const j = job(jobId, from, summary)
      if (j.phase === 'training' || j.phase === 'done') return
      if (j.phase !== 'aligned')
        throw new VerticalStateError(`vertical job ${jobId} is ${j.phase} here, not aligned`)
      const busy = [...jobs].find(([id, x]) => id !== jobId && x.phase === 'training')
      if (busy !== undefined) throw new VerticalStateError(`this node is training vertical job ${busy[0]}`)
      j.phase = 'training'
      let aligned: AlignedSlice
      try {
        aligned = await prepare(jobId, j)
      } catch (err) {
        await fail(jobId, j, err)
        throw err
      }
      background(train(jobId, j, aligned).catch((err) => fail(jobId, j, err)))
      // The party registers its handler within a few ticks (its code and HE context are loaded):
      // let it, before the coordinator starts the label party.
      await new Promise((r) => setTimeout(r, 50))
    },

    status(jobId: string, from: string) {
      const j = job(jobId, from)
      return {
        phase: j.phase,
        ...(j.intersectionSize === undefined ? {} : { intersectionSize: j.intersectionSize }),
        ...(j.metrics === undefined || j.summary.role !== 'label' ? {} : { metrics: j.metrics }),
        ...(j.error === undefined ? {} : { error: j.error })
      }
    },

    async cancel(jobId: string, from: string, reason: string) {
      const j = jobs.get(jobId)
      if (j === undefined) return
      if (j.coordinator !== from)
        throw new VerticalPeerError(`vertical job ${jobId} was offered by another coordinator`)
      j.controller.abort(new VerticalStateError(`the job was cancelled: ${reason}`))
      jobs.delete(jobId)
      await deps.audit.append('vertical-cancelled', { jobId, reason }, { actor: from })
    },

    async serve(jobId: string, sessionId: string, from: string) {
      const record = await getVerticalModel(deps.store, jobId)
      const label = record.parties.find((p) => p.role === 'label')
      if (label?.peerId !== from)
        throw new VerticalPeerError(`${from} is not the label party of vertical model ${jobId}`)
      if (record.descriptor.role !== 'feature' || record.descriptor.kind !== 'vertical-logreg')
        throw new VerticalStateError(
          `this node serves partial scores only for its logistic-regression feature slices`
        )
      if (serving.has(sessionId)) return
      // One model is served at a time (the scoring protocol has one handler per node).
      for (const [id, other] of serving) await this.stopServing(id, other.label).catch(() => undefined)
      const aligned = await loadAlignedSlice(deps.store, {
        jobId,
        dataset: record.dataset,
        features: record.prep.features,
        label: false,
        prep: record.prep
      })
      const { serveVerticalScores } = await verticalLr()
      const stop = await serveVerticalScores({
        transport: deps.transport,
        sessionId,
        parties: partiesOf(record),
        slice: aligned.slice,
        model: record.model as VerticalLrModel,
        ...(deps.timeoutMs === undefined ? {} : { timeoutMs: deps.timeoutMs })
      })
      const timer = setTimeout(
        () => void this.stopServing(sessionId, from).catch(() => undefined),
        SERVE_TTL_MS
      )
      timer.unref?.()
      serving.set(sessionId, { stop, label: from, jobId, timer })
      await deps.audit.append(
        'vertical-serving',
        { jobId, sessionId, to: label.org, rows: aligned.slice.rows },
        { actor: from }
      )
    },

    async stopServing(sessionId: string, from: string) {
      const s = serving.get(sessionId)
      if (s === undefined) return
      if (s.label !== from) throw new VerticalPeerError(`${from} did not open scoring session ${sessionId}`)
      serving.delete(sessionId)
      clearTimeout(s.timer)
      await s.stop()
      await deps.audit.append('vertical-served', { jobId: s.jobId, sessionId }, { actor: from })
    },

    score(jobId: string, options: { signal?: AbortSignal }): Promise<VerticalScoreResult> {
      return scoreVerticalModel(deps, jobId, options)
    },

    async close() {
      for (const j of jobs.values()) j.controller.abort(new VerticalStateError('the node is stopping'))
      for (const [id, s] of serving) {
        clearTimeout(s.timer)
        serving.delete(id)
        await s.stop().catch(() => undefined)
      }
      await Promise.allSettled([...pending])
    }
  }
}
