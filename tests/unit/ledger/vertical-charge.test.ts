import { describe, expect, it } from 'vitest'
import { createRdpAccountant } from '../../../crypto/dp/accountants/rdp.ts'
import { gaussianEvent, selfComposedEvent } from '../../../crypto/dp/events.ts'
import { createLedger } from '../../../node/ledger/ledger.ts'
import { ledgerCharge } from '../../../node/vertical/charge.ts'
import { vlrEpsilon, vlrReleasesPerBatch } from '../../../protocols/vertical/lr/options.ts'
import { memoryNode } from '../../helpers/memory-node.ts'

/**
 * A vertical LR run charges its ε epoch by epoch, each charge carrying the epoch's Gaussian events
 * (one per feature party and the label party's own noisy gradient); the ledger composes them to
 * exactly the run's ε (as pure-DP stand-ins the same increments composed to less than was spent).
 */
describe('vertical charges on the ledger', () => {
  const z = 3
  const epochs = 8
  const features = 2
  const delta = 1e-5
  const increments = Array.from(
    { length: epochs },
    (_, e) =>
      vlrEpsilon({ noiseMultiplier: z, epochs: e + 1, featureParties: features, delta }) -
      vlrEpsilon({ noiseMultiplier: z, epochs: e, featureParties: features, delta })
  )
  const total = vlrEpsilon({ noiseMultiplier: z, epochs, featureParties: features, delta })
  // what the protocol's chargeEpoch books per epoch
  const epochEvent = selfComposedEvent(gaussianEvent(z), vlrReleasesPerBatch(features))

  it('a run is epochs × (feature parties + 1) Gaussian mechanisms', () => {
    expect(vlrReleasesPerBatch(features)).toBe(features + 1)
    const direct = createRdpAccountant()
      .compose(gaussianEvent(z), epochs * (features + 1))
      .epsilon(delta)
    expect(total).toBeCloseTo(direct, 12)
    const featuresOnly = createRdpAccountant()
      .compose(gaussianEvent(z), epochs * features)
      .epsilon(delta)
    expect(total).toBeGreaterThan(featuresOnly * 1.1)
  })

  async function book(cap: number): Promise<{ spent: number; refusedAt?: number }> {
    const { store, audit } = await memoryNode()
    const ledger = createLedger(store, audit, () => ({ epsilon: cap, delta }))
    const charge = ledgerCharge({
      ledger,
      scope: { dataset: 'credit' },
      jobId: 'job-v',
      actor: 'c',
      capDelta: delta
    })
    for (const [e, epsilon] of increments.entries()) {
      try {
        await charge({
          epsilon,
          delta: e === 0 ? delta : 0,
          mechanism: 'gaussian',
          event: epochEvent
        })
      } catch {
        return { spent: (await ledger.report({ dataset: 'credit' })).spent.epsilon, refusedAt: e }
      }
    }
    return { spent: (await ledger.report({ dataset: 'credit' })).spent.epsilon }
  }

  it('the ledger spends exactly the run’s ε, epoch by epoch', async () => {
    const r = await book(100)
    expect(r.refusedAt).toBeUndefined()
    expect(r.spent).toBeCloseTo(total, 9)
  })

  it('a cap equal to the run’s ε lets it finish; a slightly smaller one stops the last epoch', async () => {
    expect((await book(total * 1.0001)).refusedAt).toBeUndefined()
    const r = await book(total * 0.999)
    expect(r.refusedAt).toBe(epochs - 1)
    expect(r.spent).toBeLessThanOrEqual(total * 0.999)
  })
})
