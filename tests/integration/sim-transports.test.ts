/**
 * The same scenario over real libp2p on 127.0.0.1 (TCP, Noise, yamux, membership gater) gives the
 * same rounds, metrics and bytes as over the loopback transport: identities are seeded, the protocol
 * code is the same, and only the transport differs. Homomorphic aggregation and plaintext runs go
 * through the same harness.
 */
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { scenarioFrom } from '../../configs/scenario.ts'
import { stripVolatile } from '../../simulations/report/report.ts'
import { runScenario } from '../../simulations/run-scenario.ts'

const DATA = resolve(import.meta.dirname, '../../datasets/credit_data')

const scenario = (over: Record<string, unknown>) =>
  scenarioFrom(
    {
      name: 'transports',
      seed: 5,
      dataset: { csv: `${DATA}/data.csv`, spec: `${DATA}/spec.json` },
      partition: { file: `${DATA}/partitions/horizontal_natural.json` },
      model: { kind: 'logreg', rounds: 2 },
      faults: [{ dropout: { party: 'lender_freelance', round: 2, phase: 'masked-input' } }],
      secagg: { threshold: 0.6 },
      minParticipants: 2,
      baselines: { centralized: false, localOnly: false },
      ...over
    },
    DATA
  )

describe('transports and aggregation modes', () => {
  it('libp2p and loopback agree on everything but the transport', async () => {
    const loop = await runScenario(scenario({}))
    const p2p = await runScenario(scenario({ transport: 'libp2p' }))
    expect(p2p.job.status).toBe('completed')
    expect(p2p.mode.transport).toBe('libp2p')
    expect(p2p.rounds[1]!.dropped).toEqual(['lender_freelance'])
    const same = (r: typeof loop) => ({ ...(stripVolatile(r) as Record<string, unknown>), mode: null })
    expect(same(p2p)).toEqual(same(loop))
  })

  it('runs homomorphic aggregation (a key-holder member) and plaintext sums', async () => {
    const he = await runScenario(scenario({ secureAggregation: 'he', faults: [] }))
    expect(he.job.status).toBe('completed')
    expect(he.reproducible.excluded).toContain('bytes*')
    const plain = await runScenario(
      scenario({
        secureAggregation: 'none',
        faults: [{ dropout: { party: 'lender_freelance', round: 2, phase: 'fit' } }]
      })
    )
    expect(plain.job.status).toBe('completed')
    expect(plain.rounds[1]!.survivors).not.toContain('lender_freelance')
    // The same updates summed three ways: the models agree to the fixed-point precision.
    const heAuc = he.rounds[0]!.metrics.auc!
    expect(Math.abs(plain.rounds[0]!.metrics.auc! - heAuc)).toBeLessThan(1e-3)
  })
})
