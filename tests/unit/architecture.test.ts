import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, resolve, sep } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../..')
const LAYERS = [
  'crypto',
  'protocols',
  'configs',
  'platform',
  'node',
  'coordinator',
  'simulations',
  'cli',
  'bench',
  'tests'
] as const
type Layer = (typeof LAYERS)[number]

/**
 * Which top-level folders each folder may import (docs/architecture.md: cli -> simulations -> node |
 * coordinator -> platform -> protocols -> crypto; configs (schemas only, importing nothing but
 * crypto's error base) importable from protocols up). `platform` holds what both roles run (storage, audit log, identity, libp2p),
 * so node and coordinator never import each other.
 */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  crypto: ['crypto'],
  protocols: ['protocols', 'crypto', 'configs'],
  configs: ['configs', 'crypto'],
  platform: ['platform', 'protocols', 'crypto', 'configs'],
  node: ['node', 'platform', 'protocols', 'crypto', 'configs'],
  coordinator: ['coordinator', 'platform', 'protocols', 'crypto', 'configs'],
  simulations: ['simulations', 'node', 'coordinator', 'platform', 'protocols', 'crypto', 'configs'],
  cli: ['cli', 'simulations', 'node', 'coordinator', 'platform', 'protocols', 'crypto', 'configs'],
  bench: [...LAYERS],
  tests: [...LAYERS]
}

function* tsFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) yield* tsFiles(p)
    else if (name.endsWith('.ts')) yield p
  }
}

function importSpecifiers(source: string): string[] {
  const out: string[] = []
  const re =
    /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|new URL\(\s*['"]([^'"]+)['"]/g
  for (const m of source.matchAll(re)) out.push((m[1] ?? m[2] ?? m[3])!)
  return out
}

describe('dependency rule', () => {
  it('every relative import points down the layer graph', () => {
    const violations: string[] = []
    for (const layer of LAYERS) {
      let files: string[] = []
      try {
        files = [...tsFiles(join(ROOT, layer))]
      } catch {
        continue
      }
      for (const file of files) {
        for (const spec of importSpecifiers(readFileSync(file, 'utf8'))) {
          if (!spec.startsWith('.')) continue
          const target = relative(ROOT, resolve(file, '..', spec)).split(sep)[0] as Layer
          if (!LAYERS.includes(target)) continue
          if (!ALLOWED[layer].includes(target))
            violations.push(`${relative(ROOT, file)} imports ${spec} (${layer} -> ${target})`)
        }
      }
    }
    expect(violations).toEqual([])
  })

  it('crypto/ does no I/O', () => {
    const io = /from\s+['"](node:)?(fs|fs\/promises|net|http|https|dgram|child_process)['"]/
    const offenders = [...tsFiles(join(ROOT, 'crypto'))].filter((f) => io.test(readFileSync(f, 'utf8')))
    expect(offenders.map((f) => relative(ROOT, f))).toEqual([])
  })
})
