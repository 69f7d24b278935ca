import { describe, expect, it } from 'vitest'
import { scenarioFrom } from '../../../configs/scenario.ts'
import type { JobRecord, RoundRecord } from '../../../coordinator/jobs/types.ts'
import { buildReport, roundMetrics } from '../../../simulations/report/build-report.ts'
import type { CollectedRun } from '../../../simulations/report/build-report.ts'
import { stripVolatile } from '../../../simulations/report/report.ts'
import { REPORT_CHARTS, reportHtml } from '../../../simulations/report/report-html.ts'
import { sweepHtml } from '../../../simulations/report/sweep-html.ts'
import { sweepMarkdown } from '../../../simulations/sweep.ts'
import type { SweepResult } from '../../../simulations/sweep.ts'

const EVIL = 'lender</script><img src=x onerror=alert(1)>'

function collected(over: { secureAggregation?: string; dp?: unknown } = {}): CollectedRun {
  const scenario = scenarioFrom(
    {
      name: 'unit',
      dataset: { synthetic: { rows: 100 } },
      partition: { kind: 'iid', parties: 2 },
      model: { kind: 'logreg', rounds: 2 },
      secureAggregation: over.secureAggregation ?? 'secagg+',
      dp: over.dp ?? { mode: 'record', epsilon: 1, clipNorm: 1 }
    },
    '/tmp'
  )
  const rounds: RoundRecord[] = [1, 2].map((round) => ({
    jobId: 'sim-unit-s1',
    round,
    participants: ['peerA', 'peerB'],
    survivors: round === 1 ? ['peerA', 'peerB'] : ['peerA'],
    dropped: round === 1 ? [] : ['peerB'],
    metrics: {
      auc: 0.7 + round / 100,
      ks: 0.4,
      logloss: 0.5,
      accuracy: 0.8,
      participants: 2,
      stepNorm: 0.2,
      n: Number.NaN
    },
    timings: { train: 10, secagg: 5, eval: 3, total: 20 + round },
    bytes: 1000
  }))
  const job: JobRecord = {
    id: 'sim-unit-s1',
    config: {} as JobRecord['config'],
    status: 'completed',
    createdAt: '',
    updatedAt: '',
    round: 2,
    participants: [],
    declined: []
  }
  return {
    scenario,
    dataset: { name: 'synthetic', rows: 100, trainRows: 80, testRows: 20, features: ['a', 'b'] },
    parties: [
      { name: EVIL, rows: 50, trainRows: 40, testRows: 10, positiveRate: 0.2 },
      { name: 'b', rows: 50, trainRows: 40, testRows: 10, positiveRate: 0.25 }
    ],
    job,
    rounds,
    orgOf: (p) => (p === 'peerA' ? EVIL : 'b'),
    ledger: {
      [EVIL]: [
        [0, 0.1, 1e-6],
        [1, 0.5, 1e-6],
        [2, 0.9, 1e-6]
      ],
      b: [
        [0, 0.1, 1e-6],
        [1, 0.5, 1e-6]
      ]
    },
    nodeFailures: [],
    bytesByRound: new Map([
      [0, 300],
      [1, 1000],
      [2, 900],
      [-1, 50]
    ]),
    bytesPerParty: new Map([
      ['b', 1100],
      [EVIL, 1150]
    ]),
    faults: [{ round: 2, kind: 'dropout', party: 'b', phase: 'masked-input', attempt: 1 }],
    sanity: new Map(),
    sanityBound: null,
    exact: { auc: 0.72, accuracy: 0.8, logloss: 0.5, ks: 0.41, other: Number.NaN },
    baselines: { centralized: { auc: 0.75 }, localOnly: { [EVIL]: { auc: 0.7 }, b: { auc: 0.68 } } },
    timing: { wallMs: 100, setupMs: 10, jobMs: 50, baselinesMs: 30, evaluationMs: 10 }
  }
}

describe('report.json', () => {
  it('holds the output contract of design.md', () => {
    const r = buildReport(collected())
    for (const k of [
      'scenario',
      'model',
      'mode',
      'parties',
      'rounds',
      'metrics',
      'baselines',
      'privacy',
      'comm',
      'timing',
      'faults'
    ])
      expect(r).toHaveProperty(k)
    expect(r.metrics.test).toEqual({ auc: 0.72, accuracy: 0.8, logloss: 0.5, ks: 0.41 })
    expect(r.baselines.centralized).toEqual({ auc: 0.75 })
    expect(Object.keys(r.baselines.localOnly)).toEqual([EVIL, 'b'])
    expect(r.privacy.perParty).toEqual({
      [EVIL]: { epsilon: 0.9, delta: 1e-6 },
      b: { epsilon: 0.5, delta: 1e-6 }
    })
    expect(r.comm).toMatchObject({ bytesTotal: 2250, bytesSetup: 300, bytesPublish: 50 })
    expect(r.timing.wallMs).toBe(100)
    expect(r.rounds[1]).toMatchObject({
      round: 2,
      survivors: [EVIL],
      dropped: ['b'],
      bytes: 900,
      epsilon: { [EVIL]: 0.9, b: 0.5 },
      faults: [{ kind: 'dropout', party: 'b' }]
    })
    // NaN never reaches JSON.
    expect(r.rounds[0]!.metrics).not.toHaveProperty('n')
    expect(JSON.parse(JSON.stringify(r))).toEqual(r)
  })

  it('reports no ε without DP', () => {
    const r = buildReport(collected({ dp: 'none' }))
    expect(r.privacy).toEqual({
      perParty: { [EVIL]: { epsilon: null, delta: null }, b: { epsilon: null, delta: null } },
      target: null
    })
    expect(r.rounds[0]!.epsilon).toEqual({ [EVIL]: null, b: null })
  })

  it('keeps timings under `timing` keys only, so stripping them leaves the reproducible part', () => {
    const a = buildReport(collected())
    const b = buildReport({
      ...collected(),
      rounds: collected().rounds.map((r) => ({
        ...r,
        timings: { train: 99, secagg: 9, eval: 9, total: 999 }
      })),
      timing: { wallMs: 1, setupMs: 1, jobMs: 1, baselinesMs: 1, evaluationMs: 1 }
    })
    expect(a).not.toEqual(b)
    expect(stripVolatile(a)).toEqual(stripVolatile(b))
    expect(JSON.stringify(stripVolatile(a))).not.toMatch(/"timing":/)
    const c = buildReport({ ...collected(), bytesByRound: new Map([[1, 5]]) })
    expect(stripVolatile(c)).not.toEqual(stripVolatile(a))
  })

  it('treats byte counts as volatile under homomorphic aggregation', () => {
    const a = buildReport(collected({ secureAggregation: 'he' }))
    const b = buildReport({ ...collected({ secureAggregation: 'he' }), bytesByRound: new Map([[1, 5]]) })
    expect(a.reproducible.excluded).toEqual(['timing', 'bytes*'])
    expect(stripVolatile(a)).toEqual(stripVolatile(b))
  })

  it("maps k-means round metrics to the baselines' keys", () => {
    expect(
      roundMetrics('kmeans', { inertia: 900, testInertia: 230, simplifiedSilhouette: 0.3, fitInertia: 1 })
    ).toEqual({
      inertia: 230,
      trainInertia: 900,
      simplifiedSilhouette: 0.3
    })
  })
})

describe('report.html', () => {
  const html = reportHtml(buildReport(collected()))

  it('is self-contained: Chart.js inlined, no external resources', () => {
    expect(html).toMatch(/Chart\.js v4/)
    expect(html).not.toMatch(/<script[^>]+src=/)
    expect(html).not.toMatch(/<link[^>]+href=/)
    expect(html).not.toMatch(/(src|href)="https?:/)
  })

  it('has one canvas per chart and sets the rendered count', () => {
    expect(html.match(/<canvas /g)).toHaveLength(REPORT_CHARTS)
    expect(html).toMatch(/document\.body\.dataset\.chartsRendered = String\(drawn\)/)
  })

  it('escapes party names in the markup and in the inlined data', () => {
    expect(html).not.toContain(EVIL)
    expect(html).toContain('lender&#60;/script&#62;')
    const data = html.slice(html.indexOf('<script type="application/json" id="charts">'))
    expect(data.slice(0, data.indexOf('</script>'))).toContain('lender\\u003c/script>')
  })
})

describe('sweep outputs', () => {
  const result: SweepResult = {
    scenario: 's',
    model: 'logreg',
    metric: 'auc',
    params: [{ key: 'dp.epsilon', values: [1, 'inf'] }],
    points: [
      {
        params: { 'dp.epsilon': 1 },
        label: 'dp.epsilon=1',
        status: 'completed',
        metrics: { auc: 0.7 },
        epsilonSpent: 1,
        roundsCompleted: 2,
        dir: 'x'
      },
      {
        params: { 'dp.epsilon': 'inf' },
        label: 'dp.epsilon=inf',
        status: 'completed',
        metrics: { auc: 0.8 },
        epsilonSpent: null,
        roundsCompleted: 2,
        dir: 'y'
      }
    ],
    baselines: { centralized: { auc: 0.81 }, localOnly: {} }
  }

  it('writes a Markdown table with the centralized row', () => {
    const md = sweepMarkdown(result)
    expect(md).toContain('| dp.epsilon | auc | max ε spent | status |')
    expect(md).toContain('| 1 | 0.7000 | 1.0000 | completed |')
    expect(md).toContain('| inf | 0.8000 | – | completed |')
    expect(md).toContain('| centralized | 0.8100 |  |  |')
  })

  it('draws one self-contained chart', () => {
    const html = sweepHtml(result)
    expect(html.match(/<canvas /g)).toHaveLength(1)
    expect(html).not.toMatch(/<script[^>]+src=/)
  })
})
