import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// Randomness for keys, masks and noise comes from crypto.getRandomValues only (design.md, house rules).
const root = fileURLToPath(new URL('../../..', import.meta.url))

function tsFiles(dir: string): string[] {
  let entries: string[]
  try {
    entries = readdirSync(dir)
  } catch {
    return []
  }
  const out: string[] = []
  for (const name of entries) {
    if (name === 'node_modules') continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...tsFiles(p))
    else if (p.endsWith('.ts')) out.push(p)
  }
  return out
}

describe('randomness sources', () => {
  it('no Math.random in crypto/, protocols/ or node/', () => {
    const files = ['crypto', 'protocols', 'platform', 'node', 'coordinator'].flatMap((d) =>
      tsFiles(join(root, d))
    )
    expect(files.length).toBeGreaterThan(0)
    const offenders = files
      .filter((f) => /Math\s*\.\s*random/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(root, f))
    expect(offenders).toEqual([])
  })

  it('crypto/dp production code imports nothing from tests/ (no seeded generator)', () => {
    const files = tsFiles(join(root, 'crypto', 'dp'))
    expect(files.length).toBeGreaterThan(5)
    const importRe = /(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g
    const offenders: string[] = []
    for (const f of files) {
      for (const m of readFileSync(f, 'utf8').matchAll(importRe)) {
        const spec = m[1]!
        if (/tests\/|seeded|helpers\//.test(spec)) offenders.push(`${relative(root, f)} -> ${spec}`)
      }
    }
    expect(offenders).toEqual([])
  })
})
