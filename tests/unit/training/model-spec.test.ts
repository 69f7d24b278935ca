import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  denseLayers,
  flattenParams,
  kmeansSpec,
  logregSpec,
  makeLayout,
  mlpSpec,
  modelSpec,
  unflattenParams
} from '../../../protocols/training/model-spec.ts'
import { publicSeedSource, seedBytes } from '../../../protocols/training/public-seed.ts'

const SHAPE = expect.objectContaining({ code: 'COHORT_MODEL_SHAPE' })
const CONFIG = expect.objectContaining({ code: 'COHORT_TRAINING_CONFIG' })

describe('model specs', () => {
  it('lay out logreg, mlp and kmeans parameters', () => {
    expect(logregSpec({ features: 26 }).layout.length).toBe(27)
    const mlp = mlpSpec({ features: 119, hidden: [32] })
    expect(mlp.layout.length).toBe(119 * 32 + 32 + 32 + 1)
    expect(mlp.layout.tensors.map((t) => t.name)).toEqual([
      'dense0/kernel',
      'dense0/bias',
      'dense1/kernel',
      'dense1/bias'
    ])
    expect(denseLayers(mlp)).toEqual([
      { kernel: 'dense0/kernel', bias: 'dense0/bias', inputs: 119, outputs: 32 },
      { kernel: 'dense1/kernel', bias: 'dense1/bias', inputs: 32, outputs: 1 }
    ])
    expect(kmeansSpec({ k: 4, features: 26, candidates: 3 }).layout.length).toBe(3 * 4 * 26)
    expect(modelSpec({ kind: 'mlp', features: 3, hidden: [4, 5] }).layout.length).toBe(
      3 * 4 + 4 + 4 * 5 + 5 + 5 + 1
    )
  })

  it('flatten ∘ unflatten is the identity, and unflatten never aliases', () => {
    const spec = mlpSpec({ features: 3, hidden: [2] })
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true }), {
          minLength: spec.layout.length,
          maxLength: spec.layout.length
        }),
        (values) => {
          const v = Float64Array.from(values)
          const p = spec.unflatten(v)
          expect(spec.flatten(p)).toEqual(v)
          v[0] = 12345
          expect(p['dense0/kernel']![0]).not.toBe(12345)
        }
      )
    )
  })

  it('init is deterministic per public seed; Glorot bounds; logreg starts at zero', () => {
    const spec = mlpSpec({ features: 10, hidden: [6] })
    const a = spec.flatten(spec.init(seedBytes('job-1')))
    expect(spec.flatten(spec.init(seedBytes('job-1')))).toEqual(a)
    expect(spec.flatten(spec.init(seedBytes('job-2')))).not.toEqual(a)
    const k0 = spec.init(seedBytes('job-1'))['dense0/kernel']!
    const limit = Math.sqrt(6 / 16)
    expect(k0.every((w) => Math.abs(w) <= limit)).toBe(true)
    expect(Math.max(...k0.map(Math.abs))).toBeGreaterThan(limit / 2)
    expect(spec.init(seedBytes('job-1'))['dense0/bias']!.every((b) => b === 0)).toBe(true)
    expect(
      logregSpec({ features: 4 })
        .flatten(logregSpec({ features: 4 }).init(seedBytes('x')))
        .every((v) => v === 0)
    ).toBe(true)
  })

  it('k-means init draws N(0, initScale^2) centroids from the public seed', () => {
    const spec = kmeansSpec({ k: 50, features: 40, initScale: 2 })
    const c = spec.init(seedBytes('km')).centroids!
    const mean = c.reduce((a, b) => a + b, 0) / c.length
    const sd = Math.sqrt(c.reduce((a, b) => a + (b - mean) ** 2, 0) / c.length)
    expect(Math.abs(mean)).toBeLessThan(0.15)
    expect(Math.abs(sd - 2)).toBeLessThan(0.1)
  })

  it('the public-seed stream is reproducible and label-separated', () => {
    const a = publicSeedSource(seedBytes('s'))
    const b = publicSeedSource(seedBytes('s'))
    const c = publicSeedSource(seedBytes('s'), 'cohort/other-purpose/v1')
    const xs = Array.from({ length: 2000 }, () => a.nextUint32())
    expect(Array.from({ length: 2000 }, () => b.nextUint32())).toEqual(xs)
    expect(Array.from({ length: 2000 }, () => c.nextUint32())).not.toEqual(xs)
  })

  it('refuses wrong lengths and bad descriptors', () => {
    const spec = logregSpec({ features: 2 })
    expect(() => spec.unflatten(new Float64Array(2))).toThrow(SHAPE)
    expect(() => spec.flatten({ 'dense0/kernel': new Float64Array(2) })).toThrow(SHAPE)
    expect(() => flattenParams(makeLayout([{ name: 'w', shape: [2] }]), { w: new Float64Array(3) })).toThrow(
      SHAPE
    )
    expect(() => unflattenParams(makeLayout([{ name: 'w', shape: [2] }]), new Float64Array(1))).toThrow(SHAPE)
    expect(() =>
      makeLayout([
        { name: 'w', shape: [2] },
        { name: 'w', shape: [1] }
      ])
    ).toThrow(CONFIG)
    expect(() => logregSpec({ features: 0 })).toThrow(CONFIG)
    expect(() => mlpSpec({ features: 2, hidden: [0] })).toThrow(CONFIG)
    expect(() => kmeansSpec({ k: 2, features: 2, initScale: -1 })).toThrow(CONFIG)
    expect(() => modelSpec({ kind: 'tree' } as never)).toThrow(CONFIG)
    expect(() => denseLayers(kmeansSpec({ k: 2, features: 2 }))).toThrow(CONFIG)
  })
})
