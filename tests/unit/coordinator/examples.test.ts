import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseJobFile } from '../../../coordinator/api/job-file.ts'
import { jobFileMediaType } from '../../../coordinator/api/job-file.ts'

const DIR = resolve(import.meta.dirname, '../../../configs/examples')
const files = readdirSync(DIR).filter((f) => /\.(json|ya?ml)$/.test(f))

describe('example job files (configs/examples, docs/jobs.md)', () => {
  it('cover logreg, mlp and k-means, each with and without DP', () => {
    const seen = new Set<string>()
    for (const f of files) {
      const c = parseJobFile(readFileSync(join(DIR, f), 'utf8'), jobFileMediaType(f))
      seen.add(`${c.model.kind}/${c.dp === 'none' ? 'plain' : 'dp'}`)
    }
    expect([...seen].sort()).toEqual([
      'kmeans/dp',
      'kmeans/plain',
      'logreg/dp',
      'logreg/plain',
      'mlp/dp',
      'mlp/plain'
    ])
  })

  it.each(files)('%s is a valid job file and is documented in docs/jobs.md', (f) => {
    const c = parseJobFile(readFileSync(join(DIR, f), 'utf8'), jobFileMediaType(f))
    expect(c.name).toMatch(/^(credit|wa-churn|lending-club)-/)
    expect(c.secureAggregation).toBe('secagg+')
    expect(readFileSync(resolve(DIR, '../../docs/jobs.md'), 'utf8')).toContain(`configs/examples/${f}`)
  })
})
