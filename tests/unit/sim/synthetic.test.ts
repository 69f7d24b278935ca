import { describe, expect, it } from 'vitest'
import { SyntheticConfig } from '../../../configs/scenario.ts'
import { importDataset } from '../../../node/data/import.ts'
import { parseDatasetSpec } from '../../../node/data/spec.ts'
import { generateSynthetic } from '../../../simulations/data/synthetic.ts'
import { memoryNode } from '../../helpers/memory-node.ts'

const cfg = (over: Record<string, unknown> = {}) => SyntheticConfig.parse({ rows: 4000, ...over })

async function* bytes(text: string) {
  yield new TextEncoder().encode(text)
}

describe('synthetic data', () => {
  it('is reproducible by seed and differs across seeds', () => {
    const a = generateSynthetic(cfg(), 1)
    expect(generateSynthetic(cfg(), 1).lines).toEqual(a.lines)
    expect(generateSynthetic(cfg(), 2).lines).not.toEqual(a.lines)
    expect(generateSynthetic(cfg({ seed: 5 }), 1).lines).toEqual(generateSynthetic(cfg({ seed: 5 }), 2).lines)
  })

  it('has the requested rows, features and positive rate', () => {
    const d = generateSynthetic(cfg({ rows: 20_000, features: 12, positiveRate: 0.1 }), 3)
    expect(d.lines).toHaveLength(20_000)
    expect(d.header.split(',')).toHaveLength(2 + 12 + 3)
    const rate = d.labels.reduce((a, b) => a + b, 0) / d.labels.length
    expect(rate).toBeGreaterThan(0.085)
    expect(rate).toBeLessThan(0.115)
  })

  it('has a known segment structure: rows are nearest to their own segment mean', () => {
    const F = 8
    const d = generateSynthetic(cfg({ rows: 3000, segments: 4, separation: 6 }), 4)
    const x = d.lines.map((l) =>
      l
        .split(',')
        .slice(2, 2 + F)
        .map(Number)
    )
    const sd = Array.from({ length: F }, (_, j) => {
      const m = x.reduce((a, r) => a + r[j]!, 0) / x.length
      return Math.sqrt(x.reduce((a, r) => a + (r[j]! - m) ** 2, 0) / x.length) || 1
    })
    const means = Array.from({ length: 4 }, (_, k) => {
      const rows = x.filter((_, i) => d.segments[i] === k)
      expect(rows.length).toBeGreaterThan(0)
      return Array.from({ length: F }, (_, j) => rows.reduce((a, r) => a + r[j]!, 0) / rows.length)
    })
    let right = 0
    x.forEach((r, i) => {
      const dist = means.map((m) => m.reduce((a, mj, j) => a + ((r[j]! - mj) / sd[j]!) ** 2, 0))
      if (dist.indexOf(Math.min(...dist)) === d.segments[i]) right++
    })
    expect(right / x.length).toBeGreaterThan(0.9)
  })

  it('imports through the node import with its own minimal spec (train/test split by row_index)', async () => {
    const d = generateSynthetic(cfg({ rows: 2000 }), 6)
    const schema = parseDatasetSpec(d.spec)
    expect(schema.split).toEqual({ column: 'row_index', modulus: 5, testRemainder: 0 })
    expect(schema.ignored).toContain('segment')
    const node = await memoryNode()
    try {
      const { manifest } = await importDataset(node, {
        name: 'synthetic',
        schema,
        csv: bytes(`${d.header}\n${d.lines.join('\n')}\n`)
      })
      expect(manifest.rows).toBe(2000)
    } finally {
      await node.store.close()
    }
  })
})
